"""Throughput (issue 3): requests per second against a local server in its own process.

Three clients fetch the same canned answers, `GET /messages/{id}` (one rich message) and
`GET /messages?chat_id=...` (a page of 50):

- raw aiohttp + `json.loads`: no typing at all, the limit a typed SDK can approach;
- pachca-async: `get_message` / `list_chat_messages` (one page), typed models, its defaults
  except client-side rate limiting (`rate_limits=None`), which would hold reads to Pachca's
  10 a second: this server has no limits and the other clients have no limiter;
- pachca-sdk, Pachca's official SDK (httpx), its `PachcaClient` with defaults.

Each client runs sequentially and with 64 requests in flight, in rounds that alternate the
order of the clients so that drift on a shared machine hits all of them alike. Retries and
logging stay as they are by default: every answer is a 200, so no retry happens, and no log
handler is enabled (with DEBUG off, pachca-async skips its log line altogether).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import aiohttp
import attrs

from pachca_async import PachcaClient

from . import message_server
from .report import ROOT, describe_machine, save, table, verdict

TOKEN = "bench-token"
MESSAGE_ID = 194275
CHAT_ID = 334
PAGE_SIZE = 50
MODES = {"sequential": 1, "64 concurrent": 64}
ROUNDS = 7
ROUND_SECONDS = 1.0
WARMUP_SECONDS = 0.5
KINDS = ("single message", "50-message page")
RAW, OURS, SDK = "raw aiohttp + json.loads", "pachca-async", "pachca-sdk"
TARGETS_RAW = {"single message": 0.85, "50-message page": 0.70}
TARGETS_SDK = {"single message": 8.0, "50-message page": 10.0}  # at 64 concurrent


@attrs.frozen
class Contender:
    name: str
    calls: dict[str, Callable[[], Awaitable[Any]]]
    """One call per kind of request (`KINDS`)."""


def verify(name: str, message_id: int, page: list[Any]) -> None:
    """Fail loudly if a client did not actually read what the server sent."""
    if message_id != MESSAGE_ID or len(page) != PAGE_SIZE:
        raise AssertionError(f"{name} read the answers wrongly ({message_id}, {len(page)} items)")


@asynccontextmanager
async def raw_aiohttp(base_url: str) -> AsyncIterator[Contender]:
    async with aiohttp.ClientSession() as session:

        async def get(url: str) -> Any:
            async with session.get(url) as response:
                if response.status != 200:
                    raise AssertionError(f"{url} answered {response.status}")
                return json.loads(await response.read())

        message_url = f"{base_url}/messages/{MESSAGE_ID}"
        page_url = f"{base_url}/messages?chat_id={CHAT_ID}"
        message, page = await get(message_url), await get(page_url)
        verify(RAW, message["data"]["id"], page["data"])
        yield Contender(RAW, {KINDS[0]: lambda: get(message_url), KINDS[1]: lambda: get(page_url)})


@asynccontextmanager
async def pachca_async(base_url: str) -> AsyncIterator[Contender]:
    async with PachcaClient(TOKEN, base_url=base_url, rate_limits=None) as pachca:
        messages = pachca.messages

        def page() -> Awaitable[Any]:  # awaiting the paginator fetches one page
            return messages.list_chat_messages(chat_id=CHAT_ID)

        verify(OURS, (await messages.get_message(MESSAGE_ID)).id, (await page()).items)
        yield Contender(OURS, {KINDS[0]: lambda: messages.get_message(MESSAGE_ID), KINDS[1]: page})


@asynccontextmanager
async def pachca_sdk(base_url: str) -> AsyncIterator[Contender]:
    try:
        from pachca.client import PachcaClient as OfficialClient
        from pachca.models import ListChatMessagesParams
    except ImportError:
        raise SystemExit("pachca-sdk is missing: run the benchmarks with `make bench`") from None
    client = OfficialClient(TOKEN, base_url=base_url)
    try:
        messages = client.messages

        def page() -> Awaitable[Any]:
            return messages.list_chat_messages(ListChatMessagesParams(chat_id=CHAT_ID))

        verify(SDK, (await messages.get_message(MESSAGE_ID)).id, (await page()).data)
        yield Contender(SDK, {KINDS[0]: lambda: messages.get_message(MESSAGE_ID), KINDS[1]: page})
    finally:
        await client.close()


@attrs.frozen
class Sample:
    rate: float
    """Requests per second."""
    client_cpu: float
    """The share of one core this process used."""
    server_cpu: float
    """The share of one core the server used."""


async def measure(
    call: Callable[[], Awaitable[Any]], concurrency: int, seconds: float, cpu: Callable[[], Any]
) -> Sample:
    """Keep `concurrency` calls in flight for `seconds`; count the ones that completed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    done = 0

    async def worker() -> None:
        nonlocal done
        while loop.time() < deadline:
            await call()
            done += 1

    server_before = await cpu()
    started, client_before = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    client_cpu = time.process_time() - client_before
    server_cpu = await cpu() - server_before
    return Sample(done / elapsed, client_cpu / elapsed, server_cpu / elapsed)


