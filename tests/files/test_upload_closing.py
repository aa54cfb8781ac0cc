"""A file the SDK opens for an upload is closed as soon as the upload fails, not at some later
garbage collection: the checks run with the cyclic collector off, right after the error."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from aiohttp import web

from pachca_async import APIConnectionError, InvalidRequestError, PachcaClient
from pachca_async.testing import FakePachca

from .fakes import answer, upload_params

STORAGE = "/storage/direct_upload"


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[IO[bytes]]]:
    """Every file opened by path for reading, with the cyclic garbage collector off meanwhile."""
    handles: list[IO[bytes]] = []
    real_open = Path.open

    def recording_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        handle = real_open(self, *args, **kwargs)
        if "r" in handle.mode:
            handles.append(handle)
        return handle

    monkeypatch.setattr(Path, "open", recording_open)
    gc.disable()
    try:
        yield handles
    finally:
        gc.enable()


async def test_a_path_that_grew_is_closed_when_the_upload_fails(
    tmp_path: Path, server: FakePachca, pachca: PachcaClient, opened: list[IO[bytes]]
) -> None:
    server.reply("POST", "/uploads", answer(201, upload_params(server.base_url + STORAGE)))
    server.reply("POST", STORAGE, answer(204))
    path = tmp_path / "log.txt"
    path.write_bytes(b"x" * 1000)
    real_stat = Path.stat
    sizes = iter([500])  # the size the SDK sees first: the file grows before it is read

    def stat(self: Path, **kwargs: Any) -> os.stat_result:
        result = real_stat(self, **kwargs)
        if self == path:
            values = list(result)
            values[6] = next(sizes, values[6])
            return os.stat_result(values)
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Path, "stat", stat)
        with pytest.raises(InvalidRequestError, match="grew while it was being sent"):
            await pachca.files.upload(path)
    assert len(opened) == 1
    assert opened[0].closed


async def test_a_file_is_closed_when_the_storage_resets_the_connection(
    tmp_path: Path, server: FakePachca, pachca: PachcaClient, opened: list[IO[bytes]]
) -> None:
    async def reset(request: web.Request) -> web.StreamResponse:
        await request.content.readexactly(100_000)
        assert request.transport is not None
        request.transport.abort()
        await asyncio.sleep(0)
        return web.Response(status=204)

    server.reply("POST", "/uploads", answer(201, upload_params(server.base_url + STORAGE)))
    server.reply("POST", STORAGE, reset)
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(5_000_000))
    with pytest.raises(APIConnectionError):
        await pachca.files.upload(path)
    assert len(opened) == 1
    assert opened[0].closed
