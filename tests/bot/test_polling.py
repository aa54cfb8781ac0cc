"""Polling the event history from a local server, on the virtual clock: pace, order, each
event once, deletion, a resumable watermark, and failures that must not stop (or must stop)
the bot."""

from __future__ import annotations

import asyncio
import datetime
import itertools
import json
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from pachca_async import (
    AuthenticationError,
    Handler,
    InvalidRequestError,
    PachcaClient,
    Request,
    Response,
)
from pachca_async._retry_after import MAX_RETRY_AFTER
from pachca_async.bot import Dispatcher, EventPoller, Watermark
from pachca_async.forms import Trigger
from pachca_async.testing import FakePachca, run_virtual
from pachca_async.webhooks import ButtonWebhookPayload, MessageWebhookPayload, UnknownWebhookPayload

from .fake_api import HISTORY, click, entry, history_reads, message

EPOCH = datetime.datetime(2025, 5, 15, 14, 30, tzinfo=datetime.UTC)


def at(seconds: float) -> str:
    stamp = EPOCH + datetime.timedelta(seconds=seconds)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def history(*texts: str, start: int = 0) -> list[dict[str, Any]]:
    """Message events `e<n>`, one second apart."""
    return [
        entry(f"e{start + i:02d}", at(start + i), message(text, message_id=start + i))
        for i, text in enumerate(texts)
    ]


def recording(seen: list[Any]) -> Dispatcher:
    dp = Dispatcher()

    @dp.message()
    async def record(msg: MessageWebhookPayload) -> None:
        seen.append(msg.content)

    return dp


Scenario = Callable[[FakePachca, PachcaClient], Awaitable[Any]]


def with_api(scenario: Scenario, **fake_options: Any) -> Any:
    """Run `scenario` on the virtual clock against a local fake API."""

    async def main() -> Any:
        fake = FakePachca(**fake_options)
        await fake.start()
        pachca = fake.client()
        try:
            return await scenario(fake, pachca)
        finally:
            await pachca.close()
            await fake.close()

    return run_virtual(main())


async def poll_for(dp: Dispatcher, pachca: PachcaClient, seconds: float, **options: Any) -> None:
    options.setdefault("wall_clock", lambda: EPOCH.timestamp() + 100)
    task = asyncio.create_task(dp.start_polling(pachca, handle_signals=False, **options))
    await asyncio.sleep(seconds)
    dp.stop_polling()
    await task


def test_events_run_oldest_first_each_once_and_are_deleted_after_their_handler() -> None:
    seen: list[Any] = []

    async def scenario(fake: FakePachca, pachca: PachcaClient) -> None:
        fake.history = history("one", "two", "three", "four", "five")
        dp = recording(seen)

        @dp.message.middleware
        async def deleted_only_after(handler: Any, event: Any, data: dict[str, Any]) -> Any:
            assert data["update"].history_id not in fake.deleted
            return await handler(event, data)

        await poll_for(dp, pachca, 10, page_size=2)
        assert fake.deleted == ["e00", "e01", "e02", "e03", "e04"]
        assert fake.history == []
        fake.history = history("six", start=10)
        await poll_for(dp, pachca, 3)

    with_api(scenario)
    assert seen == ["one", "two", "three", "four", "five", "six"]


@pytest.mark.parametrize("newest_first", [True, False])
def test_history_reads_stay_within_five_per_two_seconds(newest_first: bool) -> None:
    seen: list[Any] = []

    async def scenario(fake: FakePachca, pachca: PachcaClient) -> list[float]:
        fake.history = history(*[str(i) for i in range(12)])
        await poll_for(recording(seen), pachca, 20, page_size=1, delete=False)
        return history_reads(fake)

    times = with_api(scenario, history_newest_first=newest_first)
    assert seen == [str(i) for i in range(12)]
    assert len(times) >= 12
    for start in times:
        assert sum(start <= t < start + 2 for t in times) <= 5
    assert times[11] - times[0] >= 4  # 12 reads need at least two full windows


def test_handled_events_left_in_the_history_are_not_handled_again() -> None:
    seen: list[Any] = []

    async def scenario(fake: FakePachca, pachca: PachcaClient) -> int:
        fake.history = history("a", "b")
        dp = recording(seen)
        poller = EventPoller(pachca, delete=False, interval=1.0)
        task = asyncio.create_task(dp.start_polling(pachca, poller=poller, handle_signals=False))
        await asyncio.sleep(5)
        fake.history += history("c", start=2)
        await asyncio.sleep(5)
        dp.stop_polling()
        await task
        return len(history_reads(fake))

    reads = with_api(scenario)
    assert seen == ["a", "b", "c"]
    assert 8 <= reads <= 12  # one read a second while idle


