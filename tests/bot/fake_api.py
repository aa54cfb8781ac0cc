"""A local stand-in for the Pachca API and for Pachca's webhook deliveries, on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import attrs
from aiohttp import web

from pachca_async import PachcaClient
from pachca_async.bot import Dispatcher, WebhookReceiver
from pachca_async.webhooks import (
    SIGNATURE_HEADER,
    ButtonWebhookPayload,
    ChatMemberWebhookPayload,
    CompanyMemberWebhookPayload,
    ExportReadyPayload,
    LinkSharedWebhookPayload,
    MessageWebhookPayload,
    ReactionWebhookPayload,
    VideoCallWebhookPayload,
    ViewSubmitWebhookPayload,
    signature,
)

BOT_ID = 1000
SECRET = "test-signing-secret"
STAMP = "2025-05-15T14:30:00.000Z"


def message(
    text: str = "hello", *, user_id: int = 7, chat_id: int = 55, message_id: int = 1, **extra: Any
) -> dict[str, Any]:
    """A `message`/`new` webhook payload."""
    return {
        "type": "message",
        "event": "new",
        "id": message_id,
        "entity_type": "discussion",
        "entity_id": chat_id,
        "content": text,
        "user_id": user_id,
        "created_at": STAMP,
        "url": f"https://app.pachca.com/chats/{chat_id}?message={message_id}",
        "chat_id": chat_id,
        "parent_message_id": None,
        "thread": None,
        "webhook_timestamp": 1_700_000_000,
        **extra,
    }


def click(
    data: str, *, trigger_id: str = "trig-1", user_id: int = 7, chat_id: int = 55
) -> dict[str, Any]:
    return {
        "type": "button",
        "event": "click",
        "message_id": 42,
        "trigger_id": trigger_id,
        "data": data,
        "user_id": user_id,
        "chat_id": chat_id,
        "webhook_timestamp": 1_700_000_000,
    }


def submit(callback_id: str | None, data: dict[str, Any], *, user_id: int = 7) -> dict[str, Any]:
    return {
        "type": "view",
        "event": "submit",
        "callback_id": callback_id,
        "private_metadata": None,
        "chat_id": 55,
        "user_id": user_id,
        "data": data,
        "webhook_timestamp": 1_700_000_000,
    }


def link_shared(*urls: str, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "message",
        "event": "link_shared",
        "chat_id": 55,
        "message_id": 77,
        "links": [{"url": u, "domain": "example.com", "skip": u in skip} for u in urls],
        "user_id": 7,
        "created_at": STAMP,
        "webhook_timestamp": 1_700_000_000,
    }


# One payload of every documented kind, with the model it parses into.
SAMPLES: list[tuple[dict[str, Any], type[Any]]] = [
    (message("hi"), MessageWebhookPayload),
    ({**message("edited"), "event": "update", "changed_at": STAMP}, MessageWebhookPayload),
    ({**message(""), "event": "delete"}, MessageWebhookPayload),
    (
        {
            "type": "reaction",
            "event": "new",
            "chat_id": None,
            "message_id": 1,
            "code": "👍",
            "name": "thumbsup",
            "user_id": 2,
            "created_at": STAMP,
            "webhook_timestamp": 1,
        },
        ReactionWebhookPayload,
    ),
    (click("vote:yes"), ButtonWebhookPayload),
    (submit("feedback", {"score": "5", "tags": ["a"]}), ViewSubmitWebhookPayload),
    (
        {
            "type": "chat_member",
            "event": "add",
            "chat_id": 1,
            "thread_id": None,
            "user_ids": [2, 3],
            "created_at": STAMP,
            "webhook_timestamp": 1,
        },
        ChatMemberWebhookPayload,
    ),
    (
        {
            "type": "company_member",
            "event": "suspend",
            "user_ids": [2],
            "created_at": STAMP,
            "webhook_timestamp": 1,
        },
        CompanyMemberWebhookPayload,
    ),
    (link_shared("https://example.com/a"), LinkSharedWebhookPayload),
    (
        {
            "type": "video_call",
            "event": "recording_ready",
            "video_room_id": 9,
            "chat_id": 1,
            "owner_id": 2,
            "thread": None,
            "duration": 900,
            "recording_id": 4,
            "file_id": None,
            "url": "https://api.pachca.com/files/1",
            "size": 10,
            "webhook_timestamp": 1,
        },
        VideoCallWebhookPayload,
    ),
    (
        {
            "type": "export",
            "event": "ready",
            "export_id": 22322,
            "created_at": "2025-03-20T12:33:58Z",
        },
        ExportReadyPayload,
    ),
]


def signed(payload: dict[str, Any], *, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    """A delivery as Pachca sends it: the JSON body and its signature header."""
    body = json.dumps(payload).encode()
    return body, {"Content-Type": "application/json", SIGNATURE_HEADER: signature(body, secret)}


class FakePachca:
    """Answers the calls bots make and records them; serves a bot's event history.

    `history` holds event-history entries (`{id, event_type, payload, created_at}`), served
    `newest_first` in pages of at most `limit`; DELETE removes one. `get_times` records the
    loop time of every history read; `fail_reads` makes the next reads answer that status.
    """

    def __init__(self, *, bot_id: int = BOT_ID, newest_first: bool = True) -> None:
        self.bot_id = bot_id
        self.newest_first = newest_first
        self.calls: list[tuple[str, str, Any]] = []
        self.history: list[dict[str, Any]] = []
        self.deleted: list[str] = []
        self.get_times: list[float] = []
        self.fail_reads: list[int] = []
        self.stored: dict[str, bytes] = {}
        """Files uploaded to the (fake) file storage, by the name they were sent with."""
        self.on_call: Callable[[str, str, Any], None] | None = None
        self._ids = itertools.count(500)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/oauth/token/info", self._token_info)
        app.router.add_post("/messages", self._create_message)
        app.router.add_post("/messages/{id}/link_previews", self._no_content)
        app.router.add_post("/views/open", self._open_view)
        app.router.add_get("/webhooks/events", self._history)
        app.router.add_delete("/webhooks/events/{id}", self._delete_event)
        app.router.add_post("/uploads", self._upload_params)
        app.router.add_post("/storage", self._store)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def client(self, **options: Any) -> PachcaClient:
        return PachcaClient("bot-token", base_url=self.base_url, **options)

    def calls_to(self, method: str, path: str) -> list[Any]:
        return [body for m, p, body in self.calls if m == method and p == path]

    async def _record(self, request: web.Request) -> Any:
        body = await request.json() if request.can_read_body else None
        self.calls.append((request.method, request.path, body))
        if self.on_call is not None:
            self.on_call(request.method, request.path, body)
        return body

    async def _token_info(self, request: web.Request) -> web.Response:
        await self._record(request)
        info = {
            "id": 1,
            "token": "bot-tok…oken",
            "name": None,
            "user_id": self.bot_id,
            "scopes": ["messages:create"],
            "created_at": STAMP,
            "revoked_at": None,
            "expires_in": None,
            "last_used_at": STAMP,
        }
        return web.json_response({"data": info})

    async def _create_message(self, request: web.Request) -> web.Response:
        body = (await self._record(request))["message"]
        chat = body["entity_id"]
        created = {
            "id": next(self._ids),
            "entity_type": body.get("entity_type", "discussion"),
            "entity_id": chat,
            "chat_id": chat,
            "root_chat_id": chat,
            "content": body["content"],
            "user_id": self.bot_id,
            "created_at": STAMP,
            "url": "https://app.pachca.com/",
            "files": [],
            "voice_content": None,
            "buttons": body.get("buttons") or [],
            "thread": None,
            "forwarding": None,
            "parent_message_id": None,
            "changed_at": None,
            "deleted_at": None,
        }
        return web.json_response({"data": created}, status=201)

    async def _open_view(self, request: web.Request) -> web.Response:
        await self._record(request)
        return web.Response(status=201)

    async def _no_content(self, request: web.Request) -> web.Response:
        await self._record(request)
        return web.Response(status=204)

    async def _history(self, request: web.Request) -> web.Response:
        self.get_times.append(asyncio.get_running_loop().time())
        self.calls.append((request.method, request.path, dict(request.query)))
        if self.fail_reads:
            status = self.fail_reads.pop(0)
            headers = {"Retry-After": "3"} if status == 429 else {}
            return web.json_response({"errors": []}, status=status, headers=headers)
        entries = sorted(self.history, key=lambda e: (e["created_at"], e.get("id", "")))
        if self.newest_first:
            entries.reverse()
        limit = int(request.query.get("limit", "50"))
        start = int(request.query.get("cursor", "0"))
        page = entries[start : start + limit]
        end = start + len(page)
        meta = {
            "paginate": {
                "next_page": str(end),
                "prev_page": str(start),
                "has_next": end < len(entries),
                "has_prev": start > 0,
            }
        }
        return web.json_response({"data": page, "meta": meta})

    async def _upload_params(self, request: web.Request) -> web.Response:
        self.calls.append((request.method, request.path, None))
        params = {
            "Content-Disposition": "attachment",
            "acl": "private",
            "policy": "policy",
            "x-amz-credential": "credential",
            "x-amz-algorithm": "AWS4-HMAC-SHA256",
            "x-amz-date": "20250515T143000Z",
            "x-amz-signature": "signature",
            "key": f"attaches/files/1/{next(self._ids)}/${{filename}}",
            "direct_url": f"{self.base_url}/storage",
        }
        return web.json_response(params, status=201)

    async def _store(self, request: web.Request) -> web.Response:
        self.calls.append((request.method, request.path, None))
        async for part in await request.multipart():
            if getattr(part, "name", None) == "file":
                self.stored[part.filename or ""] = await part.read()  # type: ignore[union-attr]
        return web.Response(status=204)

    async def _delete_event(self, request: web.Request) -> web.Response:
        entry_id = request.match_info["id"]
        self.calls.append((request.method, request.path, None))
        before = len(self.history)
        self.history = [e for e in self.history if e.get("id") != entry_id]
        if len(self.history) == before:
            return web.json_response({"errors": []}, status=404)
        self.deleted.append(entry_id)
        return web.Response(status=204)


def entry(entry_id: str, created_at: str, payload: dict[str, Any]) -> dict[str, Any]:
    """An event-history entry."""
    return {
        "id": entry_id,
        "event_type": f"{payload['type']}_{payload['event']}",
        "payload": payload,
        "created_at": created_at,
    }


async def deliver(
    session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]
) -> tuple[int, str]:
    async with session.post(url, data=body, headers=headers) as response:
        return response.status, await response.text()


NOW = 1_700_000_000
"""The wall clock of the receivers in `running()` (matching the payloads' `webhook_timestamp`)."""


@attrs.define
class Bot:
    fake: FakePachca
    pachca: PachcaClient
    receiver: WebhookReceiver
    runner: web.AppRunner
    url: str
    session: aiohttp.ClientSession

    async def send(self, payload: dict[str, Any], **options: Any) -> tuple[int, str]:
        return await deliver(self.session, self.url + "/hook", *signed(payload, **options))

    async def post(
        self, body: bytes, headers: dict[str, str], path: str = "/hook"
    ) -> tuple[int, str]:
        return await deliver(self.session, self.url + path, body, headers)


@contextlib.asynccontextmanager
async def running(dp: Dispatcher, **options: Any) -> AsyncIterator[Bot]:
    fake = FakePachca()
    await fake.start()
    pachca = fake.client(max_retries=0)
    receiver = WebhookReceiver(dp, pachca, secret=SECRET, wall_clock=lambda: NOW, **options)
    app = web.Application()
    receiver.mount(app, "/hook", export_path="/export-7f3a9c")
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        async with aiohttp.ClientSession() as session:
            yield Bot(fake, pachca, receiver, runner, f"http://{host}:{port}", session)
    finally:
        await runner.cleanup()
        await pachca.close()
        await fake.close()
