"""Behaviour that the request hot path's shortcuts must keep (see `bench/` for the speed)."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from typing import Any

import pytest
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from pachca_async import (
    APITimeoutError,
    PachcaClient,
    Request,
    Response,
    ResponseDecodeError,
    Timeout,
)
from pachca_async._convert import structure, structure_parsed
from pachca_async._middleware import Handler
from pachca_async.models import Message
from pachca_async.testing import MockTransport, message, page, run_virtual

JSON_HEADERS = CIMultiDictProxy(CIMultiDict({"Content-Type": "application/json"}))
CHART = {"key": "attaches/files/3/chart.png", "name": "chart.png", "file_type": "image"}


def rich_message(i: int) -> dict[str, Any]:
    """Message `194275 + i` with a file and an image (1280x720) attached."""
    image = {
        **CHART,
        "id": 3660 + i,
        "url": "https://files.example/c",
        "width": 1280,
        "height": 720,
    }
    return message(194275 + i, files=[*message()["files"], image])


def page_body(size: int) -> bytes:
    return json.dumps(page([rich_message(i) for i in range(size)])).encode()


def canned(body: bytes, sent: list[Request] | None = None) -> MockTransport:
    """A transport answering every request with one body (recording the requests in `sent`)."""

    def answer(request: Request) -> Response:
        if sent is not None:
            sent.append(request)
        return Response(200, JSON_HEADERS, body)

    return MockTransport(answer)


def client(transport: MockTransport, **options: Any) -> PachcaClient:
    return PachcaClient(
        "secret-token", base_url="http://127.0.0.1:1", transport=transport, **options
    )


# -- with DEBUG off, logging steps aside ----------------------------------------------------------


async def test_no_log_line_when_debug_is_off(caplog: pytest.LogCaptureFixture) -> None:
    body = json.dumps({"data": rich_message(0)}).encode()
    with caplog.at_level(logging.INFO, logger="pachca_async"):
        message = await client(canned(body)).messages.get_message(194275)
    assert message.id == 194275
    assert [r for r in caplog.records if r.name == "pachca_async"] == []


# -- middlewares still run outermost first, around every attempt ---------------------------------


async def test_middlewares_run_in_order_around_the_transport() -> None:
    seen: list[str] = []

    def tracing(name: str) -> Any:
        async def middleware(request: Request, call_next: Handler) -> Response:
            seen.append(f"{name} in")
            response = await call_next(request)
            seen.append(f"{name} out")
            return response

        return middleware

    sent: list[Request] = []
    transport = canned(json.dumps({"data": rich_message(0)}).encode(), sent)
    pachca = client(transport, middlewares=[tracing("outer"), tracing("inner")])
    await pachca.messages.get_message(194275)
    assert seen == ["outer in", "inner in", "inner out", "outer out"]
    assert [r.url for r in sent] == ["http://127.0.0.1:1/messages/194275"]


# -- timeouts: a read limit shorter than total still applies; the default ends at total ----------


def stalling_app(stall: float) -> web.Application:
    """Sends the headers and half a body, then goes quiet for `stall` seconds."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b'{"data": ')
        await asyncio.sleep(stall)
        await response.write(json.dumps(rich_message(0)).encode() + b"}")
        return response

    app = web.Application()
    app.router.add_get("/messages/{id}", handler)
    return app


def time_to_timeout(timeout: Timeout, stall: float) -> float:
    async def scenario() -> float:
        runner = web.AppRunner(stalling_app(stall))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        loop = asyncio.get_running_loop()
        try:
            async with PachcaClient(
                "t", base_url=f"http://127.0.0.1:{port}", timeout=timeout, max_retries=0
            ) as pachca:
                started = loop.time()
                with pytest.raises(APITimeoutError):
                    await pachca.messages.get_message(1)
                return loop.time() - started
        finally:
            await runner.cleanup()

    return run_virtual(scenario(), start=0.25)  # off the whole second, where rounding shows


def test_a_read_limit_shorter_than_total_still_ends_the_attempt() -> None:
    elapsed = time_to_timeout(Timeout(total=60, connect=10, read=5), stall=600)
    assert elapsed == pytest.approx(5, abs=0.01)


def test_the_default_timeout_ends_a_stalled_answer_at_total() -> None:
    elapsed = time_to_timeout(Timeout(), stall=600)
    assert elapsed == pytest.approx(30, abs=0.01)


# -- decoding a page reads the parsed list item by item ------------------------------------------


async def test_a_page_keeps_every_item_in_order() -> None:
    page = await client(canned(page_body(50))).messages.list_chat_messages(chat_id=334)
    assert [m.id for m in page.items] == [194275 + i for i in range(50)]
    assert page.has_next is True
    assert page.items[7].files[1].width == 1280


def test_structure_parsed_gives_what_structure_gives() -> None:
    raw = [rich_message(i) for i in range(3)]
    expected = structure(copy.deepcopy(raw), list[Message])
    assert structure_parsed(raw, list[Message]) == expected
    assert raw == []  # the parsed list is consumed, its items freed as they are read


async def test_a_list_answer_that_is_not_a_list_is_a_decode_error() -> None:
    body = json.dumps({"data": {"id": 1}, "meta": {"paginate": {"next_page": "x"}}}).encode()
    with pytest.raises(ResponseDecodeError, match=r"does not match the spec.*expected a list"):
        await client(canned(body)).messages.list_chat_messages(chat_id=334)
