"""The virtual clock that every timing test relies on."""

from __future__ import annotations

import asyncio
import math
import time

import aiohttp
import pytest
from aiohttp import web

from pachca_async import InvalidRequestError
from pachca_async.testing import VirtualClockLoop, run_virtual


def test_sleep_takes_no_real_time() -> None:
    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        await asyncio.sleep(3600)
        return loop.time() - start

    started = time.perf_counter()
    assert run_virtual(scenario()) == pytest.approx(3600.0)
    assert time.perf_counter() - started < 1.0


def test_timers_fire_in_order() -> None:
    async def scenario() -> list[tuple[str, float]]:
        loop = asyncio.get_running_loop()
        seen: list[tuple[str, float]] = []

        async def at(name: str, delay: float) -> None:
            await asyncio.sleep(delay)
            seen.append((name, loop.time()))

        await asyncio.gather(at("c", 30), at("a", 1), at("b", 2.5))
        return seen

    assert run_virtual(scenario()) == [("a", 1.0), ("b", 2.5), ("c", 30.0)]


def test_real_sockets_still_work_and_timeouts_are_virtual() -> None:
    async def scenario() -> tuple[float, float]:
        async def slow(request: web.Request) -> web.Response:
            await asyncio.sleep(5)
            return web.json_response({"ok": True})

        app = web.Application()
        app.router.add_get("/", slow)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        loop = asyncio.get_running_loop()
        try:
            async with aiohttp.ClientSession() as session:
                start = loop.time()
                async with session.get(f"http://127.0.0.1:{port}/") as response:
                    assert await response.json() == {"ok": True}
                answered = loop.time() - start
                start = loop.time()
                with pytest.raises(asyncio.TimeoutError):
                    async with session.get(
                        f"http://127.0.0.1:{port}/", timeout=aiohttp.ClientTimeout(total=2)
                    ):
                        pass
                timed_out = loop.time() - start
        finally:
            await runner.cleanup()
        return answered, timed_out

    answered, timed_out = run_virtual(scenario())
    assert answered == pytest.approx(5.0, abs=0.1)
    assert timed_out == pytest.approx(2.0, abs=0.1)


def test_advance_moves_forward_only() -> None:
    loop = VirtualClockLoop(start=10.0)
    try:
        loop.advance(5)
        assert loop.time() == 15.0
        with pytest.raises(InvalidRequestError, match="forward"):
            loop.advance(-1)
        for unusable in (math.nan, math.inf):
            with pytest.raises(InvalidRequestError, match="forward"):
                loop.advance(unusable)
        assert loop.time() == 15.0
    finally:
        loop.close()
