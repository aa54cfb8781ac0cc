"""When to repeat a request, and how long to wait first.

The policy only decides; the session layer's retry middleware does the waiting, on the event
loop's clock. The rules:

- 429: wait what `Retry-After` says (seconds or an HTTP date), never less; a wait above
  `max_retry_after` means a daily limit or a ban, so the error is raised at once instead.
- 5xx, timeouts and broken connections: retried only where repeating is harmless (GET, HEAD,
  PUT, DELETE, OPTIONS) or where the connection failed before anything was sent. A POST that
  may have reached the server is never sent twice: a duplicated message is the worst bug a
  messenger SDK can have.
- Between attempts: exponential backoff with jitter, within `max_retries` and `deadline`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import attrs

from ._config import at_least, check
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    ConnectError,
    PachcaError,
    RateLimitError,
)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


@attrs.frozen
class RetryEvent:
    """Handed to `RetryPolicy.on_retry` before each wait."""

    operation: str
    method: str
    attempt: int
    """The attempt that failed (1 for the first)."""
    delay: float
    """Seconds until the next attempt."""
    error: PachcaError


RetryHook = Callable[[RetryEvent], Awaitable[None] | None]


@attrs.frozen
class RetryPolicy:
    """How failed requests are repeated. The defaults suit Pachca's documented behaviour."""

    max_retries: int = 3
    """Retries after the first attempt."""
    backoff: float = 0.5
    """The first backoff in seconds; it doubles with every retry."""
    max_backoff: float = 8.0
    jitter: float = 0.5
    """Backoffs vary by up to this fraction either way; a `Retry-After` wait only grows."""
    max_retry_after: float = 60.0
    """A 429 asking to wait longer than this raises `RateLimitError` at once."""
    deadline: float | None = 120.0
    """No retry starts later than this many seconds after the first attempt."""
    retry_statuses: frozenset[int] = frozenset({500, 502, 503, 504})
    on_retry: RetryHook | None = None
    """Called (and awaited, if it returns an awaitable) before each wait."""
    random: Callable[[], float] = random.random
    wall_clock: Callable[[], float] = time.time
    """Only used to turn an HTTP-date `Retry-After` into seconds."""

    def __attrs_post_init__(self) -> None:
        check(self, "max_retries", lambda v: isinstance(v, int) and at_least(0)(v), "0 or more")
        for name in ("backoff", "max_backoff", "max_retry_after"):
            check(self, name, at_least(0), "a number, 0 or more")
        check(self, "jitter", lambda v: at_least(0)(v) and v <= 1, "a number from 0 to 1")
        check(self, "deadline", lambda v: v is None or at_least(0)(v), "0 or more, or None")

    def delay(self, error: PachcaError, *, method: str, attempt: int) -> float | None:
        """Seconds to wait before retrying after `error` on `attempt` (1-based); None: give up."""
        if attempt > self.max_retries:
            return None
        if isinstance(error, RateLimitError):
            return self._rate_limit_delay(error, attempt)
        if not self._may_repeat(error, method):
            return None
        return self._backoff(attempt)

    def _may_repeat(self, error: PachcaError, method: str) -> bool:
        if isinstance(error, ConnectError):
            return True  # nothing was sent
        safe = method.upper() in IDEMPOTENT_METHODS
        if isinstance(error, APIConnectionError):
            return safe
        if isinstance(error, APIStatusError):
            return safe and error.status in self.retry_statuses
        return False

    def _rate_limit_delay(self, error: RateLimitError, attempt: int) -> float | None:
        if error.retry_after is None:
            return self._backoff(attempt)
        if error.retry_after > self.max_retry_after:
            return None
        return error.retry_after * (1 + self.jitter * 0.2 * self.random())

    def _backoff(self, attempt: int) -> float:
        base = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        return float(base * (1 + self.jitter * (2 * self.random() - 1)))

    def with_changes(self, **changes: Any) -> RetryPolicy:
        return attrs.evolve(self, **changes)
