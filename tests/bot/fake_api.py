"""Webhook payloads as Pachca sends them, and a bot receiving them on 127.0.0.1 that answers
through the client to `pachca_async.testing.FakePachca`.

`running()` is not `LocalBot`: these tests watch the receiver itself (what it answers before
its handlers finish, the export callback's route, bad signatures), where `LocalBot.deliver`
waits for the handlers and raises their errors, as a user's bot test wants.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import attrs
from aiohttp import web

from pachca_async import PachcaClient, testing
from pachca_async.bot import Dispatcher, WebhookReceiver
from pachca_async.testing import FakePachca, signed_delivery
from pachca_async.webhooks import (
    ButtonWebhookPayload,
    ChatMemberWebhookPayload,
    CompanyMemberWebhookPayload,
    ExportReadyPayload,
    LinkSharedWebhookPayload,
    MessageWebhookPayload,
    ReactionWebhookPayload,
    VideoCallWebhookPayload,
    ViewSubmitWebhookPayload,
)

BOT_ID = 1000
CHAT = 55
HISTORY = "/webhooks/events"
SECRET = "test-signing-secret"
STAMP = "2025-05-15T14:30:00.000Z"
NOW = 1_700_000_000
"""The wall clock of the receivers in `running()` (matching the payloads' `webhook_timestamp`)."""


def message(
    text: str = "hello", *, user_id: int = 7, chat_id: int = 55, message_id: int = 1, **extra: Any
) -> dict[str, Any]:
    """A `message`/`new` webhook payload (the public builders, set in this file's chat)."""
    sent = testing.message(
        message_id, content=text, user_id=user_id, chat_id=chat_id, created_at=STAMP, thread=None
    )
    return {**testing.message_event(sent, webhook_timestamp=NOW), **extra}


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
        "view_id": "01KAJZ2XDSS2S3DSW9EXJZ0TBV",
        "submit_id": "791a056b-006c-49dd-834b-c633fde52fe8",
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
    return signed_delivery(payload, secret)


def entry(entry_id: str, created_at: str, payload: dict[str, Any]) -> dict[str, Any]:
    """An event-history entry."""
    return {
        "id": entry_id,
        "event_type": f"{payload['type']}_{payload['event']}",
        "payload": payload,
        "created_at": created_at,
    }


def history_reads(fake: FakePachca) -> list[float]:
    """When the event history was read, on the event loop's clock."""
    return [call.at for call in fake.calls if (call.method, call.path) == ("GET", HISTORY)]


@attrs.define
class Bot:
    fake: FakePachca
    pachca: PachcaClient
    receiver: WebhookReceiver
    runner: web.AppRunner
    url: str
    session: aiohttp.ClientSession

    async def send(self, payload: dict[str, Any], *, secret: str = SECRET) -> tuple[int, str]:
        return await self.fake.deliver(self.url + "/hook", payload, secret=secret)

    async def post(
        self, body: bytes, headers: dict[str, str], path: str = "/hook"
    ) -> tuple[int, str]:
        return await self.fake.deliver(self.url + path, body, headers=headers)


@contextlib.asynccontextmanager
async def running(dp: Dispatcher, **options: Any) -> AsyncIterator[Bot]:
    fake = FakePachca(bot_id=BOT_ID)
    await fake.start()
    fake.add_chat("test chat", id=CHAT)  # where the payloads above come from
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
