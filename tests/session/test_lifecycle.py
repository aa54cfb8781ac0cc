"""The connection's life, and configuration that must take effect: sessions, copies, timeouts."""

from __future__ import annotations

import asyncio
import warnings

import aiohttp
import pytest

from pachca_async import APITimeoutError, PachcaClient, PachcaError, RetryPolicy, Timeout
from pachca_async._transport import AiohttpTransport
from pachca_async.testing import FakePachca, Reply, message
from tests.scripting import BASE_PATH, TOKEN, count, free_port, reply_json, root, user
from tests.session.conftest import NO_RETRIES, virtual_clock

OK = Reply(200, {"data": message(5)})


def test_session_is_made_inside_the_running_loop() -> None:
    port = free_port()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # aiohttp warns when a session is made outside a loop
        pachca = PachcaClient(TOKEN, base_url=f"http://127.0.0.1:{port}")

    async def use() -> None:
        async with FakePachca(port=port) as server, pachca:
            server.reply("GET", "/messages/5", OK)
            await pachca.messages.get_message(5)
            transport = pachca._transport
            assert isinstance(transport, AiohttpTransport)
            assert transport.session._loop is asyncio.get_running_loop()

    asyncio.run(use())


@pytest.mark.parametrize("how", ["async with", "close()"])
async def test_own_session_is_closed(server: FakePachca, how: str) -> None:
    connector = aiohttp.TCPConnector()  # owned by the session the client makes
    server.reply("GET", "/messages/5", OK)
    pachca = PachcaClient(TOKEN, base_url=server.base_url, connector=connector)
    if how == "async with":
        async with pachca:
            await pachca.messages.get_message(5)
    else:
        await pachca.messages.get_message(5)
        await pachca.close()
    assert connector.closed
    await pachca.close()  # closing twice is harmless


async def test_callers_session_is_used_and_left_open(server: FakePachca) -> None:
    server.reply("GET", "/messages/5", OK)
    async with aiohttp.ClientSession(headers={"X-Caller": "mine"}) as session:
        async with PachcaClient(TOKEN, base_url=server.base_url, session=session) as pachca:
            await pachca.messages.get_message(5)
        assert not session.closed
        assert server.calls[-1].headers["X-Caller"] == "mine"
        assert server.calls[-1].headers["Authorization"] == f"Bearer {TOKEN}"
        async with session.get(f"{server.base_url}/messages/5") as still_open:
            assert still_open.status == 200


async def test_with_options_is_a_light_copy_sharing_the_connection(server: FakePachca) -> None:
    server.reply("GET", "/messages/5", OK)
    async with PachcaClient(TOKEN, base_url=server.base_url, timeout=30) as pachca:
        patient = pachca.with_options(timeout=120, max_retries=7)
        assert (patient.timeout.total, patient.retry.max_retries) == (120, 7)
        assert (pachca.timeout.total, pachca.retry.max_retries) == (30, 3)
        assert patient.base_url == pachca.base_url
        assert patient._transport is pachca._transport

        await pachca.messages.get_message(5)
        await patient.messages.get_message(5)
        async with patient:  # leaving a copy's block closes nothing
            await patient.messages.get_message(5)
        await patient.close()
        await pachca.messages.get_message(5)
    # one kept-alive connection served all four: the copy shares the original's session
    assert len({r.peer_port for r in server.calls}) == 1
    assert count(server) == 4


async def test_with_options_keeps_what_it_is_not_told_to_change(server: FakePachca) -> None:
    retry = RetryPolicy(max_retries=5, backoff=2.0)
    pachca = PachcaClient(TOKEN, base_url=server.base_url, timeout=12, retry=retry)
    copy = pachca.with_options(max_retries=1)
    assert copy.timeout == pachca.timeout == Timeout.of(12)
    assert (copy.retry.max_retries, copy.retry.backoff) == (1, 2.0)
    assert pachca.with_options(timeout=None).timeout == Timeout(None, None, None)
    assert pachca.with_options().retry is pachca.retry


def test_default_timeout_is_far_below_aiohttps() -> None:
    timeout = PachcaClient(TOKEN).timeout
    assert timeout == Timeout(total=30.0, connect=10.0, read=30.0)
    assert aiohttp.client.DEFAULT_TIMEOUT.total == 300  # what aiohttp alone would wait


async def timed_out_after(pachca: PachcaClient) -> float:
    """Seconds (virtual) until a call to a server that never answers in time gives up."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(PachcaError) as caught:
        await pachca.messages.get_message(5)
    assert type(caught.value) is APITimeoutError
    return round(loop.time() - started, 1)


@virtual_clock
async def test_timeouts_take_effect_per_client_and_per_call() -> None:
    async with FakePachca(base_path=BASE_PATH) as server:
        # 299 s: within what aiohttp alone would wait, far past what a client should
        server.reply("GET", "/messages/5", Reply(200, {"data": message(5)}, delay=299))
        async with PachcaClient(TOKEN, base_url=server.base_url, retry=NO_RETRIES) as default:
            assert await timed_out_after(default) == 30.0
            assert await timed_out_after(default.with_options(timeout=2)) == 2.0
            assert await timed_out_after(default) == 30.0  # the original is unchanged
            read_only = default.with_options(timeout=Timeout(total=None, read=7))
            assert await timed_out_after(read_only) == 7.0
        async with PachcaClient(
            TOKEN, base_url=server.base_url, retry=NO_RETRIES, timeout=5
        ) as per_client:
            assert await timed_out_after(per_client) == 5.0
            patient = per_client.with_options(timeout=None)
            loop = asyncio.get_running_loop()
            started = loop.time()
            assert (await patient.messages.get_message(5)).id == 5
            assert loop.time() - started == pytest.approx(299, abs=0.1)


async def test_proxy_is_used_the_aiohttp_way(server: FakePachca) -> None:
    server.reply("GET", "/messages/5", OK)
    async with PachcaClient(
        TOKEN, base_url="http://pachca.invalid/api/shared/v1", proxy=root(server)
    ) as pachca:
        assert (await pachca.messages.get_message(5)).id == 5
    assert server.calls[-1].headers["Host"] == "pachca.invalid"  # asked the proxy for that host
    assert server.calls[-1].path == "/messages/5"


async def test_middlewares_wrap_every_request(server: FakePachca) -> None:
    seen: list[str] = []

    async def tag(request, call_next):  # type: ignore[no-untyped-def]
        seen.append(f"{request.method} {request.path} #{request.attempt}")
        response = await call_next(request)
        seen.append(str(response.status))
        return response

    reply_json(server, "GET", "/profile", {"data": user()})
    async with PachcaClient(
        TOKEN, base_url=server.base_url, middlewares=[tag], retry=NO_RETRIES
    ) as pachca:
        await pachca.profile.get_profile()
        await pachca.with_options(timeout=5).profile.get_profile()
    assert seen == ["GET /api/shared/v1/profile #1", "200"] * 2
