"""The per-process scheduler: each key's FIFO queue, burst probing and the in-flight cap, in
front of a `RateLimitBackend` that holds the buckets (in memory, or shared through Redis).

Pachca counts requests per token: message writes per chat, message reads, webhook-event polls and
everything else (docs/api/limits.md). The limiter gives every *key* (a rate class, plus the chat
for message writes) a token bucket, and each request waits its turn in its key's queue, first in
first out, until the bucket has room. Keys are independent: a busy chat never delays another one.
Only the head of each queue asks the backend, so a thousand queued requests are one caller.

On top of plain pacing:

- A 429 pauses its whole key for `Retry-After` and slows the key down; the rate climbs back
  (`Rate.slowdown`, `Rate.recovery`, `bucket.factor_at`).
- A quiet key does not trust its configured burst at once: it sends 1 request, then 2, then 3,
  each round after the previous one was answered (or `RateLimits.round_timeout` passed), so a
  server stricter than the configuration answers a 429 or two instead of a whole burst of them.
- The first request on a quiet key holds the bucket's clock until it is answered (for at most
  `round_timeout`): the server's refill starts when the request arrives there, which may be
  well after it left.
- `RateLimits.max_in_flight` caps concurrent requests, apart from the rates.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from multidict import CIMultiDict

from .._loop import check_loop
from .._middleware import Handler
from .._operation import RateClass
from .._retry_after import parse_retry_after
from .._transport import Request, Response
from .backend import MemoryRateLimitBackend, RateKey, RateLimitBackend
from .config import Rate, RateLimits
from .keys import KeyPolicy, token_hash

logger = logging.getLogger("pachca_async")


class _Turnstile:
    """Lets up to `capacity` holders in, first come first served; `urgent` comers go first.

    A waiter cancelled before its turn leaves the line; one cancelled just as its turn came
    passes the turn on.
    """

    __slots__ = ("_capacity", "_holders", "_lines")

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._holders = 0
        self._lines: tuple[deque[asyncio.Future[None]], ...] = ()
        """(urgent, the rest), made when someone first has to wait: most keys never do."""

    @property
    def idle(self) -> bool:
        return self._holders == 0 and not any(self._lines)

    async def enter(self, *, urgent: bool = False) -> None:
        if self._holders < self._capacity and not any(self._lines):
            self._holders += 1
            return
        if not self._lines:
            self._lines = (deque(), deque())
        line = self._lines[0 if urgent else 1]
        turn = asyncio.get_running_loop().create_future()
        line.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if not turn.cancelled():  # the turn came together with the cancellation
                self.leave()
            elif turn in line:
                line.remove(turn)
            raise

    def leave(self) -> None:
        """Hand this holder's place to the next waiter, or free it."""
        for line in self._lines:
            while line:
                turn = line.popleft()
                if not turn.done():
                    turn.set_result(None)
                    return
        self._holders -= 1


