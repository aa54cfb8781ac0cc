"""Where bucket state lives: the contract every store implements, and the in-memory store.

The contract speaks in durations, never in instants: the limiter's clock (an event loop's)
means nothing to another process, so each store reads its own clock (the loop's here, the
Redis server's in `pachca_async.redis`) and every call is atomic for its key on that clock.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Hashable
from typing import Protocol

from . import bucket
from .config import Rate

RateKey = tuple[Hashable, ...]
"""What a bucket is kept for: `("other",)`, or `("message_write", "discussion", 198)`."""


class RateLimitBackend(Protocol):
    """Where bucket state lives. Each call is atomic for its key, on the store's own clock.

    The limiter asks only from the head of each key's local queue, so a store sees one caller
    per key and process however many requests wait behind it.
    """

    async def acquire(self, key: RateKey, rate: Rate, *, ago: float = 0.0) -> float:
        """Take one request's room in `key`'s bucket and return 0, or take nothing and return
        the seconds until there is room. `ago`: judge as of that many seconds ago (the limiter
        holds a quiet key's clock until its first answer)."""
        ...

    async def release(self, key: RateKey, rate: Rate) -> None:
        """Give back room taken by `acquire` for a request that was never sent."""
        ...

    async def postpone(self, key: RateKey, rate: Rate, *, by: float) -> None:
        """A request took `by` seconds to be answered: it may have reached the server that
        late, so the server's refill may lag the bucket's by that much."""
        ...

    async def throttle(self, key: RateKey, rate: Rate, *, pause: float, sent_ago: float) -> None:
        """The server answered 429 to a request sent `sent_ago` seconds ago: pause `key` for
        `pause` seconds, empty its bucket, and slow it down unless a 429 already did so for a
        request sent later than this one."""
        ...

    async def aclose(self) -> None:
        """Release what the store holds (connections it opened)."""
        ...


class _Bucket(bucket.BucketState):
    __slots__ = ("rate",)

    def __init__(self, rate: Rate) -> None:
        super().__init__()
        self.rate = rate
        """The rate it was last used with."""


class MemoryRateLimitBackend:
    """Buckets in a dict, for one process, on the event loop's clock. A bucket is dropped once
    it is at rest again (full, not paused, not slowed down), which loses nothing: memory
    follows the keys used in the last few seconds, not every key ever used."""

    def __init__(self) -> None:
        self._buckets: dict[RateKey, _Bucket] = {}
        self._ring: deque[RateKey] = deque()  # every key once, swept a couple at a time

    def __len__(self) -> int:
        """Buckets held right now."""
        return len(self._buckets)

    async def acquire(self, key: RateKey, rate: Rate, *, ago: float = 0.0) -> float:
        now = _now()
        wait = bucket.acquire(self._bucket(key, rate), rate, now - ago)
        if not wait:
            self._sweep(now)
        return wait

    async def release(self, key: RateKey, rate: Rate) -> None:
        state = self._buckets.get(key)
        if state is not None:
            bucket.release(state, rate, _now())

    async def postpone(self, key: RateKey, rate: Rate, *, by: float) -> None:
        bucket.postpone(self._bucket(key, rate), rate, _now(), by)

    async def throttle(self, key: RateKey, rate: Rate, *, pause: float, sent_ago: float) -> None:
        now = _now()
        bucket.throttle(self._bucket(key, rate), rate, now, pause, now - sent_ago)

    async def aclose(self) -> None:
        self._buckets.clear()
        self._ring.clear()

    def _bucket(self, key: RateKey, rate: Rate) -> _Bucket:
        state = self._buckets.get(key)
        if state is None:
            state = self._buckets[key] = _Bucket(rate)
            self._ring.append(key)
        else:
            state.rate = rate
        return state

    def _sweep(self, now: float) -> None:
        """Look at the two keys swept longest ago: drop them if at rest, else look again later."""
        for _ in range(2):
            key = self._ring.popleft()
            state = self._buckets[key]
            if bucket.rest_in(state, state.rate, now) <= 0:
                del self._buckets[key]
            else:
                self._ring.append(key)


def _now() -> float:
    return asyncio.get_running_loop().time()
