"""One replica of scenario D: a process sending its share of the messages through one client.

    python -m bench.replica BASE_URL INDEX [REDIS_URL]

It prints `ready`, waits for a line on stdin, sends 15 messages to each of 20 chats at once
(sharing rate limits through Redis when a URL is given), then prints how many calls failed.
"""

from __future__ import annotations

import asyncio
import sys

from pachca_async import PachcaClient, RateLimiter
from pachca_async.redis import RedisRateLimitBackend

from .bench_ratelimit import API, CHATS, REPLICAS, TOKEN, _content

SHARE = 60 // REPLICAS  # messages per chat from each replica


async def run(base: str, index: int, redis_url: str | None) -> int:
    backend = None if redis_url is None else RedisRateLimitBackend.from_url(redis_url)
    limiter = RateLimiter(backend=backend)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    try:
        async with PachcaClient(TOKEN, base_url=base + API, rate_limits=limiter) as pachca:
            results = await asyncio.gather(
                *(
                    pachca.messages.create_message(entity_id=chat, content=_content(chat, i))
                    for i in range(index * SHARE, (index + 1) * SHARE)
                    for chat in range(CHATS)
                ),
                return_exceptions=True,
            )
    finally:
        await limiter.aclose()
    return sum(isinstance(r, BaseException) for r in results)


if __name__ == "__main__":
    url = sys.argv[3] if len(sys.argv) > 3 else None
    print("failed", asyncio.run(run(sys.argv[1], int(sys.argv[2]), url)), flush=True)
