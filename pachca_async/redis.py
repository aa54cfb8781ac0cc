"""State shared through Redis by the processes of one bot: rate limits, webhook dedupe, polling.

`pip install 'pachca-async[redis]'` brings redis-py; any Redis-protocol server works (Redis 5+,
Valkey, Redis Cluster: every script touches one key).

```python
backend = RedisRateLimitBackend.from_url("redis://localhost:6379/0")
pachca = PachcaClient(rate_limits=RateLimiter(backend=backend))
...
await pachca.close()
await backend.aclose()
```

When Redis cannot be reached, nothing waits for it and nothing fails because of it: the rate
limiter paces on its own (in memory, as a single process would) and webhook dedupe remembers
what this process saw, with one WARNING when that starts and an INFO line when Redis answers
again (tried again every `retry_interval` seconds). So a Redis outage costs sharing, never a
request: replicas may then draw a few 429s (which are retried) and a repeated delivery that
lands on another replica may run twice (Pachca itself delivers at least once). The polling
lease is the exception: no replica can prove it is the only poller, so polling pauses until
Redis is back (events wait in Pachca's history; none is handled twice).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final, Self, TypeVar, cast

try:
    from redis import asyncio as aioredis
    from redis.exceptions import RedisError
except ImportError as error:  # pragma: no cover - depends on the install
    raise ImportError(
        "pachca_async.redis needs redis-py: pip install 'pachca-async[redis]'"
    ) from error

from ._config import at_least, check_value, positive
from ._ratelimit import MemoryRateLimitBackend, Rate, RateKey
from .bot._polling import LeaseLost
from .bot._receiver import MemoryDedupe

__all__ = ["RedisDedupe", "RedisPollingLease", "RedisRateLimitBackend"]

logger = logging.getLogger("pachca_async")

_ERRORS = (RedisError, OSError)

T = TypeVar("T")
DOWN: Final = object()
"""What `_Shared.attempt` returns when Redis could not be asked."""


class _Shared:
    """A Redis client that may be down: whether to try it now, and one log line per outage."""

    def __init__(
        self, redis: aioredis.Redis, *, prefix: str = "pachca:", retry_interval: float = 1.0
    ) -> None:
        check_value("retry_interval", retry_interval, at_least(0), "a number, 0 or more")
        self.redis = redis
        self.prefix = prefix
        self.retry_interval = retry_interval
        self._owned = False
        self._down_since: float | None = None
        self._retry_at = -math.inf

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        max_connections: int = 50,
        pool_timeout: float = 5.0,
        socket_timeout: float = 1.0,
        **options: Any,
    ) -> Self:
        """An instance on a connection pool of its own, which `aclose()` closes.

        When all `max_connections` are busy a call waits for one (up to `pool_timeout`
        seconds) instead of failing; a Redis that does not answer within `socket_timeout`
        seconds counts as down. `options` go to the constructor (`prefix=`, ...).
        """
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=pool_timeout,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
        )
        shared = cls(aioredis.Redis.from_pool(pool), **options)
        shared._owned = True
        return shared

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections, if this object opened them (`from_url`)."""
        if self._owned:
            await self.redis.aclose()

    @property
    def available(self) -> bool:
        """Whether to try Redis now: it is up, or it is time to look again."""
        return self._down_since is None or time.monotonic() >= self._retry_at

    async def attempt(self, call: Callable[[], Awaitable[T]]) -> T | object:
        """`call()`'s result, or `DOWN` when Redis is down (not even tried) or fails now."""
        if not self.available:
            return DOWN
        try:
            result = await call()
        except _ERRORS as error:
            self.failed(error)
            return DOWN
        self.answered()
        return result

    def failed(self, error: BaseException) -> None:
        now = time.monotonic()
        self._retry_at = now + self.retry_interval
        if self._down_since is None:
            self._down_since = now
            logger.warning(
                "Redis is unreachable (%s: %s): %s goes on without sharing, trying again "
                "every %.0f s",
                type(error).__name__,
                error,
                type(self).__name__,
                self.retry_interval,
            )

    def answered(self) -> None:
        if self._down_since is not None:
            logger.info(
                "Redis answers again after %.1f s: %s shares its state again",
                time.monotonic() - self._down_since,
                type(self).__name__,
            )
            self._down_since = None

    def name(self, *parts: object) -> str:
        return self.prefix + ":".join(map(str, parts))


