"""Pachca's rate limits as its server enforces them: for `FakePachca(rate_limits=...)`, the
rate-limit tests' strict server and the benchmark's limit server.

Written apart from the client's limiter (`_ratelimit`) on purpose: an oracle that shared the
client's arithmetic would share its mistakes. Which limit a call counts against is its
operation's `rate_class`, the same fact the client reads.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Hashable

from .._generated.services import OPERATIONS
from .._operation import RateClass
from .._ratelimit import Rate, RateLimits

SLACK = 1e-9
"""How early (in seconds) a request may come and still pass: float rounding, not leniency."""


class Bucket:
    """GCRA: `rate.per_second` requests a second on average, `rate.burst` at once."""

    __slots__ = ("interval", "tat", "tolerance")

    def __init__(self, rate: Rate) -> None:
        self.interval = 1 / rate.per_second
        self.tolerance = (rate.burst - 1) / rate.per_second
        self.tat = -math.inf

    def wait(self, now: float) -> float:
        """0 if a request is allowed at `now` (and it takes its place), else the seconds until
        one would be."""
        ready = self.tat - self.tolerance
        if now < ready - SLACK:
            return ready - now
        self.tat = max(self.tat, now) + self.interval
        return 0.0


def retry_after(wait: float) -> str:
    """The `Retry-After` of a refusal `wait` seconds early: whole seconds, rounded up."""
    return str(max(1, math.ceil(wait)))


class ServerLimits:
    """One `Bucket` per rate class and key (a token, and for message writes a chat too)."""

    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self.buckets: dict[tuple[Hashable, ...], Bucket] = {}
        self.refused = 0

    def wait(self, rate_class: RateClass, key: tuple[Hashable, ...], now: float) -> float:
        """0 if the request may go now, else how long it is early (and it counts as refused)."""
        bucket = self.buckets.get((rate_class, *key))
        if bucket is None:
            bucket = self.buckets[(rate_class, *key)] = Bucket(self.limits.rate(rate_class))
        wait = bucket.wait(now)
        self.refused += wait > 0
        return wait


def rate_class_of(method: str, path: str) -> RateClass:
    """The rate class of the operation `method path` is (OTHER for an unknown one)."""
    for pattern, rate_class in _patterns().get(method, ()):
        if pattern.fullmatch(path):
            return rate_class
    return RateClass.OTHER


@functools.cache
def _patterns() -> dict[str, list[tuple[re.Pattern[str], RateClass]]]:
    table: dict[str, list[tuple[re.Pattern[str], RateClass]]] = {}
    for operation in OPERATIONS.values():
        pattern = re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(operation.path))
        table.setdefault(operation.method, []).append((re.compile(pattern), operation.rate_class))
    return table
