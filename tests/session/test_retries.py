"""Retries, on the virtual clock: what is repeated, how long it waits, and what never is.

Times are read from the server's side (`Recorded.at`, the event loop's clock when a request
arrived), so a test sees the waits the client really made.
"""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses
from yarl import URL

from pachca_async import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    ConnectError,
    NotFoundError,
    PachcaClient,
    PachcaError,
    RateLimitError,
    RetryEvent,
    RetryPolicy,
    ServerError,
    ValidationError,
)
from pachca_async.models import Message
from pachca_async.testing import FakePachca, Reply, api_error, message
from tests.scripting import BASE_PATH, TOKEN, chat, count, free_port
from tests.session.conftest import virtual_clock

OK = Reply(200, {"data": message(5)})
UNAVAILABLE = Reply(503, body="")
SLOW = Reply(200, {"data": message(5)}, delay=31)  # past the default 30 s timeout
AVATAR = Reply(200, {"data": {"image_url": "https://files.example/avatar.png"}})
STEADY = RetryPolicy(random=lambda: 0.5)  # backoff exactly as configured: no jitter either way


def gaps(server: FakePachca) -> list[float]:
    """Seconds between consecutive requests, as the server saw them."""
    times = [r.at for r in server.calls]
    return [round(b - a, 6) for a, b in itertools.pairwise(times)]


def client(server: FakePachca, retry: RetryPolicy = STEADY, **options: Any) -> PachcaClient:
    return PachcaClient(TOKEN, base_url=server.base_url, retry=retry, **options)


# -- 429 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("draw", [0.0, 0.5, 0.999999])
@virtual_clock
async def test_429_waits_retry_after_and_never_less(draw: float) -> None:
    async with (
        FakePachca(base_path=BASE_PATH) as server,
        client(server, RetryPolicy(random=lambda: draw)) as pachca,
    ):
        server.reply("GET", "/messages/5", Reply(429, headers={"Retry-After": "3"}), OK)
        assert type(await pachca.messages.get_message(5)) is Message
    (gap,) = gaps(server)
    assert 3.0 <= gap <= 3.0 * 1.1


@virtual_clock
async def test_429_on_post_is_retried() -> None:
    # a 429 means the server refused the request: sending it again cannot duplicate it
    async with FakePachca(base_path=BASE_PATH) as server, client(server) as pachca:
        server.reply("POST", "/messages", Reply(429, headers={"Retry-After": "1"}), OK)
        await pachca.messages.create_message(entity_id=1, content="once")
    assert count(server, "POST") == 2


@virtual_clock
async def test_429_waits_until_http_date() -> None:
    now = 1_714_557_600.0
    retry = RetryPolicy(random=lambda: 0.0, wall_clock=lambda: now)
    later = email.utils.formatdate(now + 30, usegmt=True)
    async with FakePachca(base_path=BASE_PATH) as server, client(server, retry) as pachca:
        server.reply("GET", "/messages/5", Reply(429, headers={"Retry-After": later}), OK)
        await pachca.messages.get_message(5)
    assert gaps(server) == [30.0]


@virtual_clock
async def test_429_without_retry_after_backs_off() -> None:
    async with FakePachca(base_path=BASE_PATH) as server, client(server) as pachca:
        server.reply("GET", "/messages/5", Reply(429), Reply(429), OK)
        await pachca.messages.get_message(5)
    assert gaps(server) == [0.5, 1.0]


@virtual_clock
async def test_retry_after_above_the_cap_raises_at_once() -> None:
    loop = asyncio.get_running_loop()
    async with FakePachca(base_path=BASE_PATH) as server, client(server) as pachca:
        server.reply("POST", "/messages", Reply(429, headers={"Retry-After": "61"}), OK)
        started = loop.time()
        with pytest.raises(RateLimitError) as caught:
            await pachca.messages.create_message(entity_id=1, content="x")
        assert loop.time() - started < 1
    assert caught.value.retry_after == 61.0
    assert count(server) == 1


@virtual_clock
async def test_the_cap_is_configurable() -> None:
    retry = STEADY.with_changes(max_retry_after=3600, deadline=None, jitter=0)
    async with FakePachca(base_path=BASE_PATH) as server, client(server, retry) as pachca:
        server.reply("GET", "/messages/5", Reply(429, headers={"Retry-After": "900"}), OK)
        await pachca.messages.get_message(5)
    assert gaps(server) == [900.0]


