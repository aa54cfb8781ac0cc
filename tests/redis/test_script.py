"""The Lua script is the bucket arithmetic of `_ratelimit.bucket`, line by line: both run the same
random sequences (on a clock the test gives) and must agree on every answer and every field."""

from __future__ import annotations

import math
import random

import pytest
from redis import asyncio as aioredis

from pachca_async import Rate
from pachca_async._ratelimit import bucket
from pachca_async.redis import _BODY, _arg

GIVEN_CLOCK = "local function clock() return tonumber(ARGV[8]) end\n"
FIELDS = ("tat", "paused_until", "floor", "ceiling", "slowed_at", "lag")
RATES = [
    Rate(4, burst=20),
    Rate(2.5, burst=5, recovery=10),
    Rate(1, burst=1, slowdown=0.25, recovery=0),
    Rate(50, burst=50, slowdown=0.1, recovery=math.inf),
]


def apply(
    state: bucket.BucketState, exists: bool, step: tuple[str, float, float, float], rate: Rate
) -> float:
    op, now, a, b = step
    if op == "acquire":
        return bucket.acquire(state, rate, now - a)
    if op == "release" and exists:
        bucket.release(state, rate, now)
    elif op == "postpone":
        bucket.postpone(state, rate, now, a)
    elif op == "throttle":
        bucket.throttle(state, rate, now, a, now - b)
    return 0.0


def steps(seed: int) -> list[tuple[str, float, float, float]]:
    chance = random.Random(seed)
    now, sequence = 1_700_000_000.0, []
    for _ in range(120):
        now += chance.choice([0.0, 0.0, chance.uniform(0, 0.3), chance.uniform(0, 4)])
        op = chance.choice(["acquire"] * 5 + ["release", "postpone", "throttle"])
        sequence.append((op, now, chance.uniform(0, 2), chance.uniform(0, 2)))
    return sequence


@pytest.mark.parametrize("rate", RATES, ids=repr)
@pytest.mark.parametrize("seed", range(4))
async def test_lua_and_python_agree_step_by_step(
    redis: aioredis.Redis, rate: Rate, seed: int
) -> None:
    script = redis.register_script(GIVEN_CLOCK + _BODY)
    state, exists = bucket.BucketState(), False
    numbers = (rate.per_second, rate.burst, rate.slowdown, rate.recovery)
    for step in steps(seed):
        op, now, a, b = step
        expected = apply(state, exists, step, rate)
        exists = exists or op != "release"
        args = [op, *map(_arg, (*numbers, a, b, now))]
        answer = float(await script(keys=["bucket"], args=args))
        assert answer == pytest.approx(expected, rel=1e-12, abs=1e-12), step
        stored = await redis.hgetall("bucket")
        kept = {f: getattr(state, f) for f in FIELDS if getattr(state, f) != -math.inf}
        got = {k.decode(): float(v) for k, v in stored.items()}
        assert got == pytest.approx(kept, rel=1e-12), step
