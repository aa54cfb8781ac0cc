"""One replica of a polling bot, in its own process: it polls the event history at BASE_URL
while it holds the lease in Redis, and answers each message event with `NAME handled TEXT`.

    python -m tests.redis.poller_replica BASE_URL REDIS_URL NAME
"""

from __future__ import annotations

import asyncio
import sys

from pachca_async import PachcaClient
from pachca_async.bot import Dispatcher
from pachca_async.redis import RedisPollingLease
from pachca_async.webhooks import MessageWebhookPayload

TTL = 1.0


async def main(base_url: str, redis_url: str, name: str) -> None:
    dp = Dispatcher()

    @dp.message()
    async def answer(message: MessageWebhookPayload, pachca: PachcaClient) -> None:
        text = f"{name} handled {message.content}"
        await pachca.messages.create_message(entity_id=message.chat_id, content=text)

    async with (
        RedisPollingLease.from_url(redis_url, ttl=TTL) as lease,
        PachcaClient("fake-token", base_url=base_url) as pachca,
    ):
        print("ready", flush=True)
        await dp.start_polling(pachca, lease=lease, interval=0.1)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