class RedisRateLimitBackend(_Shared):
    """Rate-limit buckets in Redis, shared by every process of one token.

    Each call is one Lua script on one key (the arithmetic of `pachca_async._ratelimit.bucket`,
    line by line) reading the Redis server's clock, so replicas on different machines agree.
    Keys are named after a hash of the token, never the token, and expire once the bucket is
    full again. The client's own scheduling (queues, probing, `max_in_flight`) stays in each
    process; only the head of each queue asks Redis.

    Args:
        redis: A `redis.asyncio.Redis`; yours to close. `from_url` makes one it closes.
        prefix: Starts every key name.
        retry_interval: Seconds between attempts to reach Redis while it is down.
    """

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        prefix: str = "pachca:rate:",
        retry_interval: float = 1.0,
    ) -> None:
        super().__init__(redis, prefix=prefix, retry_interval=retry_interval)
        self._script = redis.register_script(SCRIPT)
        self._local = MemoryRateLimitBackend()

    def __repr__(self) -> str:
        return f"RedisRateLimitBackend(prefix={self.prefix!r})"

    async def acquire(self, key: RateKey, rate: Rate, *, ago: float = 0.0) -> float:
        wait = await self._run("acquire", key, rate, ago)
        return await self._local.acquire(key, rate, ago=ago) if wait is None else wait

    async def release(self, key: RateKey, rate: Rate) -> None:
        if await self._run("release", key, rate) is None:
            await self._local.release(key, rate)

    async def postpone(self, key: RateKey, rate: Rate, *, by: float) -> None:
        if await self._run("postpone", key, rate, by) is None:
            await self._local.postpone(key, rate, by=by)

    async def throttle(self, key: RateKey, rate: Rate, *, pause: float, sent_ago: float) -> None:
        if await self._run("throttle", key, rate, pause, sent_ago) is None:
            await self._local.throttle(key, rate, pause=pause, sent_ago=sent_ago)

    async def _run(self, op: str, key: RateKey, rate: Rate, a: float = 0, b: float = 0) -> Any:
        """The script's answer (seconds to wait, or 0), or None when Redis is down."""
        numbers = (rate.per_second, rate.burst, rate.slowdown, rate.recovery, a, b)
        args = [op, *map(_arg, numbers)]
        answer = await self.attempt(lambda: self._script(keys=[self.name(*key)], args=args))
        return None if answer is DOWN else float(cast(str, answer))


class RedisDedupe(_Shared):
    """Webhook deliveries seen by any replica, for `WebhookReceiver(..., dedupe=...)`: a
    delivery one replica handles is a repeat on every other (`SET NX` with an expiry).

    Args:
        redis: A `redis.asyncio.Redis`; yours to close. `from_url` makes one it closes.
        ttl: Seconds a delivery is remembered.
        prefix: Starts every key name.
        retry_interval: Seconds between attempts to reach Redis while it is down.
    """

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        ttl: float = 3600.0,
        prefix: str = "pachca:delivery:",
        retry_interval: float = 1.0,
    ) -> None:
        super().__init__(redis, prefix=prefix, retry_interval=retry_interval)
        check_value("ttl", ttl, positive, "a number above 0")
        self.ttl = ttl
        self._local = MemoryDedupe(ttl)

    def __repr__(self) -> str:
        return f"RedisDedupe(prefix={self.prefix!r}, ttl={self.ttl!r})"

    async def claim(self, key: bytes) -> bool:
        first_here = await self._local.claim(key)
        expiry = max(1, int(self.ttl * 1000))
        first = await self.attempt(
            lambda: self.redis.set(self.name(key.hex()), b"1", nx=True, px=expiry)
        )
        # A repeat here is a repeat, even if Redis lost the key (evicted, flushed, or down
        # when it was first claimed); setting it anyway tells the other replicas.
        return first_here if first is DOWN else first_here and bool(first)

    async def forget(self, key: bytes) -> None:
        await self._local.forget(key)
        await self.attempt(lambda: self.redis.delete(self.name(key.hex())))


