"""`RedisDedupe`: two receivers (two replicas) given the same delivery run its handler once."""

from __future__ import annotations

import logging

import pytest
from redis import asyncio as aioredis

from bench.valkey_server import Valkey
from pachca_async.bot import Dispatcher
from pachca_async.redis import RedisDedupe
from tests.bot.fake_api import message, running


def counting(seen: list[str]) -> Dispatcher:
    dp = Dispatcher()

    @dp.message()
    async def note(update: object) -> None:
        seen.append("handled")

    return dp


async def test_two_replicas_handle_a_repeated_delivery_once(redis: aioredis.Redis) -> None:
    seen: list[str] = []
    delivery = message("once, please")
    async with (
        running(counting(seen), dedupe=RedisDedupe(redis)) as first,
        running(counting(seen), dedupe=RedisDedupe(redis)) as second,
    ):
        assert await first.send(delivery) == (200, "ok")
        assert await second.send(delivery) == (200, "duplicate")
        assert await first.send(message("another")) == (200, "ok")
        await first.receiver.join()
        await second.receiver.join()
    assert seen == ["handled", "handled"]


async def test_a_refused_delivery_is_handled_when_it_comes_again(redis: aioredis.Redis) -> None:
    seen: list[str] = []
    async with (
        running(counting(seen), dedupe=RedisDedupe(redis), max_pending=0) as busy,
        running(counting(seen), dedupe=RedisDedupe(redis)) as other,
    ):
        assert (await busy.send(message()))[0] == 503
        assert await other.send(message()) == (200, "ok")
        await other.receiver.join()
    assert seen == ["handled"]


async def test_while_redis_is_down_each_replica_still_drops_its_own_repeats(
    private_valkey: Valkey, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []
    dedupe = RedisDedupe.from_url(private_valkey.url, retry_interval=0.0)
    async with dedupe, running(counting(seen), dedupe=dedupe) as bot:
        private_valkey.kill()
        assert await bot.send(message()) == (200, "ok")
        assert await bot.send(message()) == (200, "duplicate")
        await bot.receiver.join()
    assert seen == ["handled"]
    assert [r.levelno for r in caplog.records if r.levelno >= logging.WARNING] == [logging.WARNING]
