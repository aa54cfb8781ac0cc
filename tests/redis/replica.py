"""One replica of a bot, in its own process, sharing state with the others through Redis. It
answers each message event with `NAME handled TEXT` through the API at BASE_URL.

    python -m tests.redis.replica poll BASE_URL REDIS_URL NAME
    python -m tests.redis.replica receive BASE_URL REDIS_URL NAME SECRET

`poll` polls the event history while it holds the lease; `receive` serves webhooks on a free
port of 127.0.0.1, deduplicated through Redis. Each prints `ready PORT` (0 when polling).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from aiohttp import web

from pachca_async import PachcaClient
from pachca_async.bot import Dispatcher, WebhookReceiver
from pachca_async.redis import RedisDedupe, RedisPollingLease
from pachca_async.webhooks import MessageWebhookPayload

TTL = 1.0
ROOT = Path(__file__).resolve().parents[2]


def start_replica(*arguments: str) -> tuple[subprocess.Popen[str], int]:
    """A `tests.redis.replica` process, once it is ready; and the port it serves on, if any."""
    command = [sys.executable, "-m", "tests.redis.replica", *arguments]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    ready, port = process.stdout.readline().split()
    assert ready == "ready"
    return process, int(port)


def stop_replica(process: subprocess.Popen[str]) -> None:
    process.kill()
    process.wait()
    assert process.stdout is not None
    process.stdout.close()


def bot(name: str) -> Dispatcher:
    dp = Dispatcher()

    @dp.message()
    async def answer(message: MessageWebhookPayload, pachca: PachcaClient) -> None:
        text = f"{name} handled {message.content}"
        await pachca.messages.create_message(entity_id=message.chat_id, content=text)

    return dp


async def poll(base_url: str, redis_url: str, name: str) -> None:
    async with (
        RedisPollingLease.from_url(redis_url, ttl=TTL) as lease,
        PachcaClient("fake-token", base_url=base_url) as pachca,
    ):
        print("ready 0", flush=True)
        await bot(name).start_polling(pachca, lease=lease, interval=0.1)


async def receive(base_url: str, redis_url: str, name: str, secret: str) -> None:
    async with (
        RedisDedupe.from_url(redis_url) as dedupe,
        PachcaClient("fake-token", base_url=base_url) as pachca,
    ):
        receiver = WebhookReceiver(bot(name), pachca, secret=secret, dedupe=dedupe)
        runner = web.AppRunner(receiver.application("/hook"))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        print(f"ready {runner.addresses[0][1]}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()


if __name__ == "__main__":
    mode, *arguments = sys.argv[1:]
    asyncio.run(poll(*arguments) if mode == "poll" else receive(*arguments))