# -- 5xx, timeouts, broken connections ---------------------------------------------------------

Call = Callable[[PachcaClient], Awaitable[Any]]

SAFE_CALLS: list[tuple[str, str, Reply, Call]] = [
    ("GET", "/messages/5", OK, lambda p: p.messages.get_message(5)),
    ("PUT", "/chats/3", Reply(200, {"data": chat(3)}), lambda p: p.chats.update_chat(3, name="n")),
    ("DELETE", "/messages/5", Reply(204), lambda p: p.messages.delete_message(5)),
]


@pytest.mark.parametrize(("method", "path", "success", "call"), SAFE_CALLS)
@virtual_clock
async def test_server_errors_are_retried_where_safe(
    method: str, path: str, success: Reply, call: Call
) -> None:
    async with FakePachca(base_path=BASE_PATH) as server, client(server) as pachca:
        server.reply(method, path, Reply(500), Reply(502, body="<html/>"), success)
        await call(pachca)
    assert count(server, method, path) == 3
    assert gaps(server) == [0.5, 1.0]


@pytest.mark.parametrize(("method", "path", "success", "call"), SAFE_CALLS)
@virtual_clock
async def test_timeouts_and_drops_are_retried_where_safe(
    method: str, path: str, success: Reply, call: Call
) -> None:
    async with FakePachca(base_path=BASE_PATH) as server, client(server) as pachca:
        server.reply(method, path, SLOW, Reply(drop=True), success)
        await call(pachca)
    assert count(server, method, path) == 3


@pytest.mark.parametrize(
    ("failure", "error_type"),
    [
        (Reply(500), ServerError),
        (Reply(503, body="<html>busy</html>"), ServerError),
        (SLOW, APITimeoutError),
        (Reply(drop=True), APIConnectionError),
    ],
)
@virtual_clock
async def test_post_that_reached_the_server_is_never_sent_twice(
    failure: Reply, error_type: type[PachcaError]
) -> None:
    async with FakePachca(base_path=BASE_PATH) as server, client(server) as pachca:
        server.reply("POST", "/messages", failure, Reply(201, {"data": message(9)}))
        with pytest.raises(PachcaError) as caught:
            await pachca.messages.create_message(entity_id=198, content="Hello")
    assert type(caught.value) is error_type
    assert count(server, "POST", "/messages") == 1


@virtual_clock
async def test_post_whose_connection_failed_is_retried() -> None:
    port = free_port()
    late = FakePachca(base_path=BASE_PATH, port=port)
    events: list[RetryEvent] = []

    async def server_comes_up(event: RetryEvent) -> None:
        events.append(event)
        if len(events) == 2:
            await late.__aenter__()

    retry = STEADY.with_changes(on_retry=server_comes_up)
    base_url = f"http://127.0.0.1:{port}/api/shared/v1"
    late.reply("POST", "/messages", Reply(201, {"data": message(9)}))
    try:
        async with PachcaClient(TOKEN, base_url=base_url, retry=retry) as pachca:
            sent = await pachca.messages.create_message(entity_id=198, content="Hello")
    finally:
        await late.__aexit__(None, None, None)
    assert sent.id == 9
    assert [type(e.error) for e in events] == [ConnectError, ConnectError]
    assert count(late, "POST", "/messages") == 1


async def test_post_whose_connect_timed_out_is_retried(mocked: aioresponses) -> None:
    url = "http://pachca.test/api/shared/v1/messages"
    mocked.post(url, exception=aiohttp.ConnectionTimeoutError())
    mocked.post(url, status=201, payload={"data": message(9)})
    retry = RetryPolicy(backoff=0)  # no wait: this test runs on the real clock
    async with PachcaClient(
        TOKEN, base_url="http://pachca.test/api/shared/v1", retry=retry
    ) as pachca:
        assert (await pachca.messages.create_message(entity_id=1, content="x")).id == 9
    assert len(mocked.requests[("POST", URL(url))]) == 2


