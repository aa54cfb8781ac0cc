"""Scripting `pachca_async.testing.FakePachca` for the session-layer tests: exact answers
(`FakePachca.reply`), read back from `FakePachca.calls`.

```python
async with FakePachca(base_path=BASE_PATH) as server:
    server.reply("GET", "/messages/5", Reply(json={"data": message()}))
    async with PachcaClient(TOKEN, base_url=server.base_url) as pachca:
        await pachca.messages.get_message(5)
    assert server.calls[0].headers["Authorization"] == f"Bearer {TOKEN}"
```

It runs on whatever event loop is current (pytest-asyncio's, or `run_virtual`'s virtual clock:
a `Reply(delay=...)` then takes no real time). `serve_in_thread` runs it on its own loop for
code that calls `asyncio.run` itself (the README example). Messages, pages and errors come from
`pachca_async.testing`; the chats, users, statuses and reactions below are the session tests'.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from aiohttp import web

from pachca_async.testing import FakePachca, Reply, api_error

BASE_PATH = "/api/shared/v1"
"""Where the session tests' `FakePachca` serves, as Pachca does: the client sends full paths."""
TOKEN = "pk-test-9f8e7d6c5b4a-do-not-leak"
"""The token tests use: distinctive, so a leak into a repr or a log line is easy to spot."""


def root(server: FakePachca) -> str:
    """The server's root (`http://127.0.0.1:PORT`), below Pachca's base path."""
    return server.base_url.removesuffix(BASE_PATH)


def reply_json(
    server: FakePachca, method: str, path: str, document: Any, *, status: int = 200
) -> None:
    """Answer `method path` with one JSON document, every time."""
    server.reply(method, path, Reply(status, document))


def by_cursor(
    server: FakePachca, method: str, path: str, documents: Mapping[str | None, Any]
) -> None:
    """Answer `method path` with the document for the `cursor` it was sent (None: no cursor).

    A cursor with no document gets a 400, as Pachca answers an unknown cursor.
    """

    async def answer(request: web.Request) -> web.Response:
        cursor = request.query.get("cursor")
        if cursor not in documents:
            return web.json_response(api_error("cursor", f"unknown cursor {cursor}"), status=400)
        return web.json_response(documents[cursor])

    server.reply(method, path, answer)


def count(server: FakePachca, method: str | None = None, path: str | None = None) -> int:
    """How many requests came (to `method`, to `path`)."""
    return sum(
        1
        for r in server.calls
        if (method is None or r.method == method) and (path is None or r.path == path)
    )


@contextlib.contextmanager
def serve_in_thread(server: FakePachca) -> Iterator[FakePachca]:
    """Run `server` on its own event loop in a thread, for code that runs its own loop."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(server.start(), loop).result(timeout=10)
        try:
            yield server
        finally:
            asyncio.run_coroutine_threadsafe(server.close(), loop).result(10)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def free_port() -> int:
    """A port on 127.0.0.1 where nothing listens (until someone binds it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# -- canned Pachca objects (messages, pages, errors: pachca_async.testing) ---------------------


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
