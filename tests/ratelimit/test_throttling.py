"""429s on the virtual clock: the whole key pauses, slows down, recovers; retries wait once."""

from __future__ import annotations

import asyncio
import itertools
import json
import math

import pytest

from pachca_async import Rate, RateLimitError, RateLimits, Request, Response
from pachca_async._retry_after import MAX_RETRY_AFTER
from pachca_async.testing import run_virtual

from .fake import FakeAPI, client, exactly, send, too_many

NEVER = math.inf
STEADY = RateLimits(message_write=Rate(4, burst=20, recovery=NEVER), probe_bursts=False)
"""Slowed-down keys stay slowed: timelines with round numbers."""


def refuse(contents: set[str], retry_after: str | None = "1"):  # type: ignore[no-untyped-def]
    """An override answering 429 to the first attempt of the messages with these contents."""

    def override(request: Request) -> Response | None:
        if request.operation.name != "messages.create_message" or request.attempt > 1:
            return None
        assert isinstance(request.body, bytes)
        content = json.loads(request.body)["message"]["content"]
        return too_many(retry_after) if content in contents else None

    return override


def contents(api: FakeAPI) -> list[str]:
    return [json.loads(r.body)["message"]["content"] for _, r in api.arrivals]  # type: ignore[arg-type]


def test_a_429_pauses_every_request_on_its_key_and_nothing_else() -> None:
    api = FakeAPI(latency=0.1, override=refuse({"0"}, retry_after="2"))

    async def other_chat() -> float:
        await asyncio.sleep(0.5)
        await pachca.messages.create_message(entity_id=2, content="elsewhere")
        return asyncio.get_running_loop().time()

    async def scenario() -> tuple[list[str], float]:
        messages, answered = await asyncio.gather(send(pachca, chat=1, count=25), other_chat())
        return [m.content for m in messages], answered

    pachca = client(api, STEADY)
    sent, elsewhere_answered = run_virtual(scenario())
    assert sent == [str(i) for i in range(25)]
    assert elsewhere_answered == pytest.approx(0.6)  # chat 2 never waited
    chat_1 = [t for t, r in api.arrivals if b'"entity_id":1' in r.body]  # type: ignore[operator]
    # 20 at once; the 429 comes back at 0.1 and holds the 5 queued ones and the retry until 2.1,
    # then the key goes at half its rate.
    assert chat_1 == exactly([0.0] * 20 + [2.1, 2.6, 3.1, 3.6, 4.1, 4.6])
    assert sorted(contents(api)).count("0") == 2  # the refused one, once more
    assert len(set(contents(api))) == 26  # 25 messages and chat 2's, nothing lost


def test_429s_from_one_burst_slow_the_key_down_once() -> None:
    api = FakeAPI(latency=0.1, override=refuse({"0", "1", "2", "3", "4"}))

    async def scenario() -> None:
        async with client(api, STEADY) as pachca:
            await send(pachca, chat=1, count=25)

    run_virtual(scenario())
    after_pause = [1.1 + 0.5 * i for i in range(10)]  # half the rate, not 1/32 of it
    assert api.times() == exactly([0.0] * 20 + after_pause)


def test_the_slowed_rate_climbs_back_to_the_rate_that_drew_the_429_along_a_cubic() -> None:
    limits = RateLimits(message_write=Rate(4, burst=1, recovery=10), probe_bursts=False)
    api = FakeAPI(override=refuse({"0"}))

    async def scenario() -> None:
        async with client(api, limits) as pachca:
            await send(pachca, chat=1, count=60)

    run_virtual(scenario())
    # Slowed to half at 0 (2/s), back to 4/s over 10 s: 0.5 + 0.5 (t / 10)³ of the rate.
    expected, t = [0.0], 1.0  # the pause ends at 1 s
    while len(expected) < 61:
        expected.append(t)
        t += 1 / (4 * min(1.0, 0.5 + 0.5 * (t / 10) ** 3))
    assert api.times() == exactly(expected)
    gaps = [b - a for a, b in zip(api.times()[1:], api.times()[2:], strict=False)]
    assert gaps[0] == pytest.approx(1 / 2.002)  # barely faster than the rate the server took
    assert gaps[-1] == pytest.approx(0.25)


