"""A client, or a rate limiter shared by two clients, belongs to one event loop: used from a
second one (another thread's, a later `asyncio.run`'s) it raises `EventLoopError` at once,
instead of hanging or failing with aiohttp's bare "Event loop is closed"."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest

from pachca_async import EventLoopError, PachcaClient, PachcaError, RateLimiter
from pachca_async.testing import FakePachca, Reply, message
from tests.scripting import BASE_PATH, TOKEN, count, serve_in_thread

OK = Reply(200, {"data": message(5)})


@pytest.fixture
def server() -> Iterator[FakePachca]:
    """A server on a loop of its own, for tests whose clients run their own loops."""
    scripted = FakePachca(base_path=BASE_PATH)
    scripted.reply("GET", "/messages/5", OK)
    with serve_in_thread(scripted):
        yield scripted


def in_thread(main: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """What `asyncio.run(main())` gives in a thread of its own (the exception, if any)."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(asyncio.run(main()))
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=10)
    assert outcome, "the call hung"
    return outcome[0]


def reuse_in_a_later_run(base_url: str) -> None:
    pachca = PachcaClient(TOKEN, base_url=base_url)

    async def get() -> int:
        return (await pachca.messages.get_message(5)).id

    assert asyncio.run(get()) == 5
    with pytest.raises(EventLoopError, match="this PachcaClient belongs to the event loop"):
        asyncio.run(get())


@pytest.mark.filterwarnings("ignore::ResourceWarning")  # the first run never closes the client
def test_a_client_reused_by_a_later_asyncio_run(server: FakePachca) -> None:
    reuse_in_a_later_run(server.base_url)
    assert count(server) == 1
    gc.collect()  # the session stranded in the first loop is reclaimed here, not in a later test


def test_a_client_used_from_two_threads_at_once(server: FakePachca) -> None:
    pachca = PachcaClient(TOKEN, base_url=server.base_url)
    other_done = threading.Event()

    async def first() -> int:
        async with pachca:
            found = await pachca.messages.get_message(5)
            # keep this loop (and the client's connection in it) alive meanwhile
            await asyncio.get_running_loop().run_in_executor(None, other_done.wait, 10)
            return found.id

    async def second() -> int:
        return (await pachca.messages.get_message(5)).id

    outcome: list[Any] = []
    first_thread = threading.Thread(target=lambda: outcome.append(asyncio.run(first())))
    first_thread.start()
    while not count(server):  # the first thread's call has reached the server
        threading.Event().wait(0.01)
    error = in_thread(second)
    other_done.set()
    first_thread.join(timeout=10)
    assert outcome == [5]
    assert isinstance(error, EventLoopError)
    assert isinstance(error, PachcaError)
    assert "make one PachcaClient per event loop" in str(error)


def test_a_rate_limiter_shared_across_two_loops(server: FakePachca) -> None:
    limiter = RateLimiter()
    one = PachcaClient(TOKEN, base_url=server.base_url, rate_limits=limiter)
    two = PachcaClient(TOKEN, base_url=server.base_url, rate_limits=limiter)

    async def get(pachca: PachcaClient) -> int:
        async with pachca:
            return (await pachca.messages.get_message(5)).id

    assert in_thread(lambda: get(one)) == 5
    error = in_thread(lambda: get(two))
    assert isinstance(error, EventLoopError)
    assert "this RateLimiter belongs to the event loop" in str(error)
    assert count(server) == 1
