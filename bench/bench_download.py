"""Download a large file from a local server in another process: memory and speed.

Target (issue 10): the downloading process grows its peak RSS by at most 32 MiB while
`files.download_file` streams a 512 MiB file to disk. The server plays Pachca (`GET /files/{id}`
answers 302 with a storage link) and the storage (the bytes, made on the fly), and counts any
`Authorization` header that reaches the storage: there must be none. A raw aiohttp download of
the same link to the same disk is the yardstick for speed (no target).

Each download runs in a fresh process, as in `bench_upload`; the best of several runs counts.

    python -m bench.bench_download [--size-mib 512] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

import aiohttp
from aiohttp import web

from bench.bench_upload import MIB, RSS_LIMIT_MIB, _peak_mib, _reset_peak, _rss_mib
from pachca_async import PachcaClient

STORAGE = "/storage/attaches/file.bin"
BLOCK = bytes(range(256)) * 4096  # 1 MiB


# -- the server process ---------------------------------------------------------------------


def serve(size: int, ready: Connection, leaks: Connection) -> None:
    """Redirect `GET /files/1` to the storage, which streams `size` bytes; until killed."""
    tokens_at_storage = 0

    async def file(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": f"{STORAGE}?X-Amz-Signature=x"})

    async def storage(request: web.Request) -> web.StreamResponse:
        nonlocal tokens_at_storage
        tokens_at_storage += "Authorization" in request.headers
        leaks.send(tokens_at_storage)
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.content_length = size
        await response.prepare(request)
        for _ in range(size // MIB):
            await response.write(BLOCK)
        await response.write(BLOCK[: size % MIB])
        await response.write_eof()
        return response

    async def run() -> None:
        app = web.Application()
        app.router.add_get("/files/1", file)
        app.router.add_get(STORAGE, storage)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        ready.send(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(run())


# -- the downloading processes --------------------------------------------------------------


async def _sdk(path: Path, base_url: str) -> None:
    async with PachcaClient("bench-token", base_url=base_url) as pachca:
        await pachca.files.download_file(1, to=path)


async def _raw(path: Path, base_url: str) -> None:
    """What a careful hand-written download does: follow the link, write chunk by chunk."""
    async with aiohttp.ClientSession() as session, session.get(f"{base_url}/files/1") as answer:
        answer.raise_for_status()
        with path.open("wb") as handle:
            async for chunk in answer.content.iter_chunked(256 * 1024):
                handle.write(chunk)


def measure(kind: str, path: Path, base_url: str, result: Connection) -> None:
    """One download in this (fresh) process: seconds taken and peak RSS growth in MiB."""
    download = {"sdk": _sdk, "raw": _raw}[kind]
    before = _rss_mib()
    reset = _reset_peak()
    started = time.perf_counter()
    asyncio.run(download(path, base_url))
    elapsed = time.perf_counter() - started
    result.send((elapsed, _peak_mib(reset) - before, path.stat().st_size))


def _run(kind: str, path: Path, base_url: str) -> tuple[float, float, int]:
    spawn = multiprocessing.get_context("spawn")
    receive, send = spawn.Pipe(duplex=False)
    process = spawn.Process(target=measure, args=(kind, path, base_url, send))
    process.start()
    outcome: tuple[float, float, int] = receive.recv()
    process.join()
    path.unlink()
    return outcome


# -- the benchmark --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the numbers; 0 when the targets are met, 1 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv or [])
    size = args.size_mib * MIB

    spawn = multiprocessing.get_context("spawn")
    ready, announce = spawn.Pipe(duplex=False)
    leaks, report_leaks = spawn.Pipe(duplex=False)
    server = spawn.Process(target=serve, args=(size, announce, report_leaks), daemon=True)
    server.start()
    results: dict[str, list[tuple[float, float, int]]] = {"sdk": [], "raw": []}
    try:
        base_url = f"http://127.0.0.1:{ready.recv()}"
        with tempfile.TemporaryDirectory() as folder:
            for _ in range(args.runs):
                results["sdk"].append(_run("sdk", Path(folder) / "sdk.bin", base_url))
                results["raw"].append(_run("raw", Path(folder) / "raw.bin", base_url))
        tokens = 0
        while leaks.poll():
            tokens = leaks.recv()
    finally:
        server.kill()
        server.join()
    return _report(size, results, tokens)


def _report(size: int, results: dict[str, list[tuple[float, float, int]]], tokens: int) -> int:
    best = {kind: min(run[0] for run in runs) for kind, runs in results.items()}
    speed = {kind: size / MIB / seconds for kind, seconds in best.items()}
    growth = max(run[1] for run in results["sdk"])
    complete = all(run[2] == size for runs in results.values() for run in runs)
    print(f"bench_download: {size // MIB} MiB file, best of {len(results['sdk'])} runs each")
    rows = [
        ("files.download_file throughput", f"{speed['sdk']:.0f} MiB/s", ""),
        ("raw aiohttp throughput", f"{speed['raw']:.0f} MiB/s", ""),
        ("download_file / raw", f"{speed['sdk'] / speed['raw']:.0%}", ""),
        ("download_file peak RSS growth", f"{growth:.1f} MiB", f"target <= {RSS_LIMIT_MIB:.0f}"),
        ("raw aiohttp peak RSS growth", f"{max(run[1] for run in results['raw']):.1f} MiB", ""),
        ("tokens reaching the storage", str(tokens), "target 0 (raw aiohttp sends none either)"),
        ("every file complete", "yes" if complete else "NO", ""),
    ]
    for name, value, target in rows:
        print(f"  {name:<31} {value:>10}  {target}")
    met = growth <= RSS_LIMIT_MIB and tokens == 0 and complete
    print("  targets met" if met else "  TARGETS MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