class _Lane:
    """One key's requests in this process: the queue for its turn, and what is in flight."""

    __slots__ = (
        "anchor",
        "changed",
        "fresh",
        "in_flight",
        "probed",
        "round_sent",
        "round_size",
        "round_started",
        "turn_gate",
    )

    def __init__(self, probing: bool) -> None:
        self.turn_gate = _Turnstile(1)
        """Held by the request at the head of the queue while it waits for room."""
        self.in_flight = 0
        """Granted and not answered yet (waiting for a slot or on the wire)."""
        self.fresh = True
        self.anchor: float | None = None
        """When the lane's first request was granted, until it is answered."""
        self.round_size = 1 if probing else 0
        """Requests in the current probing round; 0 once probing is over."""
        self.round_sent = 0
        self.round_started = 0.0
        """When the current round's first request was granted."""
        self.probed = 0
        self.changed: asyncio.Future[None] | None = None

    def round_open(self, now: float, timeout: float) -> bool:
        """Whether probing lets one more request go now (opening the next round if it can).

        The next round, one larger, opens once the current one is answered, or `timeout`
        seconds after it started: a straggler does not hold the key any longer than that.
        """
        if self.round_size == 0 or self.round_sent < self.round_size:
            return True
        if self.in_flight == 0 or now >= self.round_started + timeout:
            self.round_size += 1
            self.round_sent = 0
            return True
        return False

    def grant(self, burst: int, now: float) -> None:
        self.in_flight += 1
        if self.round_size:
            if self.round_sent == 0:
                self.round_started = now
            self.round_sent += 1
            self.probed += 1
            if self.probed >= burst:
                self.round_size = 0

    def ungrant(self) -> None:
        self.in_flight -= 1
        if self.round_size:
            self.round_sent -= 1
            self.probed -= 1

    async def nap(self, at_most: float | None) -> None:
        """Wait until something changes in the lane (an answer, a refund), or `at_most` seconds."""
        loop = asyncio.get_running_loop()
        self.changed = changed = loop.create_future()
        timer = None if at_most is None else loop.call_later(at_most, _wake, changed)
        try:
            await changed
        finally:
            self.changed = None
            if timer is not None:
                timer.cancel()

    def poke(self) -> None:
        if self.changed is not None:
            _wake(self.changed)


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class RateLimiter:
    """The rate-limiting middleware `PachcaClient` puts between retries and logging.

    One limiter keeps each token's buckets apart (its backend sees a hash of the token, never
    the token), so clients of one token share their limits when they share a limiter or a
    shared backend.

    Args:
        limits: The numbers; Pachca's documented limits by default.
        backend: Where the buckets live; a fresh `MemoryRateLimitBackend` by default, or a
            `pachca_async.redis.RedisRateLimitBackend` shared by several processes.
        wall_clock: Only used to read an HTTP-date `Retry-After`.
    """

    def __init__(
        self,
        limits: RateLimits | None = None,
        *,
        backend: RateLimitBackend | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = limits = limits or RateLimits()
        self.backend: RateLimitBackend = backend or MemoryRateLimitBackend()
        self._wall_clock = wall_clock
        self._rates = {rate_class: limits.rate(rate_class) for rate_class in RateClass}
        self._keys = KeyPolicy(limits.remembered_messages)
        self._lanes: dict[RateKey, _Lane] = {}
        self._slots = None if limits.max_in_flight is None else _Turnstile(limits.max_in_flight)
        self._scopes: dict[str, str] = {}  # Authorization header -> a hash of it

    def __repr__(self) -> str:
        return f"RateLimiter({self.limits!r})"

    def key(self, request: Request) -> RateKey:
        """The key `request` counts against."""
        return self._keys.key(request)

    def observe(self, request: Request, result: Any) -> None:
        """Learn the chats of the messages in a decoded result; forget a deleted message."""
        self._keys.observe(request, result)

    async def aclose(self) -> None:
        """Close the backend (a Redis backend releases the connections it opened)."""
        await self.backend.aclose()

    async def __call__(self, request: Request, call_next: Handler) -> Response:
        check_loop(self, "RateLimiter")
        if not request.operation.auth:  # the file storage: no token, so none of its limits
            return await call_next(request)
        key = (self._scope(request), *self._keys.key(request))
        rate = self._rates[request.operation.rate_class]
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane(self.limits.probe_bursts)
        try:
            wait, anchor = await self._turn(lane, key, rate, urgent=request.attempt > 1)
        finally:
            self._forget_if_idle(key, lane)
        if wait:
            logger.info("rate limit: %s is paused for %.0f s more; not sending", key[1:], wait)
            return _refusal(wait)
        loop = asyncio.get_running_loop()
        try:
            if self._slots is not None:
                await self._slots.enter()
        except BaseException:
            await self._settle(key, rate, lane, anchor, sent=False)
            raise
        sent_at = loop.time()
        try:
            response = await call_next(request)
        except BaseException:
            await self._settle(key, rate, lane, anchor, sent=True)
            raise
        finally:
            if self._slots is not None:
                self._slots.leave()
        if response.status == 429:
            await self._throttle(key, rate, lane, response, sent_at)
        await self._settle(key, rate, lane, anchor, sent=True)
        return response

    def _scope(self, request: Request) -> str:
        """A short hash of the request's token: buckets are per token, and a store must never
        see the token itself."""
        authorization = request.headers.get("Authorization", "")
        scope = self._scopes.get(authorization)
        if scope is None:
            if len(self._scopes) >= 16:
                self._scopes.clear()
            scope = self._scopes[authorization] = token_hash(authorization)
        return scope

    async def _turn(
        self, lane: _Lane, key: RateKey, rate: Rate, *, urgent: bool
    ) -> tuple[float, bool]:
        """Wait for the head of `key`'s queue and room in its bucket; take the room.

        Returns `(0, anchor)` once granted, or `(seconds, False)` when the key is paused for
        longer than `max_wait`.
        """
        loop = asyncio.get_running_loop()
        timeout = self.limits.round_timeout
        await lane.turn_gate.enter(urgent=urgent)
        try:
            while True:
                now = loop.time()
                if not lane.round_open(now, timeout):
                    await lane.nap(lane.round_started + timeout - now)
                    continue
                held = lane.anchor
                if held is not None and now - held >= timeout:
                    # A straggler: assume it has reached the server by now, and stop holding.
                    lane.anchor = None
                    await self.backend.postpone(key, rate, by=now - held)
                    continue
                ago = 0.0 if held is None else now - held
                wait = await self.backend.acquire(key, rate, ago=ago)
                if wait <= 0:
                    anchor = lane.fresh
                    if anchor:
                        lane.fresh = False
                        lane.anchor = now
                    lane.grant(rate.burst, now)
                    return 0.0, anchor
                if held is not None:  # the bucket's clock is held until the first answer
                    if lane.anchor is not None:  # (it may have come while we asked)
                        await lane.nap(held + timeout - loop.time())
                elif wait > self.limits.max_wait:
                    return wait, False
                else:
                    await lane.nap(wait)
        finally:
            lane.turn_gate.leave()

    async def _throttle(
        self, key: RateKey, rate: Rate, lane: _Lane, response: Response, sent_at: float
    ) -> None:
        sent_ago = asyncio.get_running_loop().time() - sent_at
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now=self._wall_clock())
        pause = self.limits.default_pause if retry_after is None else retry_after
        await self.backend.throttle(key, rate, pause=pause, sent_ago=sent_ago)
        lane.round_size = 0  # the server said how much it takes: no more probing
        lane.anchor = None  # and when the bucket restarts: the held clock is moot
        logger.info("rate limit: 429 on %s; pausing it for %.2f s", key[1:], pause)

    async def _settle(
        self, key: RateKey, rate: Rate, lane: _Lane, anchor: bool, *, sent: bool
    ) -> None:
        """Book an answered (or abandoned) request, and wake the head of its queue."""
        if sent:
            lane.in_flight -= 1
        else:
            lane.ungrant()
            await self.backend.release(key, rate)
        if anchor:
            granted_at, lane.anchor = lane.anchor, None
            if not sent:
                lane.fresh = True  # the next request anchors the clock instead
            elif granted_at is not None:
                by = asyncio.get_running_loop().time() - granted_at
                await self.backend.postpone(key, rate, by=by)
        lane.poke()
        self._forget_if_idle(key, lane)

    def _forget_if_idle(self, key: RateKey, lane: _Lane) -> None:
        idle = lane.turn_gate.idle and lane.in_flight == 0 and lane.anchor is None
        if idle and self._lanes.get(key) is lane:
            del self._lanes[key]


def _refusal(wait: float) -> Response:
    """The answer for a request on a key paused longer than `max_wait`: it is never sent."""
    headers = CIMultiDict({"Retry-After": str(math.ceil(wait))})
    return Response(429, headers, b"", reason="Too Many Requests (paused by the rate limiter)")