def test_a_watermark_resumes_where_the_last_run_stopped() -> None:
    seen: list[Any] = []
    saved: list[str] = []

    async def scenario(fake: FakePachca, pachca: PachcaClient) -> None:
        fake.history = history("a", "b")
        await poll_for(
            recording(seen), pachca, 3, delete=False, on_watermark=lambda w: saved.append(str(w))
        )
        assert saved == ["2025-05-15T14:30:00+00:00 e00", "2025-05-15T14:30:01+00:00 e01"]

        fake.history += history("c", start=2)
        resumed = Watermark.parse(saved[-1])
        await poll_for(recording(seen), pachca, 3, watermark=resumed)
        assert sorted(fake.deleted) == ["e00", "e01", "e02"]
        assert fake.history == []

    with_api(scenario)
    assert seen == ["a", "b", "c"]


def test_watermarks_order_and_round_trip() -> None:
    early = Watermark(EPOCH, "b")
    assert Watermark.parse(str(early)) == early
    assert early < Watermark(EPOCH, "c") < Watermark(EPOCH + datetime.timedelta(seconds=1), "a")
    assert Watermark.parse("2025-05-15T14:30:00 x").created_at.tzinfo is datetime.UTC
    for bad in ("", "yesterday e1", "2025-05-15T14:30:00+00:00"):
        with pytest.raises(ValueError, match="not a watermark"):
            Watermark.parse(bad)


