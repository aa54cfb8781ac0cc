"""`pachca_async.testing.MockTransport`: the client's whole pipeline with no server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from pachca_async import (
    ConnectError,
    InvalidRequestError,
    NotFoundError,
    PachcaClient,
    Request,
    Response,
)
from pachca_async._generated.services.messages import CREATE_MESSAGE
from pachca_async.testing import MockTransport, json_response, message, request_json, run_virtual
from tests.readme import python_blocks

BASE = "http://127.0.0.1:9"


def client(handler: object, **options: object) -> PachcaClient:
    return PachcaClient("secret", base_url=BASE, transport=MockTransport(handler), **options)  # type: ignore[arg-type]


async def test_a_sync_handler_sees_the_request_and_its_answer_is_decoded() -> None:
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        sent = request_json(request)
        return json_response({"data": message(7, content=sent["message"]["content"])}, status=201)

    async with client(handler) as pachca:
        created = await pachca.messages.create_message(entity_id=198, content="Hello")
    assert (created.id, created.content) == (7, "Hello")
    assert [(r.method, r.url) for r in seen] == [("POST", f"{BASE}/messages")]
    assert seen[0].headers["Authorization"] == "Bearer secret"


async def test_an_async_handler_is_awaited_and_error_statuses_raise_typed_errors() -> None:
    async def handler(request: Request) -> Response:
        await asyncio.sleep(0)
        missing = {"key": "id", "value": "5", "message": "not found", "code": "not_found"}
        return json_response({"errors": [missing]}, status=404)

    async with client(handler) as pachca:
        with pytest.raises(NotFoundError, match="id: not found"):
            await pachca.messages.get_message(5)


def test_a_raised_transport_error_goes_through_retries() -> None:
    attempts: list[int] = []

    def handler(request: Request) -> Response:
        attempts.append(request.attempt)
        if len(attempts) < 3:
            raise ConnectError("no route")
        return json_response({"data": message(1)})

    async def scenario() -> int:
        async with client(handler, max_retries=5) as pachca:
            return (await pachca.messages.get_message(1)).id

    assert run_virtual(scenario()) == 1  # the backoff waits take no real time
    assert attempts == [1, 2, 3]


def test_json_response_without_a_document_has_no_body() -> None:
    empty = json_response(None, status=204, headers={"X-Request-Id": "r1"})
    assert (empty.status, empty.body, dict(empty.headers)) == (204, b"", {"X-Request-Id": "r1"})


async def test_a_download_is_poured_into_its_sink(tmp_path: Path) -> None:
    archive = b"PK\x03\x04" + bytes(range(256)) * 64
    storage = "http://127.0.0.1:9/storage/export-5.zip"
    answer = Response(200, json_response(None).headers, archive)  # one object, served twice

    def handler(request: Request) -> Response:
        if request.url == f"{BASE}/chats/exports/5":
            return json_response(None, status=302, headers={"Location": storage})
        assert request.url == storage
        assert "Authorization" not in request.headers
        return answer

    async with client(handler) as pachca:
        for name in ("first.zip", "second.zip"):
            saved = await pachca.chats.save_export(5, tmp_path / name)
            assert saved.read_bytes() == archive
    assert answer.body == archive  # the handler's response is not drained


async def test_the_readme_example_passes() -> None:
    namespace: dict[str, Any] = {}
    exec(python_blocks("### No server at all: `MockTransport`")[0], namespace)
    await namespace["test_a_refusal_is_reported"]()
    assert len(namespace["sent"]) == 1


def test_request_json_refuses_a_body_that_is_not_json() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"--boundary"

    upload = Request("POST", f"{BASE}/storage", operation=CREATE_MESSAGE, body=chunks())
    with pytest.raises(
        InvalidRequestError, match=r"messages\.create_message sends a form or a stream"
    ):
        request_json(upload)
    assert request_json(Request("GET", BASE, operation=CREATE_MESSAGE)) is None
