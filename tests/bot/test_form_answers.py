"""Form submissions answered once: by the webhook's HTTP answer (within the receiver's window) or,
for a bot that polls, through `views.submit_view_response`, with no deadline on the SDK's side
(Pachca states none; it refuses a late answer as `submit_expired`); early from the handler, or
from what it returns. Against FakePachca, on the virtual clock."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import attrs
import pytest

from pachca_async import InvalidRequestError, NotFoundError, PachcaClient, ValidationError
from pachca_async.bot import Dispatcher
from pachca_async.forms import FormAnswer, FormErrors, SubmitExpiredError, answer_form
from pachca_async.testing import FakePachca, run_virtual
from pachca_async.webhooks import ViewSubmitWebhookPayload

from .fake_api import NOW, running
from .test_polling import at, poll_for, with_api

ERRORS = FormErrors(comment="Tell us what went wrong")


def test_a_handler_answers_the_webhook_early_and_works_on() -> None:
    async def scenario() -> None:
        dp = Dispatcher()
        loop = asyncio.get_running_loop()
        outcomes: list[Any] = []

        @dp.view_submit()
        async def on_submit(form: ViewSubmitWebhookPayload, answer: FormAnswer) -> Any:
            await answer(ERRORS)
            try:
                await answer()
            except InvalidRequestError as error:
                outcomes.append(str(error))
            await asyncio.sleep(10)  # long work, after the user has the answer
            outcomes.append("done")
            return None  # already answered: not a second answer

        async with running(dp) as bot:
            event = {
                **bot.fake.view_submit_event({"comment": ""}, user_id=7),
                "webhook_timestamp": NOW,
            }
            started = loop.time()
            status, text = await bot.send(event)
            assert (status, loop.time() - started) == (400, pytest.approx(0, abs=0.01))
            assert text == '{"errors": {"comment": "Tell us what went wrong"}}'
            assert outcomes == [f"form submission {event['submit_id']} was answered already"]
            await bot.receiver.join()
            assert outcomes[-1] == "done"
            submission = bot.fake.submissions[event["submit_id"]]
            assert submission["answer"] == {"via": "webhook", "errors": ERRORS.errors}
            assert not [c for c in bot.fake.calls if c.path.endswith("/submit_response")]

    run_virtual(scenario())


def test_a_webhook_answered_for_lack_of_time_cannot_be_answered_again() -> None:
    async def scenario() -> list[str]:
        dp = Dispatcher()
        noted: list[str] = []

        @dp.view_submit()
        async def on_submit(form: ViewSubmitWebhookPayload, answer: FormAnswer) -> None:
            noted.append(f"{answer.remaining():.1f} s left")
            await asyncio.sleep(4)
            try:
                await answer(ERRORS)
            except InvalidRequestError as error:
                noted.append(str(error))

        async with running(dp, submit_timeout=2.5) as bot:
            event = {**bot.fake.view_submit_event({}, user_id=7), "webhook_timestamp": NOW}
            assert await bot.send(event) == (200, "ok")  # closed at 2.5 s
            await bot.receiver.join()
            assert bot.fake.submissions[event["submit_id"]]["answer"]["errors"] is None
            assert not [c for c in bot.fake.calls if c.path.endswith("/submit_response")]
        return noted

    left, refusal = run_virtual(scenario())
    assert left == "2.5 s left"
    assert refusal.endswith(
        "was closed already: the webhook's time to answer ran out before this answer"
    )


def _polled(verdict: Any, *, work: float = 0.5, early: bool = False, **fake_options: Any) -> Any:
    """One form submission polled at once, its handler working `work` seconds first; what the
    fake recorded: the answers sent, the submission, when an early answer went."""

    async def scenario(fake: FakePachca, pachca: PachcaClient) -> Any:
        event = fake.view_submit_event({"comment": ""}, user_id=7, callback_id="feedback")
        fake.add_event(event, created_at=at(0))
        dp = Dispatcher(bot_id=1)
        answered_at: list[float] = []
        deadlines: list[float | None] = []

        @dp.view_submit()
        async def on_submit(form: ViewSubmitWebhookPayload, answer: FormAnswer) -> Any:
            deadlines.append(answer.remaining())
            if early:
                await answer(verdict)
                answered_at.append(asyncio.get_running_loop().time())
                await asyncio.sleep(30)
            await asyncio.sleep(work)
            return verdict

        await poll_for(dp, pachca, 40 if early else work + 2)
        assert deadlines == [None]  # no deadline on this side
        path = f"/views/{event['view_id']}/submit_response"
        return fake.calls_to("POST", path), fake.submissions[event["submit_id"]], answered_at

    return with_api(scenario, **fake_options)


def test_a_polled_submission_gets_the_returned_errors_through_the_api() -> None:
    calls, submission, _ = _polled(ERRORS)
    assert calls == [{"submit_id": submission["submit_id"], "errors": dict(ERRORS.errors)}]
    assert submission["answer"] == {"via": "api", "errors": dict(ERRORS.errors)}


def test_a_polled_submission_is_closed_when_the_handler_returns_nothing() -> None:
    calls, submission, _ = _polled(None)
    assert calls == [{"submit_id": submission["submit_id"]}]
    assert submission["answer"] == {"via": "api", "errors": None}


def test_a_polled_submission_answered_early_is_answered_once() -> None:
    calls, submission, answered_at = _polled(ERRORS, early=True)
    assert len(calls) == 1
    assert submission["answer"]["errors"] == dict(ERRORS.errors)
    assert len(answered_at) == 1


def test_a_slow_polled_answer_is_sent_and_pachca_decides() -> None:
    """The SDK keeps no deadline of its own: an answer after 60 s is sent, and taken when the
    API still takes it (this fake, set to 120 s)."""
    calls, submission, _ = _polled(ERRORS, work=60, answer_expiry=120)
    assert len(calls) == 1
    assert submission["answer"] == {"via": "api", "errors": dict(ERRORS.errors)}


def test_a_polled_answer_pachca_refuses_as_late_is_logged_typed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="pachca_async.bot"):
        calls, submission, _ = _polled(ERRORS, work=6, answer_expiry=5)
    assert len(calls) == 1  # sent: the refusal is Pachca's
    assert submission["answer"] is None
    record = next(r for r in caplog.records if r.exc_info)
    assert isinstance(record.exc_info[1], SubmitExpiredError)  # type: ignore[index]
    assert "too late to answer" in caplog.text


def test_pachca_refuses_an_answer_that_is_late_repeated_or_for_another_view() -> None:
    async def scenario(fake: FakePachca, pachca: PachcaClient) -> None:
        event = fake.view_submit_event({}, user_id=7)
        submission = ViewSubmitWebhookPayload(
            callback_id=None,
            private_metadata=None,
            chat_id=None,
            user_id=7,
            view_id="another-view",
            submit_id=event["submit_id"],
            data={},
            webhook_timestamp=1,
        )
        with pytest.raises(NotFoundError, match="no submission of view another-view"):
            await answer_form(pachca, submission)
        real = attrs.evolve(submission, view_id=event["view_id"])
        await answer_form(pachca, real, ERRORS)
        with pytest.raises(SubmitExpiredError) as repeated:
            await answer_form(pachca, real)
        assert isinstance(repeated.value, ValidationError)
        assert (repeated.value.status, repeated.value.errors[0].code) == (422, "submit_expired")

        late = fake.view_submit_event({}, user_id=7)
        await asyncio.sleep(5.5)
        with pytest.raises(SubmitExpiredError, match="too late"):
            await pachca.views.submit_view_response(late["view_id"], submit_id=late["submit_id"])

    with_api(scenario, answer_expiry=5)


def test_an_api_form_answer_has_no_deadline_and_goes_once() -> None:
    async def scenario() -> None:
        sent: list[Any] = []

        async def deliver(errors: FormErrors | None) -> None:
            sent.append(errors)

        answer = FormAnswer("v", "s", deliver)
        await asyncio.sleep(3600)
        assert answer.remaining() is None
        await answer(ERRORS)
        with pytest.raises(InvalidRequestError, match="s was answered already"):
            await answer()
        assert (sent, answer.answered) == ([ERRORS], True)

    run_virtual(scenario())


def test_only_form_handlers_can_ask_for_an_answer() -> None:
    dp = Dispatcher()
    dp.view_submit.register(lambda form, answer: None)
    with pytest.raises(InvalidRequestError, match="answer"):
        dp.message.register(lambda message, answer: None)
