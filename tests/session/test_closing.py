"""`close()` closes: calls queued, in flight or waiting to retry end with `ClientClosedError`,
nothing more is sent, no new session is made, and later calls raise the same error."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web

from pachca_async import (
    AiohttpTransport,
    ClientClosedError,
    PachcaClient,
    Rate,
    RateLimits,
    RetryPolicy,
)
from pachca_async.testing import FakePachca, Reply, message
from tests.scripting import BASE_PATH, TOKEN, count
from tests.session.conftest import virtual_clock

OK = Reply(200, {"data": message(5)})


@virtual_clock
async def test_close_ends_calls_queued_in_flight_and_retrying() -> None:
    posted: list[float] = []  # when each POST arrived (FakePachca records a call once answered)

    async def slow_create(request: web.Request) -> web.Response:
        posted.append(asyncio.get_running_loop().time())
        await asyncio.sleep(10)
        return web.json_response({"data": message(1)}, status=201)

    async with FakePachca(base_path=BASE_PATH) as server:
        server.reply("POST", "/messages", slow_create)
        server.reply("GET", "/messages/5", Reply(503))
        pachca = PachcaClient(
            TOKEN,
            base_url=server.base_url,
            rate_limits=RateLimits(message_write=Rate(1, burst=1)),
            retry=RetryPolicy(max_retries=3, backoff=5, jitter=0),
        )
        transport = pachca._transport
        assert isinstance(transport, AiohttpTransport)
        sends = [
            asyncio.create_task(pachca.messages.create_message(entity_id=7, content=f"#{i}"))
            for i in range(5)
        ]
        retrying = asyncio.create_task(pachca.messages.get_message(5))
        await asyncio.sleep(1)  # one POST in flight, four queued behind it, the GET in backoff
        assert (len(posted), count(server, "GET", "/messages/5")) == (1, 1)
        session = transport.session

        loop = asyncio.get_running_loop()
        closed_at = loop.time()
        await pachca.close()
        ended = await asyncio.gather(*sends, retrying, return_exceptions=True)
        assert loop.time() - closed_at < 0.1  # at once, not when the waits would have ended
        assert [type(error) for error in ended] == [ClientClosedError] * 6
        assert "messages.create_message: the client was closed during the call" in str(ended[0])

        await asyncio.sleep(60)  # long past every wait: nothing more goes out
        assert (len(posted), count(server, "GET")) == (1, 1)
        assert session.closed
        assert transport._session is session  # none was made anew


async def test_a_call_after_close_raises_and_sends_nothing(server: FakePachca) -> None:
    server.reply("GET", "/messages/5", OK)
    pachca = PachcaClient(TOKEN, base_url=server.base_url)
    before_close = pachca.with_options(timeout=5)
    async with pachca:
        await pachca.messages.get_message(5)
    transport = pachca._transport
    assert isinstance(transport, AiohttpTransport)
    session = transport.session
    after_close = pachca.with_options(max_retries=1)
    for client in (pachca, before_close, after_close):
        with pytest.raises(ClientClosedError, match=r"messages\.get_message: the client is closed"):
            await client.messages.get_message(5)
        with pytest.raises(ClientClosedError):
            await client.messages.with_raw_response.get_message(5)
        with pytest.raises(ClientClosedError):
            await client.files.upload(b"abc", name="a.txt")
    assert count(server) == 1
    assert session.closed
    assert transport._session is session


async def test_the_transport_alone_makes_no_session_after_close(server: FakePachca) -> None:
    transport = AiohttpTransport()
    await transport.close()
    async with PachcaClient(TOKEN, base_url=server.base_url, transport=transport) as pachca:
        with pytest.raises(ClientClosedError, match="the client is closed"):
            await pachca.messages.get_message(5)
    assert transport._session is None
    assert count(server) == 0


@virtual_clock
async def test_a_callers_session_is_left_open_and_its_calls_end() -> None:
    async with FakePachca(base_path=BASE_PATH) as server, aiohttp.ClientSession() as session:
        server.reply("GET", "/messages/5", Reply(200, {"data": message(5)}, delay=10))
        pachca = PachcaClient(TOKEN, base_url=server.base_url, session=session)
        waiting = asyncio.create_task(pachca.messages.get_message(5))
        await asyncio.sleep(1)
        await pachca.close()
        with pytest.raises(ClientClosedError):
            await waiting
        with pytest.raises(ClientClosedError):
            await pachca.messages.get_message(5)
        assert not session.closed
        async with session.get(f"{server.base_url}/messages/5") as still_open:
            assert still_open.status == 200


@virtual_clock
async def test_closing_a_copy_closes_nothing_and_other_cancels_pass_through() -> None:
    async with FakePachca(base_path=BASE_PATH) as server:
        server.reply("GET", "/messages/5", Reply(200, {"data": message(5)}, delay=10))
        async with PachcaClient(TOKEN, base_url=server.base_url) as pachca:
            await pachca.with_options(timeout=60).close()
            waiting = asyncio.create_task(pachca.messages.get_message(5))
            await asyncio.sleep(1)
            waiting.cancel()  # the caller's own cancellation stays one
            with pytest.raises(asyncio.CancelledError):
                await waiting
            assert (await pachca.messages.get_message(5)).id == 5