async def test_post_cut_off_mid_answer_is_not_retried(mocked: aioresponses) -> None:
    url = "http://pachca.test/api/shared/v1/messages"
    mocked.post(url, exception=aiohttp.ServerDisconnectedError())
    mocked.post(url, status=201, payload={"data": message(9)})
    async with PachcaClient(
        TOKEN, base_url="http://pachca.test/api/shared/v1", retry=RetryPolicy(backoff=0)
    ) as pachca:
        with pytest.raises(APIConnectionError):
            await pachca.messages.create_message(entity_id=1, content="x")
    assert len(mocked.requests[("POST", URL(url))]) == 1


@pytest.mark.parametrize(
    ("reply", "error_type"),
    [
        (Reply(400, api_error("id", "bad")), ValidationError),
        (Reply(401), AuthenticationError),
        (Reply(404, api_error("id", "no")), NotFoundError),
        (Reply(409), ConflictError),
        (Reply(422), ValidationError),
    ],
)
@virtual_clock
async def test_client_errors_are_not_retried(reply: Reply, error_type: type[PachcaError]) -> None:
    async with FakePachca(base_path=BASE_PATH) as server, client(server) as pachca:
        server.reply("GET", "/messages/5", reply, OK)
        with pytest.raises(error_type):
            await pachca.messages.get_message(5)
    assert count(server) == 1


# -- how long, how often -----------------------------------------------------------------------


@virtual_clock
async def test_backoff_doubles_up_to_its_cap() -> None:
    retry = STEADY.with_changes(max_retries=5, backoff=0.5, max_backoff=3.0)
    async with FakePachca(base_path=BASE_PATH) as server, client(server, retry) as pachca:
        server.reply("GET", "/messages/5", UNAVAILABLE)
        with pytest.raises(ServerError):
            await pachca.messages.get_message(5)
    assert gaps(server) == [0.5, 1.0, 2.0, 3.0, 3.0]


@pytest.mark.parametrize("draw", [0.0, 0.999999])
@virtual_clock
async def test_backoff_jitter_stays_within_its_fraction(draw: float) -> None:
    retry = RetryPolicy(backoff=1.0, jitter=0.5, random=lambda: draw)
    async with FakePachca(base_path=BASE_PATH) as server, client(server, retry) as pachca:
        server.reply("GET", "/messages/5", UNAVAILABLE)
        with pytest.raises(ServerError):
            await pachca.messages.get_message(5)
    for gap, base in zip(gaps(server), [1.0, 2.0, 4.0], strict=True):
        assert 0.5 * base <= gap <= 1.5 * base
    assert gaps(server) != [1.0, 2.0, 4.0]


@pytest.mark.parametrize("max_retries", [0, 1, 3])
@virtual_clock
async def test_attempts_stop_at_max_retries(max_retries: int) -> None:
    async with (
        FakePachca(base_path=BASE_PATH) as server,
        client(server, max_retries=max_retries) as pachca,
    ):
        server.reply("GET", "/messages/5", UNAVAILABLE)
        with pytest.raises(ServerError):
            await pachca.messages.get_message(5)
    assert count(server) == 1 + max_retries


@virtual_clock
async def test_no_retry_starts_after_the_deadline() -> None:
    retry = STEADY.with_changes(max_retries=10, backoff=2.0, max_backoff=100, deadline=5.0)
    async with FakePachca(base_path=BASE_PATH) as server, client(server, retry) as pachca:
        server.reply("GET", "/messages/5", UNAVAILABLE)
        with pytest.raises(ServerError):
            await pachca.messages.get_message(5)
    assert gaps(server) == [2.0]  # the next wait (4 s) would end past 5 s


@virtual_clock
async def test_deadline_counts_time_spent_waiting_for_answers() -> None:
    retry = STEADY.with_changes(deadline=60.0)
    loop = asyncio.get_running_loop()
    async with FakePachca(base_path=BASE_PATH) as server, client(server, retry) as pachca:
        server.reply("GET", "/messages/5", SLOW)
        started = loop.time()
        with pytest.raises(APITimeoutError):
            await pachca.messages.get_message(5)
        assert loop.time() - started == pytest.approx(60.5, abs=0.1)
    assert count(server) == 2  # 30 s + 0.5 s + 30 s, then 1 s more would pass 60 s