class RedisPollingLease(_Shared):
    """One replica at a time polls a token's event history, for
    `dp.start_polling(pachca, lease=...)`; the watermark lives in Redis with the lease.

    The holder renews the lease every `ttl / 3` seconds and checks it before handling, deleting
    or marking an event; each new holder gets a higher fencing number and Redis turns down the
    saves and checks of an older one. When the holder dies, another replica takes over within
    `ttl` seconds (plus up to `ttl / 3` until it looks again). While Redis is down nobody holds
    the lease, so polling pauses: the events wait in Pachca's history, none is handled twice.

    Args:
        redis: A `redis.asyncio.Redis`; yours to close. `from_url` makes one it closes.
        ttl: Seconds a lease lasts unrenewed.
        prefix: Starts every key name (one key per token: the lease, its fence, the watermark).
        retry_interval: Seconds between attempts to reach Redis while it is down.
    """

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        ttl: float = 5.0,
        prefix: str = "pachca:polling:",
        retry_interval: float = 1.0,
    ) -> None:
        super().__init__(redis, prefix=prefix, retry_interval=retry_interval)
        check_value("ttl", ttl, positive, "a number above 0")  # 0 would poll Redis nonstop
        self.ttl = ttl
        self._script = redis.register_script(LEASE_SCRIPT)

    def __repr__(self) -> str:
        return f"RedisPollingLease(prefix={self.prefix!r}, ttl={self.ttl!r})"

    async def acquire(self, scope: str) -> int | None:
        fence = await self._run("acquire", scope)
        return fence or None

    async def hold(self, scope: str, fence: int) -> bool:
        return bool(await self._run("hold", scope, fence))

    async def release(self, scope: str, fence: int) -> None:
        await self._run("release", scope, fence)

    async def save(self, scope: str, fence: int, watermark: str) -> bool:
        return bool(await self._run("save", scope, fence, watermark))

    async def load(self, scope: str) -> str | None:
        saved = await self.attempt(lambda: self.redis.hget(self.name(scope), "watermark"))
        if saved is DOWN:
            raise LeaseLost("Redis is unreachable: cannot read the watermark")
        if saved is None:
            return None
        return saved.decode() if isinstance(saved, bytes) else str(saved)

    async def _run(self, op: str, scope: str, fence: int = 0, watermark: str = "") -> int:
        """The script's answer, or 0 (not acquired, not held) when Redis is down."""
        args = [op, str(max(1, int(self.ttl * 1000))), str(fence), watermark]
        answer = await self.attempt(lambda: self._script(keys=[self.name(scope)], args=args))
        return 0 if answer is DOWN else int(cast(str, answer))


def _arg(number: float) -> str:
    return repr(min(float(number), 1e300))  # Lua reads "1e+300", and no infinities


