"""Behaviour that the request hot path's shortcuts must keep (see `bench/` for the speed)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from bench.fixtures import rich_message
from pachca_async import (
    PachcaClient,
    Request,
    Response,
)
from pachca_async._middleware import Handler

JSON_HEADERS = CIMultiDictProxy(CIMultiDict({"Content-Type": "application/json"}))


class Canned:
    """A transport answering every request with one body, and remembering the requests."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.sent: list[Request] = []

    async def send(self, request: Request) -> Response:
        self.sent.append(request)
        return Response(200, JSON_HEADERS, self.body)

    async def close(self) -> None:
        pass


def client(transport: Canned, **options: Any) -> PachcaClient:
    return PachcaClient(
        "secret-token", base_url="http://127.0.0.1:1", transport=transport, **options
    )


# -- with DEBUG off, logging steps aside ----------------------------------------------------------


async def test_no_log_line_when_debug_is_off(caplog: pytest.LogCaptureFixture) -> None:
    body = json.dumps({"data": rich_message(0)}).encode()
    with caplog.at_level(logging.INFO, logger="pachca_async"):
        message = await client(Canned(body)).messages.get_message(194275)
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

    transport = Canned(json.dumps({"data": rich_message(0)}).encode())
    pachca = client(transport, middlewares=[tracing("outer"), tracing("inner")])
    await pachca.messages.get_message(194275)
    assert seen == ["outer in", "inner in", "inner out", "outer out"]
    assert [r.url for r in transport.sent] == ["http://127.0.0.1:1/messages/194275"]
