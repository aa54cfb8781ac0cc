"""The webhook receiver on a real aiohttp server, fed signed (and unsigned, forged, stale,
repeated, oversized) deliveries over 127.0.0.1; timing cases run on the virtual clock."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from pachca_async import PachcaClient
from pachca_async.bot import Dispatcher, WebhookReceiver
from pachca_async.forms import Form, FormErrors, Trigger, TriggerExpiredError, open_form, text_input
from pachca_async.testing import run_virtual
from pachca_async.webhooks import (
    ButtonWebhookPayload,
    ExportReadyPayload,
    MessageWebhookPayload,
    UnknownWebhookPayload,
    ViewSubmitWebhookPayload,
    signature,
)

from .fake_api import BOT_ID, NOW, SECRET, click, message, running, signed, submit


def echo_dispatcher(seen: list[Any]) -> Dispatcher:
    dp = Dispatcher()

    @dp.message()
    async def echo(msg: MessageWebhookPayload, pachca: PachcaClient) -> None:
        seen.append(msg.content)
        await pachca.messages.create_message(entity_id=msg.chat_id, content=msg.content)

    @dp.unknown()
    async def unknown(event: UnknownWebhookPayload) -> None:
        seen.append(event.raw)

    return dp


async def test_accepts_at_once_and_runs_the_handler_in_the_background() -> None:
    release = asyncio.Event()
    done: list[str] = []
    dp = Dispatcher()

    @dp.message()
    async def slow(msg: MessageWebhookPayload, pachca: PachcaClient) -> None:
        await release.wait()
        await pachca.messages.create_message(entity_id=msg.chat_id, content="answer")
        done.append(msg.content)

    async with running(dp) as bot:
        assert await bot.send(message("hi")) == (200, "ok")
        assert bot.receiver.pending == 1  # answered while the handler still waits
        assert done == []
        release.set()
        await bot.receiver.join()
        assert done == ["hi"]
        assert bot.fake.calls_to("POST", "/messages") == [
            {"message": {"entity_id": 55, "content": "answer"}}
        ]
        assert bot.fake.calls_to("GET", "/oauth/token/info") == [None]  # looked up at startup


async def test_bad_deliveries_are_refused_and_never_reach_a_handler(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[Any] = []
    async with running(echo_dispatcher(seen), max_body_size=4096) as bot:
        body, headers = signed(message("genuine"))
        huge = message("x" * 5000)
        cases = {
            "tampered": (body.replace(b"genuine", b"forged!"), headers),
            "unsigned": (body, {"Content-Type": "application/json"}),
            "malformed signature": (body, {"Pachca-Signature": "not-hex"}),
            "wrong secret": signed(message("genuine"), secret="other-secret"),
            "stale": signed({**message("old"), "webhook_timestamp": NOW - 61}),
            "future": signed({**message("new"), "webhook_timestamp": NOW + 61}),
            "not json": (b"<html>", {"Pachca-Signature": signature(b"<html>", SECRET)}),
            "oversized": signed(huge),
        }
        expected = {
            "tampered": (401, "does not match the body"),
            "unsigned": (401, "header is missing"),
            "malformed signature": (401, "not a hex SHA-256"),
            "wrong secret": (401, "does not match the body"),
            "stale": (401, "too old"),
            "future": (401, "in the future"),
            "not json": (400, "not a JSON object"),
            "oversized": (413, "body over 4096 bytes"),
        }
        with caplog.at_level(logging.WARNING, "pachca_async.bot"):
            for name, (given_body, given_headers) in cases.items():
                status, text = await bot.post(given_body, given_headers)
                assert (status, expected[name][1] in text) == (expected[name][0], True), name
        assert await bot.send(message("genuine")) == (200, "ok")
    assert seen == ["genuine"]
    assert SECRET not in caplog.text
    assert headers["Pachca-Signature"] not in caplog.text


async def test_a_repeated_delivery_is_handled_once() -> None:
    seen: list[Any] = []
    async with running(echo_dispatcher(seen)) as bot:
        first = message("once", message_id=5)
        assert await bot.send(first) == (200, "ok")
        assert await bot.send(first) == (200, "duplicate")
        # Pachca's retry of the same event may carry a new send time
        assert await bot.send({**first, "webhook_timestamp": NOW + 5}) == (200, "duplicate")
        assert await bot.send(message("once", message_id=6)) == (200, "ok")  # another event
    assert seen == ["once", "once"]
    assert len(bot.fake.calls_to("POST", "/messages")) == 2


async def test_unknown_kinds_are_accepted_and_kept_raw() -> None:
    seen: list[Any] = []
    async with running(echo_dispatcher(seen)) as bot:
        new_kind = {"type": "poll", "event": "vote", "poll_id": 1, "webhook_timestamp": NOW}
        assert await bot.send(new_kind) == (200, "ok")
        broken = {"type": "button", "event": "click", "webhook_timestamp": NOW}  # fields missing
        assert await bot.send(broken) == (200, "ok")
    assert seen == [new_kind, broken]
    async with running(Dispatcher()) as bot:  # no handler for them at all: still fine
        assert await bot.send(new_kind) == (200, "ok")


async def test_the_bots_own_messages_are_ignored() -> None:
    seen: list[Any] = []
    async with running(echo_dispatcher(seen)) as bot:
        assert await bot.send(message("mine", user_id=BOT_ID)) == (200, "ok")
        assert await bot.send(message("yours", user_id=8)) == (200, "ok")
    assert seen == ["yours"]
    assert len(bot.fake.calls_to("POST", "/messages")) == 1


async def test_sender_address_allowlist() -> None:
    seen: list[Any] = []
    async with running(echo_dispatcher(seen), allowed_ips=["37.200.70.177"]) as bot:
        assert await bot.send(message("blocked")) == (403, "address not allowed")
    async with running(echo_dispatcher(seen), allowed_ips=["37.200.70.177", "127.0.0.0/8"]) as bot:
        assert await bot.send(message("allowed")) == (200, "ok")
    assert seen == ["allowed"]


async def test_overload_answers_503_and_the_retry_is_not_a_duplicate() -> None:
    release = asyncio.Event()
    seen: list[str] = []
    dp = Dispatcher()

    @dp.message()
    async def slow(msg: MessageWebhookPayload) -> None:
        seen.append(msg.content)
        await release.wait()

    async with running(dp, max_pending=2) as bot:
        assert await bot.send(message("a", message_id=1)) == (200, "ok")
        assert await bot.send(message("b", message_id=2)) == (200, "ok")
        body, headers = signed(message("c", message_id=3))
        async with bot.session.post(bot.url + "/hook", data=body, headers=headers) as response:
            assert response.status == 503
            assert response.headers["Retry-After"] == "1"
        release.set()
        await bot.receiver.join()
        assert await bot.send(message("c", message_id=3)) == (200, "ok")
    assert seen == ["a", "b", "c"]


async def test_export_callbacks_arrive_unsigned_on_their_own_route() -> None:
    seen: list[Any] = []
    dp = Dispatcher()
    dp.export_ready.register(lambda event: seen.append(event))
    ready = {
        "type": "export",
        "event": "ready",
        "export_id": 7,
        "created_at": "2025-03-20T12:33:58Z",
    }
    async with running(dp) as bot:
        assert await bot.post(json.dumps(ready).encode(), {}, "/export-7f3a9c") == (200, "ok")
        forged = json.dumps(message("sneaky")).encode()
        status, _ = await bot.post(forged, {}, "/export-7f3a9c")
        assert status == 400
        assert (await bot.post(json.dumps(ready).encode(), {}))[0] == 401  # not on /hook
    assert len(seen) == 1
    assert isinstance(seen[0], ExportReadyPayload)
    assert seen[0].export_id == 7


def test_form_submissions_get_the_handlers_verdict_within_the_window() -> None:
    async def scenario() -> None:
        dp = Dispatcher()
        loop = asyncio.get_running_loop()
        finished: list[str] = []

        @dp.view_submit()
        async def on_submit(form: ViewSubmitWebhookPayload) -> Any:
            action = form.data["action"]
            if action == "fail":
                raise RuntimeError("handler bug")
            await asyncio.sleep(float(form.data.get("think", 0)))
            finished.append(action)
            if action == "errors":
                return FormErrors(date_end="Must be after the start")
            return None

        async with running(dp) as bot:
            started = loop.time()
            assert await bot.send(submit("f", {"action": "errors", "think": 1})) == (
                400,
                '{"errors": {"date_end": "Must be after the start"}}',
            )
            assert loop.time() - started == pytest.approx(1, abs=0.1)
            # a user submitting the same form again is not a repeated delivery
            assert (await bot.send(submit("f", {"action": "errors", "think": 1})))[0] == 400
            assert await bot.send(submit("f", {"action": "close"})) == (200, "ok")
            assert (await bot.send(submit("f", {"action": "fail"})))[0] == 500
            started = loop.time()
            assert await bot.send(submit("f", {"action": "slow", "think": 10})) == (200, "ok")
            assert loop.time() - started == pytest.approx(2.5, abs=0.1)  # before Pachca's 3 s
            assert "slow" not in finished
        assert "slow" in finished  # shutdown waited for it

    run_virtual(scenario())


def test_a_click_opens_a_form_within_three_seconds_of_arriving() -> None:
    form = Form("Feedback", [text_input("comment", "Comment")], callback_id="feedback")

    async def scenario() -> list[Any]:
        dp = Dispatcher()
        outcomes: list[Any] = []

        @dp.button_click()
        async def on_click(
            event: ButtonWebhookPayload, pachca: PachcaClient, trigger: Trigger
        ) -> None:
            await asyncio.sleep(float(event.data))
            try:
                await open_form(pachca, trigger, form)
                outcomes.append(("opened", event.trigger_id))
            except TriggerExpiredError as error:
                outcomes.append(("expired", str(error)))

        async with running(dp) as bot:
            assert await bot.send(click("2.9", trigger_id="fast")) == (200, "ok")
            assert await bot.send(click("3.1", trigger_id="late")) == (200, "ok")
            await asyncio.sleep(5)
            assert bot.fake.calls_to("POST", "/views/open") == [
                {
                    "type": "modal",
                    "trigger_id": "fast",
                    "callback_id": "feedback",
                    "view": {
                        "title": "Feedback",
                        "blocks": [{"type": "input", "name": "comment", "label": "Comment"}],
                    },
                }
            ]
        return outcomes

    outcomes = run_virtual(scenario())
    assert outcomes[0] == ("opened", "fast")
    assert outcomes[1][0] == "expired"
    assert "trigger late expired 0.10 s ago" in outcomes[1][1]


def test_shutdown_waits_for_handlers_then_cancels_stragglers() -> None:
    async def scenario() -> tuple[list[str], float]:
        dp = Dispatcher()
        loop = asyncio.get_running_loop()
        log: list[str] = []

        @dp.message()
        async def work(msg: MessageWebhookPayload) -> None:
            try:
                await asyncio.sleep(float(msg.content))
                log.append(f"finished {msg.content}")
            except asyncio.CancelledError:
                log.append(f"cancelled {msg.content}")
                raise

        async with running(dp, shutdown_timeout=20) as bot:
            assert (await bot.send(message("5", message_id=1)))[0] == 200
            assert (await bot.send(message("60", message_id=2)))[0] == 200
            started = loop.time()
        return log, loop.time() - started

    log, took = run_virtual(scenario())
    assert log == ["finished 5", "cancelled 60"]
    assert took == pytest.approx(20, abs=0.5)


async def test_deliveries_during_shutdown_get_503() -> None:
    seen: list[Any] = []
    async with running(echo_dispatcher(seen)) as bot:
        await bot.receiver.close()
        status, text = await bot.send(message("late"))
    assert (status, text) == (503, "shutting down")
    assert seen == []


def test_the_secret_is_not_in_the_receivers_repr() -> None:
    receiver = WebhookReceiver(Dispatcher(bot_id=1), PachcaClient("t"), secret=SECRET)
    assert SECRET not in repr(receiver)
    with pytest.raises(ValueError, match="signing secret"):
        WebhookReceiver(Dispatcher(bot_id=1), PachcaClient("t"), secret="")