def test_failed_reads_are_retried_paced_and_honour_retry_after(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[Any] = []

    async def scenario(fake: FakePachca, pachca: PachcaClient) -> list[float]:
        fake.history = history("survivor")
        fake.fail("GET", HISTORY, 500, 429, 503, retry_after=3)
        with caplog.at_level(logging.WARNING, "pachca_async.bot"):
            await poll_for(recording(seen), pachca, 15)
        return history_reads(fake)

    times = with_api(scenario)
    assert seen == ["survivor"]
    gaps = [round(b - a, 1) for a, b in itertools.pairwise(times[:4])]
    assert gaps == [1.0, 3.0, 4.0]  # backoff 1, Retry-After 3 (over backoff 2), backoff 4
    assert caplog.text.count("reading the event history failed") == 3


def test_an_endless_retry_after_delays_polling_by_a_day_at_most(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[Any] = []

    async def scenario(fake: FakePachca, pachca: PachcaClient) -> list[float]:
        fake.history = history("survivor")
        fake.fail("GET", HISTORY, 429, retry_after=math.inf)
        with caplog.at_level(logging.WARNING, "pachca_async.bot"):
            await poll_for(recording(seen), pachca, MAX_RETRY_AFTER + 5)
        return history_reads(fake)

    first, second, *_ = with_api(scenario)
    assert second - first == pytest.approx(MAX_RETRY_AFTER)
    assert seen == ["survivor"]
    assert "again in 86400.0 s" in caplog.text


def test_an_invalid_token_stops_polling() -> None:
    async def scenario(fake: FakePachca, pachca: PachcaClient) -> None:
        fake.fail("GET", HISTORY, 401)
        with pytest.raises(AuthenticationError):
            await poll_for(Dispatcher(bot_id=1), pachca, 5)

    with_api(scenario)


def test_a_malformed_entry_does_not_stall_the_bot(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[Any] = []

    async def scenario(fake: FakePachca, pachca: PachcaClient) -> None:
        fake.history = [
            *history("before"),
            entry("e01", at(1), {"type": "button", "event": "click", "data": "x"}),
            {"event_type": "message_new", "payload": message("no id"), "created_at": at(2)},
            *history("after", start=3),
        ]
        dp = recording(seen)
        dp.unknown.register(lambda event: seen.append(event))
        with caplog.at_level(logging.WARNING):
            await poll_for(dp, pachca, 3)

    with_api(scenario)
    assert seen[0] == "before"
    assert isinstance(seen[1], UnknownWebhookPayload)
    assert seen[2] == "after"
    assert "skipping an unreadable history entry" in caplog.text


def test_a_polled_click_keeps_what_is_left_of_its_trigger_window() -> None:
    async def scenario(fake: FakePachca, pachca: PachcaClient) -> list[float]:
        fake.history = [entry("c1", at(0), click("x"))]
        dp = Dispatcher(bot_id=1)
        left: list[float] = []

        @dp.button_click()
        async def on_click(event: ButtonWebhookPayload, trigger: Trigger) -> None:
            left.append(trigger.remaining())

        await poll_for(dp, pachca, 2, wall_clock=lambda: EPOCH.timestamp() + 1.25)
        return left

    left = with_api(scenario)
    assert left == [pytest.approx(1.75, abs=0.05)]


@pytest.mark.parametrize(
    ("option", "value"), [("page_size", 51), ("interval", -1), ("max_backoff", float("nan"))]
)
def test_poller_arguments_are_checked(option: str, value: float) -> None:
    with pytest.raises(InvalidRequestError, match=option):
        EventPoller(PachcaClient("t"), **{option: value})


def test_an_entry_recorded_late_but_close_to_the_watermark_is_still_handled() -> None:
    seen: list[Any] = []

    async def scenario(fake: FakePachca, pachca: PachcaClient) -> None:
        fake.history = [entry("a", at(0), message("a")), entry("b", at(10), message("b"))]
        dp = recording(seen)
        task = asyncio.create_task(
            dp.start_polling(pachca, delete=False, handle_signals=False, wall_clock=lambda: 0.0)
        )
        await asyncio.sleep(3)
        fake.history.append(entry("late", at(5), message("late")))  # older than "b"
        await asyncio.sleep(3)
        dp.stop_polling()
        await task

    with_api(scenario)
    assert seen == ["a", "b", "late"]


def test_an_entry_stamped_without_a_time_zone_is_read_as_utc() -> None:
    seen: list[Any] = []

    async def scenario(fake: FakePachca, pachca: PachcaClient) -> None:
        naive = entry("e01", at(1).removesuffix("Z"), message("naive", message_id=1))
        fake.history = [*history("a"), naive, *history("c", start=2)]
        await poll_for(recording(seen), pachca, 3)
        assert sorted(fake.deleted) == ["e00", "e01", "e02"]

    with_api(scenario)
    assert seen == ["a", "naive", "c"]


def test_a_page_without_next_page_is_the_last_one(caplog: pytest.LogCaptureFixture) -> None:
    """The spec requires `meta.paginate.next_page`; a page without it still ends the read."""
    seen: list[Any] = []

    async def without_next_page(request: Request, call_next: Handler) -> Response:
        response = await call_next(request)
        if request.operation.name != "bots.get_webhook_events":
            return response
        document = json.loads(response.body)
        del document["meta"]["paginate"]["next_page"]
        response.body = json.dumps(document).encode()
        return response

    async def main() -> list[float]:
        async with FakePachca() as fake:
            fake.history = history("a", "b")
            async with fake.client(middlewares=[without_next_page]) as pachca:
                with caplog.at_level(logging.WARNING, "pachca_async.bot"):
                    await poll_for(recording(seen), pachca, 5.5, interval=2)
            return history_reads(fake)

    reads = run_virtual(main())
    assert seen == ["a", "b"]
    assert reads == pytest.approx([0, 0, 2, 4])  # again after handling, then each interval
    assert "reading the event history failed" not in caplog.text


def test_unreadable_entries_are_logged_once_and_deleted(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[Any] = []
    unreadable = [
        {"id": "no-date", "event_type": "message_new", "payload": message("x"), "created_at": "?"},
        {"id": "year-one", "payload": message("y"), "created_at": "0001-01-01T00:00:00+01:00"},
        {"id": "no-payload", "created_at": at(1)},
        {"event_type": "message_new", "payload": message("no id"), "created_at": at(2)},
    ]

    async def scenario(fake: FakePachca, pachca: PachcaClient) -> None:
        fake.history = [*unreadable, *history("ok", start=3)]
        with caplog.at_level(logging.WARNING, "pachca_async.bot"):
            await poll_for(recording(seen), pachca, 10)
        assert sorted(fake.deleted) == ["e03", "no-date", "no-payload", "year-one"]
        assert len(history_reads(fake)) >= 5

    with_api(scenario, history_newest_first=False)
    assert seen == ["ok"]
    assert caplog.text.count("skipping an unreadable history entry") == len(unreadable)


def test_the_guard_is_asked_once_per_step_before_each_change() -> None:
    asked: list[list[str]] = []

    async def scenario(fake: FakePachca, pachca: PachcaClient) -> None:
        async def guard() -> bool:
            asked.append(list(fake.deleted))  # what was deleted when it was asked
            return True

        fake.history = history("a", "b")
        poller = EventPoller(pachca, guard=guard, wall_clock=lambda: EPOCH.timestamp() + 100)
        first, second = await poller.poll()
        await poller.done(first)
        await poller.done(second)

    with_api(scenario)
    assert asked == [[], ["e00"]]  # one renewal per event, each before its delete
