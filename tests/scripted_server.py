"""A local server that answers like Pachca and records every request that reaches it.

```python
async with ScriptedServer() as server:
    server.reply("GET", "/messages/5", Reply(json={"data": message()}))
    async with PachcaClient(TOKEN, base_url=server.base_url) as pachca:
        await pachca.messages.get_message(5)
    assert server.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"
```

It runs on whatever event loop is current (pytest-asyncio's, or `run_virtual`'s virtual clock:
a `Reply(delay=...)` then takes no real time), listens on 127.0.0.1 only, and serves under
Pachca's base path. `serve_in_thread` runs it on its own loop for code that calls
`asyncio.run` itself (the README example).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping
from types import TracebackType
from typing import Any

import attrs
from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDictProxy, MultiDictProxy

from pachca_async.testing import api_error

BASE_PATH = "/api/shared/v1"
TOKEN = "pk-test-9f8e7d6c5b4a-do-not-leak"
"""The token tests use: distinctive, so a leak into a repr or a log line is easy to spot."""

_NO_JSON: Any = object()
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@attrs.frozen
class Reply:
    """A scripted answer: a status with a JSON document, raw bytes, or nothing.

    `delay` waits (on the event loop's clock) before answering; `drop` reads the request and
    closes the connection without answering, as a crashed proxy would.
    """

    status: int = 200
    json: Any = _NO_JSON
    body: bytes | str | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    content_type: str | None = None
    delay: float = 0.0
    drop: bool = False

    def response(self) -> web.Response:
        body = self.body
        content_type = self.content_type
        if self.json is not _NO_JSON:
            body = json.dumps(self.json)
            content_type = content_type or "application/json"
        response = web.Response(status=self.status, headers=self.headers)
        if body is not None:
            response.body = body.encode() if isinstance(body, str) else body
            response.content_type = content_type or "application/octet-stream"
        return response


@attrs.frozen
class Recorded:
    """A request as it arrived: `path` is relative to Pachca's base path."""

    method: str
    path: str
    raw_path: str
    """The path as sent, percent-encoding kept."""
    query_string: str
    query: MultiDictProxy[str]
    headers: CIMultiDictProxy[str]
    body: bytes
    at: float
    """The event loop's clock when it arrived."""
    peer_port: int
    """The client's port: the same port means the same (kept-alive) connection."""

    def json(self) -> Any:
        return json.loads(self.body)


class ScriptedServer:
    """A recording server: script answers with `reply`, read what arrived in `requests`.

    Pass `port` to listen on a chosen port (one that refused connections a moment ago, say).
    Each route answers with its replies in order, repeating the last one. A request with no
    route gets a 404 whose message names it, so a test that forgot one fails readably.
    """

    def __init__(self, *, port: int | None = None) -> None:
        self.requests: list[Recorded] = []
        self._port = port
        self._routes: dict[tuple[str, str], deque[Reply | Handler]] = {}
        self._server: TestServer | None = None

    def reply(self, method: str, path: str, *replies: Reply | Handler) -> None:
        """Answer `method path` (relative to the base path) with `replies`, in order."""
        self._routes[(method.upper(), path)] = deque(replies)

    def json(self, method: str, path: str, document: Any, *, status: int = 200) -> None:
        """Answer `method path` with one JSON document, every time."""
        self.reply(method, path, Reply(status, document))

    def by_cursor(self, method: str, path: str, documents: Mapping[str | None, Any]) -> None:
        """Answer `method path` with the document for the `cursor` it was sent (None: no cursor).

        A cursor with no document gets a 400, as Pachca answers an unknown cursor.
        """

        async def answer(request: web.Request) -> web.Response:
            cursor = request.query.get("cursor")
            if cursor not in documents:
                return web.json_response(
                    api_error("cursor", f"unknown cursor {cursor}"), status=400
                )
            return web.json_response(documents[cursor])

        self.reply(method, path, answer)

    def count(self, method: str | None = None, path: str | None = None) -> int:
        return sum(
            1
            for r in self.requests
            if (method is None or r.method == method) and (path is None or r.path == path)
        )

    @property
    def last(self) -> Recorded:
        return self.requests[-1]

    @property
    def url(self) -> str:
        """The server's root (`http://127.0.0.1:PORT`)."""
        assert self._server is not None, "start the server first (async with)"
        return str(self._server.make_url("")).rstrip("/")

    @property
    def base_url(self) -> str:
        """Where a client should send API calls: the root plus Pachca's base path."""
        return self.url + BASE_PATH

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        path = request.path.removeprefix(BASE_PATH)
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.requests.append(
            Recorded(
                method=request.method,
                path=path,
                raw_path=request.raw_path.partition("?")[0],
                query_string=request.query_string,
                query=request.query,
                headers=request.headers,
                body=body,
                at=asyncio.get_running_loop().time(),
                peer_port=peer[1] if peer else 0,
            )
        )
        replies = self._routes.get((request.method, path))
        if not replies:
            return web.json_response(
                {"errors": [{"key": "test", "message": f"no reply for {request.method} {path}"}]},
                status=404,
            )
        reply = replies.popleft() if len(replies) > 1 else replies[0]
        if not isinstance(reply, Reply):
            return await reply(request)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.drop:
            assert request.transport is not None
            request.transport.close()
            return web.Response()  # never reaches the client
        return reply.response()

    async def __aenter__(self) -> ScriptedServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._server = TestServer(app, host="127.0.0.1", port=self._port)
        await self._server.start_server()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._server is not None
        await self._server.close()


@contextlib.contextmanager
def serve_in_thread(server: ScriptedServer) -> Iterator[ScriptedServer]:
    """Run `server` on its own event loop in a thread, for code that runs its own loop."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(server.__aenter__(), loop).result(timeout=10)
        try:
            yield server
        finally:
            asyncio.run_coroutine_threadsafe(server.__aexit__(None, None, None), loop).result(10)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


# -- canned Pachca objects (messages, pages, errors: pachca_async.testing) ---------------------


def free_port() -> int:
    """A port on 127.0.0.1 where nothing listens (until someone binds it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def chat(id: int = 1, **changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": id,
        "name": f"chat {id}",
        "created_at": "2024-01-01T00:00:00.000Z",
        "owner_id": 12,
        "member_ids": [12, 13],
        "group_tag_ids": [],
        "channel": False,
        "archived": False,
        "personal": False,
        "public": True,
        "last_message_at": "2024-05-01T10:00:00.000Z",
        "meet_room_url": f"https://meet.example/{id}",
    }
    document.update(changes)
    return document


def user(id: int = 12, **changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": id,
        "first_name": "Oleg",
        "last_name": "Petrov",
        "nickname": "oleg",
        "email": "oleg@example.com",
        "phone_number": None,
        "department": "Product",
        "title": "CIO",
        "role": "admin",
        "suspended": False,
        "invite_status": "confirmed",
        "inviter_id": None,
        "list_tags": ["Product"],
        "custom_properties": [],
        "user_status": None,
        "bot": False,
        "sso": False,
        "created_at": "2023-01-01T00:00:00.000Z",
        "last_activity_at": "2024-05-01T10:00:00.000Z",
        "time_zone": "Europe/Moscow",
        "image_url": None,
    }
    document.update(changes)
    return document


def status(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "emoji": "🏖",
        "title": "On vacation",
        "expires_at": None,
        "is_away": True,
        "away_message": {"text": "Back on Monday"},
    }
    document.update(changes)
    return document


def reaction(code: str = "👍", **changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "user_id": 12,
        "created_at": "2024-05-01T10:00:00.000Z",
        "code": code,
        "name": ":+1:",
    }
    document.update(changes)
    return document
