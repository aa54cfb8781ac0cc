"""The SDK's main job in a couple of seconds, with no Pachca account and no token: `make demo`.

    python examples/demo.py

1. starts a stand-in for the Pachca API on 127.0.0.1 (`pachca_async.testing.FakePachca`),
2. runs the README's quick start through `PachcaClient` against it,
3. starts the echo bot of this folder (its webhook receiver) and delivers it a webhook signed
   the way Pachca signs them, then the same delivery tampered with,
4. stops everything.

Nothing leaves 127.0.0.1. The exit code is 0 only if every step did what the transcript says.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import logging
import sys
import textwrap
import time

from aiohttp import web
from echo_bot import dp

from pachca_async.bot import WebhookReceiver
from pachca_async.testing import FakePachca, signed_delivery

SECRET = "demo-signing-secret"
"""The echo bot's signing secret (Pachca shows it in the bot's settings)."""
CHAT = 198
OTHER_CHATS = ["Design", "Releases", "Support", "Random", "Ops", "Sales"]
USER = 7
"""The person who writes to the bot."""
PAGE = 3


class Failed(Exception):
    """A step did not do what the transcript says."""


def check(condition: bool, what: str) -> None:
    if not condition:
        raise Failed(what)


def show(action: str, outcome: str) -> None:
    print(f"   {action:<48} -> {outcome}", flush=True)


def note(text: str) -> None:
    print(textwrap.fill(text, 96, initial_indent="   ", subsequent_indent="     "), flush=True)


def answered(api: FakePachca) -> str:
    """The requests the stand-in API answered, in short."""
    seen = [f"{call.method} {call.path} {call.status}" for call in api.calls]
    runs = [(line, len(list(same))) for line, same in itertools.groupby(seen)]
    return ", ".join(line if n == 1 else f"{line} (x{n})" for line, n in runs)


async def quick_start(api: FakePachca) -> None:
    """The README's quick start, call by call."""
    async with api.client("demo-user-token") as pachca:
        msg = await pachca.messages.create_message(entity_id=CHAT, content="Hello")
        show(f'create_message(entity_id={CHAT}, content="Hello")', f"message {msg.id}")
        same = await pachca.messages.get_message(msg.id)
        show(f"get_message({msg.id})", f"{same.content!r}, sent {same.created_at:%H:%M:%S} UTC")
        check(same.content == "Hello", "the message read back differs")

        page = await pachca.chats.list_chats(limit=PAGE)
        names = ", ".join(chat.name for chat in page.items)
        show(f"list_chats(limit={PAGE})", f"one page: {names}; has_next={page.has_next}")
        before = len(api.calls_to("GET", "/chats"))
        every = [chat.name async for chat in pachca.chats.list_chats(limit=PAGE)]
        pages = len(api.calls_to("GET", "/chats")) - before
        show(
            f"async for chat in list_chats(limit={PAGE})", f"all {len(every)} chats, {pages} pages"
        )
        check(sorted(every) == sorted(c["name"] for c in api.chats.values()), "chats were missed")

        reaction = await pachca.reactions.add_reaction(msg.id, code="👍")
        show(f'add_reaction({msg.id}, code="👍")', f"{reaction.code} from user {reaction.user_id}")
    note(f"The stand-in API answered: {answered(api)}")


async def echo_bot(api: FakePachca) -> None:
    """Run the echo bot's webhook receiver, with a client of its own, while deliveries come."""
    async with api.client("demo-bot-token") as pachca:
        receiver = WebhookReceiver(dp, pachca, secret=SECRET)
        runner = web.AppRunner(receiver.application("/pachca"), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            host, port = runner.addresses[0][:2]
            url = f"http://{host}:{port}/pachca"
            print(f"\n3. The echo bot (examples/echo_bot.py) receiving webhooks at {url}")
            await deliveries(api, receiver, url)
        finally:
            await runner.cleanup()  # lets running handlers finish


async def deliveries(api: FakePachca, receiver: WebhookReceiver, url: str) -> None:
    """A signed delivery is answered through the client; a tampered one is refused."""
    written = api.add_message("ping", chat_id=CHAT, user_id=USER)
    event = api.message_event(written)
    status, text = await api.deliver(url, event, secret=SECRET)
    show(f'webhook: user {USER} wrote "ping" in chat {CHAT}, signed', f"{status} {text}")
    async with asyncio.timeout(5):
        await receiver.join()
    expected = {"message": {"entity_type": "discussion", "entity_id": CHAT, "content": "ping"}}
    replies = api.calls_to("POST", "/messages")[1:]  # the first is the quick start's
    check(status == 200 and replies == [expected], "the bot did not answer")
    show("the echo bot answers through PachcaClient", "the stand-in API received:")
    print(f"      POST /messages {json.dumps(replies[0])}")

    body, headers = signed_delivery(event, SECRET)
    tampered = body.replace(b'"ping"', b'"pong"')
    status, text = await api.deliver(url, tampered, headers=headers)
    show('the same webhook, "ping" changed to "pong"', f"{status} {text}")
    async with asyncio.timeout(5):
        await receiver.join()
    check(status == 401, "the tampered delivery was accepted")
    check(api.calls_to("POST", "/messages")[1:] == replies, "the bot answered a forgery")
    show("the bot did not answer it", "still one reply")


async def main() -> None:
    started = time.perf_counter()
    print("pachca-async demo: no Pachca account, no token; nothing leaves 127.0.0.1\n")
    async with FakePachca() as api:
        print(f"1. A stand-in Pachca API (pachca_async.testing.FakePachca) at {api.base_url}")
        api.add_chat("General", id=CHAT)
        for name in OTHER_CHATS:
            api.add_chat(name)
        print(f"   {len(api.chats)} chats in memory; PachcaClient only gets its base_url")
        print("\n2. The README quick start, through PachcaClient")
        await quick_start(api)
        await echo_bot(api)
    refused = sum(call.status >= 400 for call in api.calls)
    print(
        f"\n4. Stopped the bot, then the API ({len(api.calls)} requests answered, "
        f"{refused} refused). Done in {time.perf_counter() - started:.2f} s."
    )


def run() -> int:
    if isinstance(sys.stdout, io.TextIOWrapper):  # a terminal that cannot show "👍" still works
        sys.stdout.reconfigure(errors="replace")
    # what the bot logs (its refusal of the tampered delivery) goes into the transcript
    logging.basicConfig(format="   (bot log: %(message)s)", stream=sys.stdout)
    try:
        asyncio.run(main())
    except Failed as failure:
        print(f"\nDEMO FAILED: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run())
