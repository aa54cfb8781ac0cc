"""Answers are read up to a limit: a hostile or broken server (a gzip bomb, an endless chunked
body, a huge Content-Length) gets a typed error, not the process's memory."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web

from pachca_async import (
    InvalidRequestError,
    NotFoundError,
    PachcaClient,
    ResponseTooLargeError,
)
from pachca_async._config import MAX_ERROR_SIZE, MAX_RESPONSE_SIZE
from pachca_async.testing import message
from tests.scripting import BASE_PATH, TOKEN
from tests.session.conftest import NO_RETRIES

KIB = 1024
MIB = 1024 * KIB
Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def serving(route: Route) -> AsyncIterator[str]:
    """A server on 127.0.0.1 answering every request with `route`; yields the base URL."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", route)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}{BASE_PATH}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def raw_server(head: bytes) -> AsyncIterator[str]:
    """A server that sends `head` (status line and headers), then nothing, and holds on."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(head)
            await writer.drain()
            await reader.read()  # until the client hangs up
        finally:  # also when the loop's end cancels it (Python 3.12 would leak the socket)
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}{BASE_PATH}"
    finally:
        server.close()


def client(base_url: str, **options: int) -> PachcaClient:
    return PachcaClient(TOKEN, base_url=base_url, retry=NO_RETRIES, rate_limits=None, **options)


async def test_a_gzip_bomb_stops_at_the_limit() -> None:
    bomb = gzip.compress(b"[" + b"0," * (4 * MIB) + b"0]", compresslevel=9)
    assert len(bomb) < 20 * KIB  # 8 MiB once inflated

    async def inflating(request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}
        )

    async with serving(inflating) as url, client(url, max_response_size=MIB) as pachca:
        with pytest.raises(ResponseTooLargeError) as caught:
            await pachca.messages.get_message(5)
    error = caught.value
    assert (error.status, error.limit, error.operation) == (200, MIB, "messages.get_message")
    assert f"over {MIB} bytes" in str(error)
    assert "GET /api/shared/v1/messages/5" in str(error)


async def test_an_endless_chunked_body_stops_at_the_limit() -> None:
    written = 0
    hung_up = asyncio.Event()

    async def endless(request: web.Request) -> web.StreamResponse:
        nonlocal written
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            while True:
                await response.write(b" " * (64 * KIB))
                written += 64 * KIB
        except ConnectionError:  # the client stopped reading and dropped the connection
            hung_up.set()
        return response

    async with serving(endless) as url, client(url, max_response_size=MIB) as pachca:
        with pytest.raises(ResponseTooLargeError):
            await pachca.messages.get_message(5)
        await asyncio.wait_for(hung_up.wait(), 5)
    assert written < 16 * MIB  # what the socket buffers held beyond the limit, not more


async def test_a_huge_content_length_fails_before_reading() -> None:
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2147483648\r\n\r\n"
    )
    async with raw_server(head) as url, client(url) as pachca:
        with pytest.raises(ResponseTooLargeError) as caught:
            await asyncio.wait_for(pachca.messages.get_message(5), 5)  # nothing more ever comes
    assert caught.value.limit == MAX_RESPONSE_SIZE == 32 * MIB


async def test_error_answers_have_a_smaller_limit() -> None:
    head = b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 1048577\r\n\r\n"
    async with raw_server(head) as url, client(url) as pachca:
        with pytest.raises(ResponseTooLargeError) as caught:
            await asyncio.wait_for(pachca.messages.get_message(5), 5)
    assert (caught.value.status, caught.value.limit) == (502, MAX_ERROR_SIZE)
    assert MAX_ERROR_SIZE == MIB


async def test_answers_up_to_the_limit_are_read_whole() -> None:
    document = json.dumps({"data": message(5)}).encode()
    padded = document[:-1] + b" " * 100 + b"}"
    not_found = json.dumps({"errors": [{"key": "id", "message": "no such message"}]}).encode()

    async def answer(request: web.Request) -> web.StreamResponse:
        body = not_found if request.path.endswith("/6") else padded
        status = 404 if request.path.endswith("/6") else 200
        response = web.StreamResponse(status=status, headers={"Content-Type": "application/json"})
        if "gzip" in request.query:
            body = gzip.compress(body)
            response.headers["Content-Encoding"] = "gzip"
        else:
            response.enable_chunked_encoding()  # no length known in advance
        await response.prepare(request)
        await response.write(body)
        await response.write_eof()
        return response

    limit = len(padded)
    async with serving(answer) as url, client(url, max_response_size=limit) as pachca:
        assert (await pachca.messages.get_message(5)).id == 5
        with pytest.raises(NotFoundError, match="no such message"):
            await pachca.messages.get_message(6)
    async with serving(answer) as url, client(url, max_response_size=limit - 1) as pachca:
        with pytest.raises(ResponseTooLargeError):
            await pachca.messages.get_message(5)


async def test_downloads_have_no_limit(tmp_path: Path) -> None:
    archive = b"PK" + b"\0" * (3 * MIB)

    async def answer(request: web.Request) -> web.StreamResponse:
        if request.path.endswith("/exports/7"):
            return web.Response(status=302, headers={"Location": "/storage/7.zip"})
        return web.Response(body=archive, content_type="application/zip")

    async with serving(answer) as url, client(url, max_response_size=MIB) as pachca:
        saved = await pachca.chats.save_export(7, tmp_path / "export.zip")
        assert await pachca.files.download_file(7) == archive  # even into memory
    assert saved.read_bytes() == archive


def test_the_limit_is_checked() -> None:
    for wrong in (0, -1, 1.5, True):
        with pytest.raises(InvalidRequestError, match="max_response_size"):
            PachcaClient(TOKEN, max_response_size=wrong)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="transport"):
        PachcaClient(TOKEN, max_response_size=MIB, transport=object())  # type: ignore[arg-type]
