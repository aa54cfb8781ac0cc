"""Echo bot: answers `/start`, and sends every other message back where it came from.

    PACHCA_TOKEN=... PACHCA_WEBHOOK_SECRET=... python examples/echo_bot.py

Without PACHCA_WEBHOOK_SECRET it polls the event history instead (turn on "save event
history" in the bot's settings). See `_runner.py` for every setting.
"""

from __future__ import annotations

from _runner import run

from pachca_async import PachcaClient
from pachca_async.bot import Command, CommandObject, Dispatcher
from pachca_async.webhooks import MessageWebhookPayload

dp = Dispatcher()


@dp.message(Command("start"))
async def start(
    message: MessageWebhookPayload, pachca: PachcaClient, command: CommandObject
) -> None:
    greeting = f"Hi! Send me anything and I will send it back. {command.args}".strip()
    await pachca.messages.create_message(
        entity_type=message.entity_type, entity_id=message.entity_id, content=greeting
    )


@dp.message()
async def echo(message: MessageWebhookPayload, pachca: PachcaClient) -> None:
    if not message.content:  # a message with only files has no text
        return
    await pachca.messages.create_message(
        entity_type=message.entity_type, entity_id=message.entity_id, content=message.content
    )


if __name__ == "__main__":
    run(dp)