def test_a_429_while_climbing_keeps_the_floor_the_server_took() -> None:
    limits = RateLimits(message_write=Rate(4, burst=1, recovery=10), probe_bursts=False)
    api = FakeAPI(override=refuse({"0", "20"}))

    async def scenario() -> None:
        async with client(api, limits) as pachca:
            await send(pachca, chat=1, count=40)

    run_virtual(scenario())
    times = api.times()
    refused_at = times[21]  # message 20, at 0.5 + 0.5 (t / 10)³ ≈ 0.9 of the rate
    after = [b - a for a, b in itertools.pairwise(times[22:])]
    assert 9 < refused_at < 10
    assert times[22] == pytest.approx(refused_at + 1)  # its pause, then it goes again first
    # Back at the floor the server took (2/s), not halved from 0.9 of the rate (1.8/s).
    assert after[0] == pytest.approx(0.5, abs=1e-3)
    assert all(0.25 - 1e-9 <= gap <= 0.5 + 1e-9 for gap in after)


@pytest.mark.parametrize("limits", [STEADY, None], ids=["limited", "unlimited"])
def test_a_retry_after_is_waited_once(limits: RateLimits | None) -> None:
    """The retry middleware waits `Retry-After`; the paused key does not add its own wait."""
    api = FakeAPI(override=refuse({"0"}, retry_after="3"))

    async def scenario() -> float:
        async with client(api, limits) as pachca:
            await pachca.messages.create_message(entity_id=1, content="0")
            return asyncio.get_running_loop().time()

    assert run_virtual(scenario()) == pytest.approx(3.0)
    assert api.times() == exactly([0.0, 3.0])


def test_a_429_without_retry_after_pauses_the_key_for_the_default_pause() -> None:
    api = FakeAPI(override=refuse({"0"}, retry_after=None))

    async def scenario() -> None:
        async with client(api, STEADY) as pachca:  # retries back off 0.25 s, then wait here
            await pachca.messages.create_message(entity_id=1, content="0")

    run_virtual(scenario())
    assert api.times() == exactly([0.0, 0.5])


@pytest.mark.parametrize("header", ["inf", "1e999", "1e300"])
def test_an_endless_retry_after_pauses_the_key_for_a_day_not_forever(header: str) -> None:
    api = FakeAPI(override=refuse({"0"}, retry_after=header))

    async def scenario() -> list[float | None]:
        async with client(api, STEADY) as pachca:
            waits = []
            for content in ("0", "1"):
                with pytest.raises(RateLimitError) as caught:
                    await pachca.messages.create_message(entity_id=1, content=content)
                waits.append(caught.value.retry_after)
            await asyncio.sleep(MAX_RETRY_AFTER)
            await pachca.messages.create_message(entity_id=1, content="2")
            return waits

    assert run_virtual(scenario()) == [MAX_RETRY_AFTER, MAX_RETRY_AFTER]
    assert contents(api) == ["0", "2"]


def test_a_key_paused_for_an_hour_answers_at_once_without_sending() -> None:
    api = FakeAPI(override=refuse({"0"}, retry_after="3600"))

    async def scenario() -> tuple[float, float]:
        async with client(api, STEADY) as pachca:
            with pytest.raises(RateLimitError) as first:
                await pachca.messages.create_message(entity_id=1, content="0")
            await asyncio.sleep(600)
            with pytest.raises(RateLimitError, match="paused by the rate limiter") as second:
                await pachca.messages.create_message(entity_id=1, content="1")
            await pachca.messages.create_message(entity_id=2, content="2")
            assert first.value.retry_after == 3600
            assert second.value.retry_after is not None
            return asyncio.get_running_loop().time(), second.value.retry_after

    now, retry_after = run_virtual(scenario())
    assert now == pytest.approx(600.0)
    assert retry_after == 3000
    assert contents(api) == ["0", "2"]
