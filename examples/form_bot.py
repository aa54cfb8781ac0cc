"""Form bot: `/feedback` posts a button; the button opens a form; the answer is checked.

    PACHCA_TOKEN=... PACHCA_WEBHOOK_SECRET=... python examples/form_bot.py

Forms need webhooks: only the answer to a delivery can show a form's field errors.
"""

from __future__ import annotations

from _runner import run

from pachca_async import PachcaClient
from pachca_async.bot import CallbackId, Command, Dispatcher
from pachca_async.buttons import data_button, keyboard
from pachca_async.forms import (
    Form,
    FormErrors,
    Trigger,
    header,
    open_form,
    radio,
    text_input,
)
from pachca_async.webhooks import (
    ButtonWebhookPayload,
    MessageWebhookPayload,
    ViewSubmitWebhookPayload,
)

FEEDBACK = Form(
    "Feedback",
    [
        header("How was your week?"),
        radio("score", "Score", ["1", "2", "3", "4", "5"], required=True),
        text_input("comment", "What could be better?", multiline=True, max_length=1000),
    ],
    submit_text="Send",
    callback_id="feedback",
)

dp = Dispatcher()


@dp.message(Command("feedback"))
async def offer(message: MessageWebhookPayload, pachca: PachcaClient) -> None:
    await pachca.messages.create_message(
        entity_type=message.entity_type,
        entity_id=message.entity_id,
        content="Two questions, one minute.",
        buttons=keyboard([data_button("Leave feedback", "feedback")]),
    )


@dp.button_click(lambda click: click.data == "feedback")
async def ask(click: ButtonWebhookPayload, pachca: PachcaClient, trigger: Trigger) -> None:
    await open_form(pachca, trigger, FEEDBACK)  # within 3 s of the click


@dp.view_submit(CallbackId("feedback"))
async def received(form: ViewSubmitWebhookPayload, pachca: PachcaClient) -> FormErrors | None:
    score = int(form.data["score"])
    comment = str(form.data.get("comment") or "").strip()
    if score <= 2 and len(comment) < 10:
        return FormErrors(comment="Please tell us what went wrong (10 characters or more)")
    if form.chat_id is not None:
        await pachca.messages.create_message(
            entity_id=form.chat_id, content=f"Thank you! Score: {score}/5."
        )
    return None  # closes the form


if __name__ == "__main__":
    run(dp)
