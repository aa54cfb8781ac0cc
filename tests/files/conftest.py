from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from pachca_async import PachcaClient, RetryPolicy

from .fakes import TOKEN, FakeServer, Moto


@pytest.fixture
async def server() -> AsyncIterator[FakeServer]:
    fake = FakeServer()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def pachca(server: FakeServer) -> AsyncIterator[PachcaClient]:
    async with PachcaClient(
        TOKEN, base_url=server.url, retry=RetryPolicy(backoff=0, jitter=0)
    ) as client:
        yield client


@pytest.fixture(scope="session")
def moto() -> Iterator[Moto]:
    storage = Moto()
    yield storage
    storage.stop()
