"""Upload a large file to a local storage server in another process: memory and speed.

Targets (issue 5): the uploading process grows its peak RSS by at most 32 MiB while sending a
512 MiB file, and `files.upload` reaches at least 80% of the throughput of a raw aiohttp
multipart upload of the same file to the same server.

Each upload runs in a fresh process, so imports and earlier runs do not blur the peak; the
server (a stand-in for both `POST /uploads` and the storage, reading and dropping the body)
runs in a process of its own. The best of several runs counts, since the machine is shared.

    python -m bench.bench_upload [--size-mib 512] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from pachca_async import PachcaClient
from pachca_async.testing import upload_params

MIB = 1024 * 1024
RSS_LIMIT_MIB = 32.0
THROUGHPUT_SHARE = 0.8
STORAGE = "/storage/direct_upload"


# -- the server process ---------------------------------------------------------------------


def serve(ready: Connection) -> None:
    """Answer `POST /uploads` and take uploads (counting and dropping the bytes) until killed."""

    async def uploads(request: web.Request) -> web.Response:
        url = f"http://127.0.0.1:{request.url.port}{STORAGE}"
        return web.json_response(upload_params(url), status=201)

    async def storage(request: web.Request) -> web.Response:
        received = 0
        async for chunk in request.content.iter_any():
            received += len(chunk)
        return web.Response(status=204, headers={"X-Received": str(received)})

    async def run() -> None:
        app = web.Application()
        app.router.add_post("/uploads", uploads)
        app.router.add_post(STORAGE, storage)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        ready.send(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(run())


# -- the uploading processes ----------------------------------------------------------------


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MIB


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


def _peak_mib(reset: bool) -> float:
    if reset:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _sdk(path: Path, base_url: str) -> None:
    async with PachcaClient("bench-token", base_url=base_url) as pachca:
        await pachca.files.upload(path)


async def _raw(path: Path, base_url: str) -> None:
    """What a careful hand-written upload does: the fields, then the open file, streamed."""
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{base_url}/uploads") as answer:
            params = await answer.json()
        form = aiohttp.FormData()
        for name, value in params.items():
            if name != "direct_url":
                form.add_field(name, value.replace("${filename}", path.name))
        with path.open("rb") as handle:
            form.add_field("file", handle, filename=path.name)
            async with session.post(params["direct_url"], data=form) as stored:
                assert stored.status == 204, stored.status


def measure(kind: str, path: Path, base_url: str, result: Connection) -> None:
    """One upload in this (fresh) process: seconds taken and peak RSS growth in MiB."""
    upload = {"sdk": _sdk, "raw": _raw}[kind]
    before = _rss_mib()
    reset = _reset_peak()
    started = time.perf_counter()
    asyncio.run(upload(path, base_url))
    elapsed = time.perf_counter() - started
    result.send((elapsed, _peak_mib(reset) - before))


def _run(kind: str, path: Path, base_url: str) -> tuple[float, float]:
    spawn = multiprocessing.get_context("spawn")
    receive, send = spawn.Pipe(duplex=False)
    process = spawn.Process(target=measure, args=(kind, path, base_url, send))
    process.start()
    elapsed, growth = receive.recv()
    process.join()
    return elapsed, growth


# -- the benchmark --------------------------------------------------------------------------


def _make_file(folder: Path, size: int) -> Path:
    path = folder / "archive.bin"
    block = os.urandom(MIB)
    with path.open("wb") as handle:
        for _ in range(size // MIB):
            handle.write(block)
        handle.write(block[: size % MIB])
    return path


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the numbers; 0 when both targets are met, 1 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv or [])
    size = args.size_mib * MIB

    spawn = multiprocessing.get_context("spawn")
    ready, announce = spawn.Pipe(duplex=False)
    server = spawn.Process(target=serve, args=(announce,), daemon=True)
    server.start()
    try:
        base_url = f"http://127.0.0.1:{ready.recv()}"
        with tempfile.TemporaryDirectory() as folder:
            path = _make_file(Path(folder), size)
            results: dict[str, list[tuple[float, float]]] = {"sdk": [], "raw": []}
            for _ in range(args.runs):
                for kind in results:
                    results[kind].append(_run(kind, path, base_url))
    finally:
        server.kill()
        server.join()
    return _report(size, results)


def _report(size: int, results: dict[str, list[tuple[float, float]]]) -> int:
    best = {kind: min(elapsed for elapsed, _ in runs) for kind, runs in results.items()}
    speed = {kind: size / MIB / seconds for kind, seconds in best.items()}
    growth = max(g for _, g in results["sdk"])
    share = speed["sdk"] / speed["raw"]
    rows: list[tuple[str, Any, str]] = [
        ("files.upload throughput", f"{speed['sdk']:.0f} MiB/s", ""),
        ("raw aiohttp throughput", f"{speed['raw']:.0f} MiB/s", ""),
        ("files.upload / raw", f"{share:.0%}", f"target >= {THROUGHPUT_SHARE:.0%}"),
        ("files.upload peak RSS growth", f"{growth:.1f} MiB", f"target <= {RSS_LIMIT_MIB:.0f} MiB"),
        ("raw aiohttp peak RSS growth", f"{max(g for _, g in results['raw']):.1f} MiB", ""),
    ]
    print(f"bench_upload: {size // MIB} MiB file, best of {len(results['sdk'])} runs each")
    for name, value, target in rows:
        print(f"  {name:<30} {value:>10}  {target}")
    met = share >= THROUGHPUT_SHARE and growth <= RSS_LIMIT_MIB
    print("  targets met" if met else "  TARGETS MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
