"""Fixtures for the session-layer tests: a recording local server and a client pointed at it."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, TypeVar

import pytest

from pachca_async import PachcaClient, RetryPolicy
from pachca_async.testing import FakePachca, run_virtual
from tests.scripting import BASE_PATH, TOKEN

T = TypeVar("T")

NO_RETRIES = RetryPolicy(max_retries=0)


@pytest.fixture
async def server() -> AsyncIterator[FakePachca]:
    async with FakePachca(base_path=BASE_PATH) as fake:
        yield fake


@pytest.fixture
async def pachca(server: FakePachca) -> AsyncIterator[PachcaClient]:
    """A client of `server` that never retries (tests on the real clock must not sleep)."""
    async with PachcaClient(TOKEN, base_url=server.base_url, retry=NO_RETRIES) as client:
        yield client


def virtual_clock(test: Callable[..., Coroutine[Any, Any, T]]) -> Callable[..., T]:
    """Run an async test on `run_virtual`: waits and timeouts take no real time.

    The test starts its own `FakePachca` inside (async fixtures live on another loop).
    """

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> T:
        return run_virtual(test(*args, **kwargs))

    return run
