"""Client-side rate limiting: pace requests so Pachca's limits are not tripped in the first place.

- `config`: the numbers (`Rate`, `RateLimits`);
- `bucket`: the bucket arithmetic, pure functions every store runs;
- `backend`: where buckets live (the `RateLimitBackend` contract, `MemoryRateLimitBackend`);
- `keys`: which bucket a request counts against;
- `limiter`: the per-process scheduler, `RateLimiter`, the middleware.
"""

from .backend import MemoryRateLimitBackend, RateKey, RateLimitBackend
from .config import Rate, RateLimits
from .limiter import RateLimiter

__all__ = [
    "MemoryRateLimitBackend",
    "Rate",
    "RateKey",
    "RateLimitBackend",
    "RateLimiter",
    "RateLimits",
]
