"""Reading `Retry-After`: the one place a server's "wait this long" becomes a number.

Every reader (the retry middleware, the rate limiter, the event poller, `RateLimitError`)
goes through here, so a hostile or broken value (`inf`, `1e999`, `nan`, negative, a date in
the year 9999) cannot reach a sleep or a clock sum: it is unknown (`None`) or bounded.
"""

from __future__ import annotations

import email.utils
import math

MAX_RETRY_AFTER = 86_400.0
"""The longest wait taken at its word, a day: Pachca's longest limit is a daily one, so
anything longer (up to `inf`) is read as a day."""


def sane_retry_after(seconds: float | None) -> float | None:
    """`seconds` within 0..`MAX_RETRY_AFTER`; `None` for NaN or no value."""
    if seconds is None or math.isnan(seconds):
        return None
    return min(max(0.0, float(seconds)), MAX_RETRY_AFTER)


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a `Retry-After` value (delta-seconds or an HTTP date), if valid.

    `now` (Unix time) turns a date into seconds. The result is bounded by `sane_retry_after`.
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        seconds = when.timestamp() - now
    return sane_retry_after(seconds)
