"""Client configuration: where to send requests and how long to wait."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import attrs

from ._exceptions import InvalidRequestError

DEFAULT_BASE_URL = "https://api.pachca.com/api/shared/v1"
TOKEN_ENV = "PACHCA_TOKEN"
BASE_URL_ENV = "PACHCA_BASE_URL"
REQUEST_ID_HEADER = "X-Request-Id"
"""The header in which Pachca names each request it answers."""
_CONNECT = 10.0

MAX_RESPONSE_SIZE = 32 * 1024 * 1024
"""Bytes of an answer the client reads at most, after decompression: far above any real answer
(a 50-message page is about 70 KiB), far below what would hurt the process."""
MAX_ERROR_SIZE = 1024 * 1024
"""The same for an error answer, whose body is only read for its message."""


@attrs.frozen(cache_hash=True)
class Timeout:
    """Seconds to wait, per request attempt; `None` waits forever.

    `total` bounds the whole attempt, `connect` getting a connection, `read` the gap between
    two chunks of the answer. The default (30 s in all) is far below aiohttp's 300 s: an
    API call that takes longer than that is better retried or reported.
    """

    total: float | None = 30.0
    connect: float | None = _CONNECT
    read: float | None = 30.0

    def __attrs_post_init__(self) -> None:
        for name in ("total", "connect", "read"):
            check(self, name, lambda v: v is None or positive(v), "a number above 0, or None")

    @classmethod
    def of(cls, value: float | Timeout | None) -> Timeout:
        """A `Timeout` from a number of seconds (the total), a `Timeout`, or `None` (no limit)."""
        if isinstance(value, Timeout):
            return value
        if value is None:
            return cls(total=None, connect=None, read=None)
        check_value("timeout", value, positive, "a number above 0, a Timeout or None")
        return cls(total=value, connect=min(value, _CONNECT), read=value)


def positive(value: Any) -> bool:
    """A finite number above 0 (not a bool)."""
    return at_least(0)(value) and value > 0


def at_least(bound: float) -> Callable[[Any], bool]:
    """A check: a finite number (not a bool) of `bound` or more."""

    def ok(value: Any) -> bool:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        return number and math.isfinite(value) and value >= bound

    return ok


def check(config: object, name: str, ok: Callable[[Any], bool], expected: str) -> None:
    """Raise `InvalidRequestError` naming `config`'s field `name` unless `ok(value)`."""
    check_value(f"{type(config).__name__}.{name}", getattr(config, name), ok, expected)


def check_value(name: str, value: Any, ok: Callable[[Any], bool], expected: str) -> None:
    if not ok(value):
        raise InvalidRequestError(f"`{name}` must be {expected}, got {value!r}")


DEFAULT_TIMEOUT = Timeout()
