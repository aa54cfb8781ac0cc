"""The numbers a rate limiter works with: one `Rate` per rate class, gathered in `RateLimits`."""

from __future__ import annotations

import math
from typing import Any

import attrs

from .._config import at_least, check_value, positive
from .._operation import RateClass


def _share(value: Any) -> bool:
    return positive(value) and value <= 1


def _duration(value: Any) -> bool:
    """0 or more seconds, or `math.inf` (where that means "never")."""
    return at_least(0)(value) or value == math.inf


def _cap(value: Any) -> bool:
    return value is None or at_least(1)(value)


@attrs.frozen
class Rate:
    """A token bucket: `per_second` requests a second on average, at most `burst` at once.

    After a 429 the key's rate is multiplied by `slowdown` (never below 1/16 of `per_second`),
    then climbs back over `recovery` seconds to the rate that drew the 429: slowly at first,
    since that rate is known to be too much (see `bucket.factor_at`).
    """

    per_second: float
    burst: int = 1
    slowdown: float = 0.5
    recovery: float = 30.0

    def __attrs_post_init__(self) -> None:
        check_value("per_second", self.per_second, positive, "a number above 0")
        check_value("burst", self.burst, at_least(1), "a number, at least 1")
        check_value("slowdown", self.slowdown, _share, "a number above 0 and at most 1")
        check_value("recovery", self.recovery, _duration, "a number, 0 or more (inf: never)")


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
    round_timeout: float = 1.0
    """Seconds a probing round waits for its slowest answer: after that the next round goes
    anyway, so one slow call does not hold every other call of its key."""
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
        check_value("max_in_flight", in_flight, _cap, "a number, at least 1, or None")
        check_value("round_timeout", self.round_timeout, at_least(0), "a number, 0 or more")
        check_value("default_pause", self.default_pause, at_least(0), "a number, 0 or more")
        check_value("max_wait", self.max_wait, _duration, "a number, 0 or more (inf: no limit)")
        remembered = self.remembered_messages
        check_value("remembered_messages", remembered, at_least(0), "a number, 0 or more")

    def rate(self, rate_class: RateClass) -> Rate:
        """The bucket for `rate_class` (the field named after its value)."""
        rate: Rate = getattr(self, rate_class.value)
        return rate