@virtual_clock
async def test_retry_after_past_the_deadline_is_not_waited() -> None:
    retry = STEADY.with_changes(deadline=10.0)
    async with FakePachca(base_path=BASE_PATH) as server, client(server, retry) as pachca:
        server.reply("GET", "/messages/5", Reply(429, headers={"Retry-After": "30"}), OK)
        with pytest.raises(RateLimitError) as caught:
            await pachca.messages.get_message(5)
    assert caught.value.retry_after == 30.0
    assert count(server) == 1


# -- visibility --------------------------------------------------------------------------------


@virtual_clock
async def test_hook_sees_every_retry() -> None:
    events: list[RetryEvent] = []

    async def record(event: RetryEvent) -> None:
        await asyncio.sleep(0)
        events.append(event)

    retry = STEADY.with_changes(on_retry=record)
    async with FakePachca(base_path=BASE_PATH) as server, client(server, retry) as pachca:
        server.reply(
            "GET", "/messages/5", Reply(503), Reply(429, headers={"Retry-After": "2"}), SLOW, OK
        )
        await pachca.messages.get_message(5)
    assert [(e.operation, e.method, e.attempt) for e in events] == [
        ("messages.get_message", "GET", 1),
        ("messages.get_message", "GET", 2),
        ("messages.get_message", "GET", 3),
    ]
    assert [type(e.error) for e in events] == [ServerError, RateLimitError, APITimeoutError]
    assert [e.delay for e in events] == [0.5, pytest.approx(2.1), 2.0]


@virtual_clock
async def test_plain_function_hook_works_too() -> None:
    seen: list[int] = []
    retry = STEADY.with_changes(on_retry=lambda event: seen.append(event.attempt))
    async with FakePachca(base_path=BASE_PATH) as server, client(server, retry) as pachca:
        server.reply("GET", "/messages/5", UNAVAILABLE, OK)
        await pachca.messages.get_message(5)
    assert seen == [1]


@virtual_clock
async def test_each_retry_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pachca_async")
    async with FakePachca(base_path=BASE_PATH) as server, client(server) as pachca:
        server.reply("GET", "/messages/5", UNAVAILABLE, UNAVAILABLE, OK)
        await pachca.messages.get_message(5)
    retries = [r for r in caplog.records if r.levelno == logging.INFO]
    assert [r.getMessage().split(":")[0] for r in retries] == [
        "retrying GET /api/shared/v1/messages/5 in 0.50 s after attempt 1",
        "retrying GET /api/shared/v1/messages/5 in 1.00 s after attempt 2",
    ]


# -- bodies that cannot be sent twice ----------------------------------------------------------


async def chunks() -> AsyncIterator[bytes]:
    yield b"\x89PNG"
    yield b"...."


@virtual_clock
async def test_streamed_body_is_never_sent_twice() -> None:
    async with FakePachca(base_path=BASE_PATH) as server, client(server) as pachca:
        server.reply("PUT", "/profile/avatar", UNAVAILABLE)  # PUT: safe to repeat, but not this
        with pytest.raises(ServerError):
            await pachca.profile.update_profile_avatar(image=chunks())
    assert count(server, "PUT") == 1
    assert b"\x89PNG...." in server.calls[-1].raw


@virtual_clock
async def test_body_that_can_be_read_again_is_resent_whole() -> None:
    async with FakePachca(base_path=BASE_PATH) as server, client(server) as pachca:
        server.reply("PUT", "/profile/avatar", UNAVAILABLE, UNAVAILABLE, AVATAR)
        await pachca.profile.update_profile_avatar(image=b"\x89PNG....")
    assert count(server, "PUT") == 3
    assert len({r.raw for r in server.calls}) == 1  # each attempt sent the same whole form
    assert b"\x89PNG....\r\n" in server.calls[-1].raw


@virtual_clock
async def test_with_options_changes_retries_for_the_copy_only() -> None:
    async with FakePachca(base_path=BASE_PATH) as server, client(server) as pachca:
        server.reply("GET", "/messages/5", UNAVAILABLE)
        with pytest.raises(ServerError):
            await pachca.with_options(max_retries=0).messages.get_message(5)
        assert count(server) == 1
        with pytest.raises(ServerError):
            await pachca.messages.get_message(5)
        assert count(server) == 1 + 4
