"""Client-side rate limiting: pace requests so Pachca's limits are not tripped in the first place.

Pachca counts requests per token: message writes per chat, message reads, webhook-event polls and
everything else (docs/api/limits.md). The limiter gives every *key* (a rate class, plus the chat
for message writes) a token bucket, and each request waits its turn in its key's queue, first in
first out, until the bucket has room. Keys are independent: a busy chat never delays another one.

On top of plain pacing:

- A 429 pauses its whole key for `Retry-After` and slows the key down; the rate climbs back
  linearly (`Rate.slowdown`, `Rate.recovery`).
- A quiet key does not trust its configured burst at once: it sends 1 request, then 2, then 3,
  each round after the previous one was answered, so a server stricter than the configuration
  answers a 429 or two instead of a whole burst of them (`RateLimits.probe_bursts`).
- The first request on a quiet key holds the bucket's clock until it is answered: the server's
  refill starts when the request arrives there, which may be well after it left.
- `RateLimits.max_in_flight` caps concurrent requests, apart from the rates.

The buckets live in a `RateLimitBackend`; `MemoryRateLimitBackend`, the default, forgets a bucket
as soon as it is full again, so touching a million chats leaves nothing behind. Every wait is
on the event loop's clock.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Mapping
from typing import Any, Protocol

import attrs
from multidict import CIMultiDict

from ._exceptions import InvalidRequestError
from ._generated.models import Message
from ._loop import check_loop
from ._middleware import Handler
from ._operation import RateClass
from ._pagination import Page
from ._retry_after import parse_retry_after
from ._transport import Request, Response
from ._types import UNSET

logger = logging.getLogger("pachca_async")

RateKey = tuple[Hashable, ...]
"""What a bucket is kept for: `("other",)`, or `("message_write", "discussion", 198)`."""

_MIN_FACTOR = 1 / 16  # however many 429s a key gets, it keeps this share of its rate

_EPSILON = 1e-9  # timers may fire a clock tick early; that still counts as on time


@attrs.frozen
class Rate:
    """A token bucket: `per_second` requests a second on average, at most `burst` at once.

    After a 429 the key's rate is multiplied by `slowdown` (never below 1/16 of `per_second`),
    then climbs back linearly: one slowdown is undone after `recovery` seconds without another.
    """

    per_second: float
    burst: int = 1
    slowdown: float = 0.5
    recovery: float = 30.0

    def __attrs_post_init__(self) -> None:
        _check(self, "per_second", self.per_second > 0, "above 0")
        _check(self, "burst", self.burst >= 1, "at least 1")
        _check(self, "slowdown", 0 < self.slowdown <= 1, "above 0 and at most 1")
        _check(self, "recovery", self.recovery >= 0, "0 or more")


def _check(config: object, name: str, ok: bool, expected: str) -> None:
    if not ok:
        value = getattr(config, name)
        raise InvalidRequestError(f"rate limits: `{name}` must be {expected}, got {value!r}")


@attrs.frozen
class RateLimits:
    """How fast a client lets requests go. The defaults are Pachca's documented limits.

    ```python
    PachcaClient(rate_limits=RateLimits(message_write=Rate(2, burst=10), max_in_flight=20))
    PachcaClient(rate_limits=None)  # no client-side limiting at all
    ```
    """

    message_write: Rate = Rate(4, burst=20)
    """Sending, editing and deleting messages, per chat (Pachca: ~4/s, bursts up to 30/s for 5 s;
    a bucket of 20 stays safely inside that)."""
    message_read: Rate = Rate(10, burst=10)
    """Reading messages, per token."""
    webhook_events: Rate = Rate(2.5, burst=5)
    """Polling `GET /webhooks/events`: 5 per 2 s, per token."""
    other: Rate = Rate(50, burst=50)
    """Every other call, per token."""
    max_in_flight: int | None = 100
    """Requests on the wire at once, whatever their keys; `None`: no cap."""
    probe_bursts: bool = True
    """A quiet key sends its burst in growing rounds (1, 2, 3, ...), each after the previous round
    was answered, instead of all at once."""
    default_pause: float = 0.5
    """Seconds a key pauses after a 429 that carries no usable `Retry-After` (as long as the
    retry policy's first backoff)."""
    max_wait: float = 60.0
    """A key paused for longer than this (a daily limit, a ban) answers its requests at once
    with a 429 of its own instead of holding them."""
    remembered_messages: int = 10_000
    """How many message ids the client remembers the chat of, to key edits and deletes."""

    def __attrs_post_init__(self) -> None:
        in_flight = self.max_in_flight
        _check(self, "max_in_flight", in_flight is None or in_flight >= 1, "at least 1 or None")
        _check(self, "default_pause", self.default_pause >= 0, "0 or more")
        _check(self, "max_wait", self.max_wait >= 0, "0 or more")
        _check(self, "remembered_messages", self.remembered_messages >= 0, "0 or more")

    def rate(self, rate_class: RateClass) -> Rate:
        """The bucket for `rate_class` (the field named after its value)."""
        rate: Rate = getattr(self, rate_class.value)
        return rate


class RateLimitBackend(Protocol):
    """Where bucket state lives. Each call must be atomic for its key.

    `now` is the caller's event-loop clock. The in-memory backend is the only one today; a
    shared store (several processes on one token) would implement the same four calls.
    """

    async def acquire(self, key: RateKey, rate: Rate, now: float) -> float:
        """Take one request's room in `key`'s bucket and return 0, or take nothing and return
        the seconds until there is room."""
        ...

    async def release(self, key: RateKey, rate: Rate, now: float) -> None:
        """Give back room taken by `acquire` for a request that was never sent."""
        ...

    async def postpone(self, key: RateKey, rate: Rate, *, sent_at: float, now: float) -> None:
        """The request granted at `sent_at` was answered at `now`: it may have reached the
        server that late, so the server's refill may lag the bucket's by that much."""
        ...

    async def throttle(
        self, key: RateKey, rate: Rate, now: float, *, pause: float, sent_at: float
    ) -> None:
        """The server answered 429 at `now` to a request sent at `sent_at`: pause `key` for
        `pause` seconds, empty its bucket, and slow it down unless a 429 already did so for a
        request sent later than this one."""
        ...


class _Bucket:
    """GCRA state: `tat` is when the bucket would be full again (the theoretical arrival time)."""

    __slots__ = ("factor", "paused_until", "rate", "slowed_at", "tat")

    def __init__(self, rate: Rate) -> None:
        self.rate = rate
        """The rate it was last used with."""
        self.tat = -math.inf
        self.paused_until = -math.inf
        self.factor = 1.0
        self.slowed_at = -math.inf

    def factor_at(self, now: float) -> float:
        """The share of its rate the bucket allows at `now`, after slowdowns and recovery."""
        rate = self.rate
        if self.factor >= 1.0 or rate.recovery == 0:
            return 1.0
        climbed = (now - self.slowed_at) * (1.0 - rate.slowdown) / rate.recovery
        return min(1.0, self.factor + climbed)

    def shape(self, now: float) -> tuple[float, float]:
        """The current interval between requests, and how far ahead of it a burst may run."""
        factor = self.factor_at(now)
        interval = 1.0 / (self.rate.per_second * factor)
        return interval, (max(1.0, self.rate.burst * factor) - 1.0) * interval

    def at_rest(self, now: float) -> bool:
        """Full, not paused and not slowed: the same as a bucket never used."""
        return self.tat <= now and self.paused_until <= now and self.factor_at(now) >= 1.0


class MemoryRateLimitBackend:
    """Buckets in a dict, for one process. A bucket is dropped once it is at rest again (full, not
    paused, not slowed down), which loses nothing: memory follows the keys used in the last few
    seconds, not every key ever used."""

    def __init__(self) -> None:
        self._buckets: dict[RateKey, _Bucket] = {}
        self._ring: deque[RateKey] = deque()  # every key once, swept a couple at a time

    def __len__(self) -> int:
        """Buckets held right now."""
        return len(self._buckets)

    async def acquire(self, key: RateKey, rate: Rate, now: float) -> float:
        bucket = self._bucket(key, rate)
        interval, tolerance = bucket.shape(now)
        ready = max(bucket.paused_until, bucket.tat - tolerance)
        if ready > now + _EPSILON:
            return ready - now
        bucket.tat = max(bucket.tat, now) + interval
        self._sweep(now)
        return 0.0

    async def release(self, key: RateKey, rate: Rate, now: float) -> None:
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.tat -= bucket.shape(now)[0]

    async def postpone(self, key: RateKey, rate: Rate, *, sent_at: float, now: float) -> None:
        bucket = self._bucket(key, rate)
        if bucket.tat < now:  # full again meanwhile: count the request as arriving just now
            bucket.tat = now + bucket.shape(now)[0]
        else:
            bucket.tat += now - sent_at

    async def throttle(
        self, key: RateKey, rate: Rate, now: float, *, pause: float, sent_at: float
    ) -> None:
        bucket = self._bucket(key, rate)
        bucket.paused_until = max(bucket.paused_until, now + pause)
        if sent_at >= bucket.slowed_at:
            bucket.factor = max(_MIN_FACTOR, bucket.factor_at(now) * rate.slowdown)
            bucket.slowed_at = now
        tolerance = bucket.shape(now)[1]
        bucket.tat = max(bucket.tat, bucket.paused_until + tolerance)

    def _bucket(self, key: RateKey, rate: Rate) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(rate)
            self._ring.append(key)
        else:
            bucket.rate = rate
        return bucket

    def _sweep(self, now: float) -> None:
        """Look at the two keys swept longest ago: drop them if at rest, else look again later."""
        for _ in range(2):
            key = self._ring.popleft()
            bucket = self._buckets[key]
            if bucket.at_rest(now):
                del self._buckets[key]
            else:
                self._ring.append(key)


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
        self.probed = 0
        self.changed: asyncio.Future[None] | None = None

    def round_open(self) -> bool:
        """Whether probing lets one more request go now (opening the next round if it can)."""
        if self.round_size == 0 or self.round_sent < self.round_size:
            return True
        if self.in_flight == 0:  # the round is answered: the next one is one larger
            self.round_size += 1
            self.round_sent = 0
            return True
        return False

    def grant(self, burst: int) -> None:
        self.in_flight += 1
        if self.round_size:
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

    One limiter counts all that passes through it as one token's traffic: share one between
    clients (`PachcaClient(rate_limits=limiter)`) only if they use the same token.

    Args:
        limits: The numbers; Pachca's documented limits by default.
        backend: Where the buckets live; a fresh `MemoryRateLimitBackend` by default.
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
        self._class_keys: dict[RateClass, RateKey] = {c: (c.value,) for c in RateClass}
        self._lanes: dict[RateKey, _Lane] = {}
        self._slots = None if limits.max_in_flight is None else _Turnstile(limits.max_in_flight)
        self._chats: OrderedDict[Any, tuple[str, Any]] = OrderedDict()  # message id -> chat

    def __repr__(self) -> str:
        return f"RateLimiter({self.limits!r})"

    def key(self, request: Request) -> RateKey:
        """The key `request` counts against."""
        rate_class = request.operation.rate_class
        if rate_class is RateClass.MESSAGE_WRITE:
            arguments = request.arguments
            chat = _chat_of(arguments) or self._chats.get(arguments.get("id"))
            if chat is not None:
                return (rate_class.value, *chat)
        return self._class_keys[rate_class]

    def observe(self, request: Request, result: Any) -> None:
        """Learn the chats of the messages in a decoded result; forget a deleted message."""
        if isinstance(result, Message):
            self._remember(result)
        elif isinstance(result, Page) and result.items and isinstance(result.items[0], Message):
            for item in result.items:
                self._remember(item)
        operation = request.operation
        if operation.rate_class is RateClass.MESSAGE_WRITE and operation.method == "DELETE":
            self._chats.pop(request.arguments.get("id"), None)

    def _remember(self, message: Message) -> None:
        chats = self._chats
        chats[message.id] = (_value(message.entity_type), message.entity_id)
        chats.move_to_end(message.id)
        if len(chats) > self.limits.remembered_messages:
            chats.popitem(last=False)  # the one seen longest ago

    async def __call__(self, request: Request, call_next: Handler) -> Response:
        check_loop(self, "RateLimiter")
        if not request.operation.auth:  # the file storage: no token, so none of its limits
            return await call_next(request)
        key = self.key(request)
        rate = self._rates[request.operation.rate_class]
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane(self.limits.probe_bursts)
        try:
            wait, anchor = await self._turn(lane, key, rate, urgent=request.attempt > 1)
        finally:
            self._forget_if_idle(key, lane)
        if wait:
            logger.info("rate limit: %s is paused for %.0f s more; not sending", key, wait)
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

    async def _turn(
        self, lane: _Lane, key: RateKey, rate: Rate, *, urgent: bool
    ) -> tuple[float, bool]:
        """Wait for the head of `key`'s queue and room in its bucket; take the room.

        Returns `(0, anchor)` once granted, or `(seconds, False)` when the key is paused for
        longer than `max_wait`.
        """
        loop = asyncio.get_running_loop()
        await lane.turn_gate.enter(urgent=urgent)
        try:
            while True:
                if not lane.round_open():
                    await lane.nap(None)
                    continue
                held = lane.anchor
                clock = loop.time() if held is None else held
                wait = await self.backend.acquire(key, rate, clock)
                if wait <= 0:
                    anchor = lane.fresh
                    if anchor:
                        lane.fresh = False
                        lane.anchor = clock
                    lane.grant(rate.burst)
                    return 0.0, anchor
                if held is not None:  # the bucket's clock is held until the first answer
                    if lane.anchor is not None:  # (it may have come while we asked)
                        await lane.nap(None)
                elif wait > self.limits.max_wait:
                    return wait, False
                else:
                    await lane.nap(wait)
        finally:
            lane.turn_gate.leave()

    async def _throttle(
        self, key: RateKey, rate: Rate, lane: _Lane, response: Response, sent_at: float
    ) -> None:
        loop = asyncio.get_running_loop()
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now=self._wall_clock())
        pause = self.limits.default_pause if retry_after is None else retry_after
        await self.backend.throttle(key, rate, loop.time(), pause=pause, sent_at=sent_at)
        lane.round_size = 0  # the server said how much it takes: no more probing
        lane.anchor = None  # and when the bucket restarts: the held clock is moot
        logger.info("rate limit: 429 on %s; pausing it for %.2f s", key, pause)

    async def _settle(
        self, key: RateKey, rate: Rate, lane: _Lane, anchor: bool, *, sent: bool
    ) -> None:
        """Book an answered (or abandoned) request, and wake the head of its queue."""
        now = asyncio.get_running_loop().time()
        if sent:
            lane.in_flight -= 1
        else:
            lane.ungrant()
            await self.backend.release(key, rate, now)
        if anchor:
            granted_at, lane.anchor = lane.anchor, None
            if not sent:
                lane.fresh = True  # the next request anchors the clock instead
            elif granted_at is not None:
                await self.backend.postpone(key, rate, sent_at=granted_at, now=now)
        lane.poke()
        self._forget_if_idle(key, lane)

    def _forget_if_idle(self, key: RateKey, lane: _Lane) -> None:
        idle = lane.turn_gate.idle and lane.in_flight == 0 and lane.anchor is None
        if idle and self._lanes.get(key) is lane:
            del self._lanes[key]


def _chat_of(arguments: Mapping[str, Any]) -> tuple[str, Any] | None:
    """The chat a new message goes to, from the keywords or a `body=` request model."""
    body = arguments.get("body", UNSET)
    if body is UNSET:
        entity_type, entity_id = arguments.get("entity_type", UNSET), arguments.get("entity_id")
    else:
        message = getattr(body, "message", None)
        entity_type = getattr(message, "entity_type", UNSET)
        entity_id = getattr(message, "entity_id", None)
    if entity_id is None or entity_id is UNSET:
        return None
    kind = "discussion" if entity_type is UNSET or entity_type is None else _value(entity_type)
    return kind, entity_id


def _value(entity_type: Any) -> str:
    return str(getattr(entity_type, "value", entity_type))


def _refusal(wait: float) -> Response:
    """The answer for a request on a key paused longer than `max_wait`: it is never sent."""
    headers = CIMultiDict({"Retry-After": str(math.ceil(wait))})
    return Response(429, headers, b"", reason="Too Many Requests (paused by the rate limiter)")
