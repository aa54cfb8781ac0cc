"""Independence and fairness on the virtual clock: parallel keys, FIFO, cancellation, the in-flight
cap, and eviction of idle keys."""

from __future__ import annotations

import asyncio
import json
from typing import cast

import pytest

from pachca_async import MemoryRateLimitBackend, Rate, RateLimits
from pachca_async.testing import VirtualClockLoop, run_virtual

from .fake import PLAIN, FakeAPI, client, exactly, send


def contents(api: FakeAPI) -> list[str]:
    return [json.loads(cast(bytes, r.body))["message"]["content"] for _, r in api.arrivals]


def test_a_hundred_chats_go_out_as_a_hundred_parallel_requests() -> None:
    api = FakeAPI(latency=1.0)

    async def scenario() -> float:
        async with client(api, RateLimits()) as pachca:
            await asyncio.gather(
                *(pachca.messages.create_message(entity_id=c, content="hi") for c in range(100))
            )
            return asyncio.get_running_loop().time()

    assert run_virtual(scenario()) == pytest.approx(1.0)
    assert api.times() == [0.0] * 100
    assert api.peak == 100


def test_requests_on_one_key_go_first_in_first_out() -> None:
    api = FakeAPI(latency=0.05)

    async def scenario() -> None:
        async with client(api, RateLimits()) as pachca:
            await send(pachca, chat=1, count=40)

    run_virtual(scenario())
    assert contents(api) == [str(i) for i in range(40)]


def test_a_cancelled_waiter_gives_its_place_back() -> None:
    api = FakeAPI()

    async def scenario() -> None:
        async with client(api) as pachca:
            await send(pachca, chat=1, count=20)  # the bucket is empty now
            waiters = [
                asyncio.ensure_future(pachca.messages.create_message(entity_id=1, content=name))
                for name in ("first", "second", "third")
            ]
            await asyncio.sleep(0.1)
            waiters[0].cancel()
            await asyncio.gather(*waiters[1:])

    run_virtual(scenario())
    assert contents(api)[20:] == ["second", "third"]
    assert api.times()[20:] == exactly([0.25, 0.5])  # "first"'s turn went to "second"


def test_a_request_cancelled_while_waiting_for_a_slot_returns_its_room() -> None:
    """The bucket's room taken for a request that was never sent goes to the next one."""
    api = FakeAPI(latency=1.0)
    limits = RateLimits(message_write=Rate(0.5, burst=2), max_in_flight=1, probe_bursts=False)

    async def scenario() -> None:
        async with client(api, limits) as pachca:
            first = asyncio.ensure_future(pachca.messages.create_message(entity_id=1, content="A"))
            second = asyncio.ensure_future(pachca.messages.create_message(entity_id=1, content="B"))
            await asyncio.sleep(0.5)
            second.cancel()
            await asyncio.sleep(0.1)
            await pachca.messages.create_message(entity_id=1, content="C")
            await first

    run_virtual(scenario())
    assert contents(api) == ["A", "C"]
    assert api.times() == exactly([0.0, 1.0])  # without B's room back, C would wait until 2.0


def test_the_in_flight_cap_holds_requests_whatever_their_keys() -> None:
    api = FakeAPI(latency=1.0)

    async def scenario() -> None:
        async with client(api, RateLimits(max_in_flight=3)) as pachca:
            await asyncio.gather(
                *(pachca.messages.create_message(entity_id=c, content="hi") for c in range(9))
            )

    run_virtual(scenario())
    assert api.times() == [0.0] * 3 + [1.0] * 3 + [2.0] * 3
    assert api.peak == 3


def test_a_key_waiting_for_its_rate_holds_no_slot() -> None:
    api = FakeAPI(latency=0.01)

    async def later() -> None:
        await asyncio.sleep(1.0)
        await pachca.messages.create_message(entity_id=2, content="later")

    async def scenario() -> None:
        await asyncio.gather(send(pachca, chat=1, count=40), later())
        await pachca.close()

    pachca = client(api, RateLimits(max_in_flight=2, probe_bursts=False))
    run_virtual(scenario())
    assert api.peak == 2
    assert [t for t, r in api.arrivals if b"later" in cast(bytes, r.body)] == [1.0]


def test_idle_keys_are_forgotten() -> None:
    """One message to each of 10,000 chats, a millisecond apart: buckets are dropped once full
    again, so only about a quarter second's worth of chats (250, plus what the sweep has not
    reached yet) is held at any time."""
    api = FakeAPI()
    held: list[int] = []

    async def scenario() -> None:
        loop = cast(VirtualClockLoop, asyncio.get_running_loop())
        async with client(api, RateLimits()) as pachca:
            limiter = pachca.rate_limiter
            assert limiter is not None
            backend = cast(MemoryRateLimitBackend, limiter.backend)
            for chat in range(10_000):
                await pachca.messages.create_message(entity_id=chat, content="hi")
                held.append(len(backend))
                loop.advance(0.001)
            assert not limiter._lanes

    run_virtual(scenario())
    assert len(api.arrivals) == 10_000
    assert max(held) <= 350
    assert held[-1] >= 240  # the last quarter second's chats are still held, as they must be


def test_plain_limits_are_the_documented_ones() -> None:
    assert PLAIN.message_write == Rate(4, burst=20)
    assert (PLAIN.message_read, PLAIN.webhook_events, PLAIN.other) == (
        Rate(10, burst=10),
        Rate(2.5, burst=5),
        Rate(50, burst=50),
    )
