"""The bucket arithmetic, as pure functions of a `BucketState`, a `Rate` and the store's clock.

A bucket is GCRA (the generic cell rate algorithm): `tat`, the theoretical arrival time, is
when the bucket would be full again, and a request may go when `tat` is at most one burst ahead
of now. Every store runs exactly this: `MemoryRateLimitBackend` calls these functions, and the
Redis backend's Lua script (`pachca_async.redis`) is a line-by-line copy, checked against them
by a test that runs both on the same sequences.

Times are seconds on the store's own clock (the event loop's for the memory backend, the Redis
server's for Redis); the limiter passes only durations.
"""

from __future__ import annotations

import math

from .config import Rate

MIN_FACTOR = 1 / 16
"""However many 429s a key gets, it keeps this share of its rate."""

EPSILON = 1e-9
"""Timers may fire a clock tick early; that still counts as on time."""


class BucketState:
    """One key's bucket. A state equal to a new one means "never used" and need not be kept."""

    __slots__ = ("ceiling", "floor", "lag", "paused_until", "slowed_at", "tat")

    def __init__(self) -> None:
        self.tat = -math.inf
        self.paused_until = -math.inf
        self.floor = 1.0
        """The share of the rate right after the last slowdown (1: never slowed)."""
        self.ceiling = 1.0
        """The share of the rate that drew the last 429: known to be too much."""
        self.slowed_at = -math.inf
        self.lag = 0.0
        """How far `postpone` has pushed this busy spell back already."""


def factor_at(state: BucketState, rate: Rate, now: float) -> float:
    """The share of its rate the bucket allows at `now`, after slowdowns and recovery.

    After a 429 the share drops to `floor` and climbs back to `ceiling`, the share that drew the
    429, over `rate.recovery` seconds along a cubic: barely at first, faster near the end (the
    server took the floor and refused the ceiling; TCP CUBIC grows its window the same way
    after a loss). Past the ceiling it climbs on to the full rate linearly, one slowdown
    undone per `recovery` seconds.
    """
    if state.floor >= 1.0 or rate.recovery == 0:
        return 1.0
    elapsed = (now - state.slowed_at) / rate.recovery
    if elapsed < 1.0:
        return state.floor + (state.ceiling - state.floor) * elapsed**3
    return min(1.0, state.ceiling + (elapsed - 1.0) * (1.0 - rate.slowdown))


def shape(state: BucketState, rate: Rate, now: float) -> tuple[float, float]:
    """The current interval between requests, and how far ahead of it a burst may run."""
    factor = factor_at(state, rate, now)
    interval = 1.0 / (rate.per_second * factor)
    return interval, (max(1.0, rate.burst * factor) - 1.0) * interval


def acquire(state: BucketState, rate: Rate, now: float) -> float:
    """Take one request's room and return 0, or take nothing and return the seconds to wait."""
    interval, tolerance = shape(state, rate, now)
    ready = max(state.paused_until, state.tat - tolerance)
    if ready > now + EPSILON:
        return ready - now
    if state.tat < now:  # full: a new busy spell starts
        state.lag = 0.0
    state.tat = max(state.tat, now) + interval
    return 0.0


def release(state: BucketState, rate: Rate, now: float) -> None:
    """Give back the room `acquire` took for a request that was never sent."""
    state.tat -= shape(state, rate, now)[0]


def postpone(state: BucketState, rate: Rate, now: float, by: float) -> None:
    """A request reached the server up to `by` seconds after it was granted: the server's
    refill may lag the bucket's by that much. Lags of one busy spell (the first requests of
    several processes) overlap rather than add up: the bucket moves back by the largest."""
    if state.tat < now:  # full again meanwhile: count the request as arriving just now
        state.tat = now + shape(state, rate, now)[0]
    elif by > state.lag:
        state.tat += by - state.lag
        state.lag = by


def throttle(state: BucketState, rate: Rate, now: float, pause: float, sent_at: float) -> None:
    """A 429 to a request sent at `sent_at`: pause for `pause` seconds, empty the bucket, and
    slow down, unless a 429 already did so for a request sent later than this one.

    The share that drew the 429 becomes the ceiling to climb back to. A 429 while climbing
    above the last floor keeps that floor (the server took it), so the search narrows instead
    of halving again.
    """
    state.paused_until = max(state.paused_until, now + pause)
    if sent_at >= state.slowed_at:
        current = factor_at(state, rate, now)
        kept = state.floor if state.floor < current else 0.0
        state.ceiling = current
        state.floor = max(MIN_FACTOR, current * rate.slowdown, kept)
        state.slowed_at = now
    tolerance = shape(state, rate, now)[1]
    state.tat = max(state.tat, state.paused_until + tolerance)


def rest_in(state: BucketState, rate: Rate, now: float) -> float:
    """Seconds until the bucket is at rest (full, not paused, at its full rate): from then on
    it is the same as a new one, so a store may drop it."""
    at_rest = max(state.tat, state.paused_until)
    if state.floor < 1.0 and rate.recovery > 0 and rate.slowdown < 1.0:
        beyond = (1.0 - state.ceiling) / (1.0 - rate.slowdown)
        at_rest = max(at_rest, state.slowed_at + rate.recovery * (1.0 + beyond))
    return max(0.0, at_rest - now)