# The bucket arithmetic of `pachca_async._ratelimit.bucket`, line by line; keep them in step
# (tests/redis/test_script.py runs both on the same sequences). `clock()` is defined first.
_BODY = """
local MIN_FACTOR, EPSILON = 1 / 16, 1e-9
local FIELDS = {"tat", "paused_until", "floor", "ceiling", "slowed_at", "lag"}
local key, op = KEYS[1], ARGV[1]
local per_second, burst = tonumber(ARGV[2]), tonumber(ARGV[3])
local slowdown, recovery = tonumber(ARGV[4]), tonumber(ARGV[5])
local a, b = tonumber(ARGV[6]), tonumber(ARGV[7])
local now = clock()

local s = {tat = -math.huge, paused_until = -math.huge, floor = 1.0, ceiling = 1.0,
           slowed_at = -math.huge, lag = 0.0}
local stored = redis.call("HMGET", key, unpack(FIELDS))
local exists = false
for i, field in ipairs(FIELDS) do
  if stored[i] then s[field] = tonumber(stored[i]); exists = true end
end

local function factor_at(at)
  if s.floor >= 1.0 or recovery == 0 then return 1.0 end
  local elapsed = (at - s.slowed_at) / recovery
  if elapsed < 1.0 then return s.floor + (s.ceiling - s.floor) * elapsed ^ 3 end
  return math.min(1.0, s.ceiling + (elapsed - 1.0) * (1.0 - slowdown))
end

local function shape(at)
  local factor = factor_at(at)
  local interval = 1.0 / (per_second * factor)
  return interval, (math.max(1.0, burst * factor) - 1.0) * interval
end

local function acquire(at)
  local interval, tolerance = shape(at)
  local ready = math.max(s.paused_until, s.tat - tolerance)
  if ready > at + EPSILON then return ready - at end
  if s.tat < at then s.lag = 0.0 end
  s.tat = math.max(s.tat, at) + interval
  return 0.0
end

local function release(at)
  local interval = shape(at)
  s.tat = s.tat - interval
end

local function postpone(at, by)
  if s.tat < at then
    local interval = shape(at)
    s.tat = at + interval
  elseif by > s.lag then
    s.tat = s.tat + (by - s.lag)
    s.lag = by
  end
end

local function throttle(at, pause, sent_at)
  s.paused_until = math.max(s.paused_until, at + pause)
  if sent_at >= s.slowed_at then
    local current = factor_at(at)
    local kept = 0.0
    if s.floor < current then kept = s.floor end
    s.ceiling = current
    s.floor = math.max(MIN_FACTOR, current * slowdown, kept)
    s.slowed_at = at
  end
  local _, tolerance = shape(at)
  s.tat = math.max(s.tat, s.paused_until + tolerance)
end

local function rest_in(at)
  local at_rest = math.max(s.tat, s.paused_until)
  if s.floor < 1.0 and recovery > 0 and slowdown < 1.0 then
    local beyond = (1.0 - s.ceiling) / (1.0 - slowdown)
    at_rest = math.max(at_rest, s.slowed_at + recovery * (1.0 + beyond))
  end
  return math.max(0.0, at_rest - at)
end

local wait = 0.0
if op == "acquire" then
  wait = acquire(now - a)
elseif op == "release" then
  if not exists then return "0" end
  release(now)
elseif op == "postpone" then
  postpone(now, a)
elseif op == "throttle" then
  throttle(now, a, now - b)
else
  return redis.error_reply("unknown operation " .. tostring(op))
end

local fields = {}
for _, field in ipairs(FIELDS) do
  if s[field] ~= -math.huge then
    fields[#fields + 1] = field
    fields[#fields + 1] = string.format("%.17g", s[field])
  end
end
if #fields > 0 then
  redis.call("HSET", key, unpack(fields))
  redis.call("PEXPIRE", key, math.ceil(math.min(rest_in(now), 86400) * 1000) + 1000)
end
return string.format("%.17g", wait)
"""

SERVER_CLOCK = """
local function clock()
  local time = redis.call("TIME")
  return tonumber(time[1]) + tonumber(time[2]) / 1000000
end
"""

SCRIPT = SERVER_CLOCK + _BODY

# The lease of one token, in one hash: `fence` counts acquisitions, `holder` is the current
# holder's fence, `expires` when its lease ends (Redis server time, ms), `watermark` the last
# one a holder saved. A caller whose fence is not the live holder's changes nothing.
LEASE_SCRIPT = """
local key, op = KEYS[1], ARGV[1]
local ttl, fence = tonumber(ARGV[2]), tonumber(ARGV[3])
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local holder = tonumber(redis.call("HGET", key, "holder") or "0")
local expires = tonumber(redis.call("HGET", key, "expires") or "0")
local held = holder ~= 0 and expires > now
if op == "acquire" then
  if held then return 0 end
  local new = redis.call("HINCRBY", key, "fence", 1)
  redis.call("HSET", key, "holder", new, "expires", now + ttl)
  return new
end
if not (held and holder == fence) then return 0 end
if op == "hold" then
  redis.call("HSET", key, "expires", now + ttl)
elseif op == "release" then
  redis.call("HDEL", key, "holder", "expires")
elseif op == "save" then
  redis.call("HSET", key, "watermark", ARGV[4])
end
return 1
"""
