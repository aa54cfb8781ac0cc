"""Client configuration: where to send requests and how long to wait."""

from __future__ import annotations

import attrs

DEFAULT_BASE_URL = "https://api.pachca.com/api/shared/v1"
TOKEN_ENV = "PACHCA_TOKEN"
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

    @classmethod
    def of(cls, value: float | Timeout | None) -> Timeout:
        """A `Timeout` from a number of seconds (the total), a `Timeout`, or `None` (no limit)."""
        if isinstance(value, Timeout):
            return value
        if value is None:
            return cls(total=None, connect=None, read=None)
        return cls(total=value, connect=min(value, _CONNECT), read=value)


DEFAULT_TIMEOUT = Timeout()