async def run(base_url: str) -> dict[tuple[str, str, str], list[Sample]]:
    """Samples per (mode, kind, contender), each round in a rotated order of the contenders."""
    samples: dict[tuple[str, str, str], list[Sample]] = {}
    async with AsyncExitStack() as stack:
        contenders = [
            await stack.enter_async_context(factory(base_url))
            for factory in (raw_aiohttp, pachca_async, pachca_sdk)
        ]
        session = await stack.enter_async_context(aiohttp.ClientSession())

        async def server_cpu() -> float:
            async with session.get(f"{base_url}/_cpu") as response:
                return float(await response.text())

        for mode, concurrency in MODES.items():
            for kind in KINDS:
                print(f"  {mode}, {kind}...", flush=True)
                for c in contenders:
                    await measure(c.calls[kind], concurrency, WARMUP_SECONDS, server_cpu)
                for round_ in range(ROUNDS):
                    shift = round_ % len(contenders)
                    for c in contenders[shift:] + contenders[:shift]:
                        sample = measure(c.calls[kind], concurrency, ROUND_SECONDS, server_cpu)
                        samples.setdefault((mode, kind, c.name), []).append(await sample)
    return samples


def summarize(samples: dict[tuple[str, str, str], list[Sample]]) -> dict[str, Any]:
    """Medians per (mode, kind, contender), nested as mode → kind → contender → numbers."""
    result: dict[str, Any] = {}
    for (mode, kind, name), values in samples.items():
        result.setdefault(mode, {}).setdefault(kind, {})[name] = {
            "requests_per_s": statistics.median(s.rate for s in values),
            "client_cpu_us_per_request": statistics.median(
                s.client_cpu / s.rate * 1e6 for s in values
            ),
            "server_cpu_busy": statistics.median(s.server_cpu for s in values),
            "rounds_requests_per_s": [round(s.rate, 1) for s in values],
        }
    return result


def ratio(value: float, target: float | None, digits: int) -> str:
    shown = f"{value:.{digits}f}×"
    return shown if target is None else f"{shown} ({verdict(value, target)})"


def report(summary: dict[str, Any]) -> dict[str, Any]:
    """Print one table per mode; return the ratios."""
    ratios: dict[str, Any] = {}
    for mode, kinds in summary.items():
        at_64 = MODES[mode] == 64
        rate = {k: {n: v["requests_per_s"] for n, v in kinds[k].items()} for k in KINDS}
        vs_raw = {k: rate[k][OURS] / rate[k][RAW] for k in KINDS}
        vs_sdk = {k: rate[k][OURS] / rate[k][SDK] for k in KINDS}
        ratios[mode] = {"ours/raw": vs_raw, "ours/pachca-sdk": vs_sdk}
        rows: list[list[Any]] = [[n, *(rate[k][n] for k in KINDS)] for n in (RAW, OURS, SDK)]
        rows.append([f"{OURS} ÷ raw", *(ratio(vs_raw[k], TARGETS_RAW[k], 2) for k in KINDS)])
        rows.append(
            [
                f"{OURS} ÷ {SDK}",
                *(ratio(vs_sdk[k], TARGETS_SDK[k] if at_64 else None, 1) for k in KINDS),
            ]
        )
        print(
            f"\n{mode}: requests/s, median of {ROUNDS} alternating rounds of {ROUND_SECONDS:g} s\n"
        )
        print(table(["client", *KINDS], rows))
        cost = [
            [
                n,
                *(
                    f"{kinds[k][n]['client_cpu_us_per_request']:,.0f} µs / "
                    f"{kinds[k][n]['server_cpu_busy']:.0%}"
                    for k in KINDS
                ),
            ]
            for n in (RAW, OURS, SDK)
        ]
        print("\nclient CPU per request / server CPU busy (share of one core)\n")
        print(table(["client", *KINDS], cost))
    return ratios


def missed_targets(ratios: dict[str, Any]) -> list[str]:
    missed = []
    for mode, of_mode in ratios.items():
        for kind in KINDS:
            if of_mode["ours/raw"][kind] < TARGETS_RAW[kind]:
                missed.append(f"{mode} {kind} ÷ raw")
            if MODES[mode] == 64 and of_mode["ours/pachca-sdk"][kind] < TARGETS_SDK[kind]:
                missed.append(f"{mode} {kind} ÷ {SDK}")
    return missed


def main() -> int:
    """Print the tables; 0 when every target is met, 1 otherwise."""
    started = time.perf_counter()
    with message_server.running() as base_url:
        print(f"server at {base_url} (own process); measuring...")
        samples = asyncio.run(run(base_url))
    summary = summarize(samples)
    print(describe_machine().splitlines()[0])
    ratios = report(summary)
    missed = missed_targets(ratios)
    print("\n" + ("TARGETS MISSED: " + "; ".join(missed) if missed else "targets met"))
    path = save(
        "throughput",
        {
            "rounds": ROUNDS,
            "round_seconds": ROUND_SECONDS,
            "results": summary,
            "ratios": ratios,
            "targets": {"ours/raw": TARGETS_RAW, "ours/pachca-sdk at 64 concurrent": TARGETS_SDK},
            "missed": missed,
        },
    )
    print(f"finished in {time.perf_counter() - started:.0f} s; saved {path.relative_to(ROOT)}")
    return 1 if missed else 0
