from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from pachca_async import PachcaClient, RetryPolicy
from pachca_async.testing import FakePachca

from .fakes import TOKEN, Moto


@pytest.fixture
async def server() -> AsyncIterator[FakePachca]:
    async with FakePachca() as fake:
        yield fake


@pytest.fixture
async def pachca(server: FakePachca) -> AsyncIterator[PachcaClient]:
    async with PachcaClient(
        TOKEN, base_url=server.base_url, retry=RetryPolicy(backoff=0, jitter=0)
    ) as client:
        yield client


@pytest.fixture(scope="session")
def moto() -> Iterator[Moto]:
    storage = Moto()
    yield storage
    storage.stop()
