"""A Valkey server per session (and a private one for tests that kill it), and clients to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from redis import asyncio as aioredis

from bench.valkey_server import Valkey


@pytest.fixture(scope="session")
def valkey() -> Iterator[Valkey]:
    with Valkey() as server:
        yield server


@pytest.fixture
def private_valkey() -> Iterator[Valkey]:
    """A server of the test's own, free to be killed and restarted."""
    with Valkey() as server:
        yield server


@pytest.fixture
async def redis(valkey: Valkey) -> AsyncIterator[aioredis.Redis]:
    """A client to the session server, its keys wiped first."""
    client = aioredis.Redis.from_url(valkey.url)
    await client.flushall()
    try:
        yield client
    finally:
        await client.aclose()
