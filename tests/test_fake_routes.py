"""FakePachca serves what bots and Pachca's own examples call besides messages and chats: files by
id, threads, pins, drafts, avatars, exports and message search, driven through `PachcaClient`
(drafts and the newer avatars by their paths, in the shapes of pachca-sdk 1.6.1)."""

from __future__ import annotations

import datetime
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from pachca_async import InputFile, NotFoundError, PachcaClient, ValidationError
from pachca_async.models import FileTarget
from pachca_async.testing import FakePachca
from pachca_async.webhooks import ExportWebhookPayload, parse_update

MOMENT = datetime.datetime(2025, 5, 15, 14, 30, tzinfo=datetime.UTC)


@pytest.fixture
async def api() -> AsyncIterator[FakePachca]:
    async with FakePachca(clock=lambda: MOMENT) as fake:
        fake.add_chat("General", id=198)
        yield fake


@pytest.fixture
async def pachca(api: FakePachca) -> AsyncIterator[PachcaClient]:
    async with api.client() as client:
        yield client


async def _raw(api: FakePachca, method: str, path: str, **options: Any) -> tuple[int, Any]:
    """A call the spec of this branch does not describe yet, by path, as Pachca's SDK sends it."""
    headers = {"Authorization": "Bearer fake-token"}
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, api.base_url + path, headers=headers, **options) as answer,
    ):
        body = await answer.json() if answer.content_type == "application/json" else None
        return answer.status, body


async def test_an_attachment_downloads_by_id_through_the_storage(
    api: FakePachca, pachca: PachcaClient
) -> None:
    sent = await pachca.files.send_message(
        entity_id=198, content="report", files=[InputFile(b"%PDF-1.7 ...", name="q3.pdf")]
    )
    attached = sent.files[0]
    assert await pachca.files.download_file(attached.id) == b"%PDF-1.7 ..."
    fetched = [c for c in api.calls if c.path == f"/storage/{attached.key}"]
    assert len(fetched) == 1
    assert "Authorization" not in fetched[0].headers

    seeded = api.add_file(b"\x89PNG...", name="chart.png", file_type="image")
    assert await pachca.files.download_file(seeded["id"], target=FileTarget.THUMB) == b"\x89PNG..."
    with pytest.raises(ValidationError, match="has no pdf_preview"):
        await pachca.files.download_file(attached.id, target=FileTarget.PDF_PREVIEW)
    with pytest.raises(NotFoundError):
        await pachca.files.download_file(999)


async def test_a_thread_is_made_once_and_takes_messages(
    api: FakePachca, pachca: PachcaClient
) -> None:
    root = await pachca.messages.create_message(entity_id=198, content="Release plan")
    thread = await pachca.threads.create_thread(root.id)
    assert (thread.message_id, thread.message_chat_id) == (root.id, 198)
    assert await pachca.threads.create_thread(root.id) == thread
    assert await pachca.threads.get_thread(thread.id) == thread
    reply = await pachca.messages.create_message(
        entity_type="thread", entity_id=thread.id, content="Ship it"
    )
    assert reply.chat_id == thread.chat_id != 198
    assert (await pachca.messages.get_message(root.id)).thread is not None
    standalone = await pachca.threads.create_standalone_thread()
    assert standalone.message_id is None
    listed = await pachca.threads.list_threads(last_message_at_after=MOMENT)
    assert {t.id for t in listed.items} == {thread.id, standalone.id}
    before = MOMENT - datetime.timedelta(days=1)
    assert (await pachca.threads.list_threads(last_message_at_before=before)).items == []


async def test_a_bad_thread_list_bound_is_refused_with_no_threads(api: FakePachca) -> None:
    status, body = await _raw(api, "GET", "/threads?last_message_at_after=yesterday")
    assert status == 400
    assert body["errors"][0]["key"] == "last_message_at_after"


async def test_messages_are_pinned_and_unpinned(api: FakePachca, pachca: PachcaClient) -> None:
    first = await pachca.messages.create_message(entity_id=198, content="Rules")
    await pachca.messages.pin_message(first.id)
    await pachca.messages.pin_message(first.id)
    assert api.pins == [first.id]
    await pachca.messages.unpin_message(first.id)
    assert api.pins == []
    with pytest.raises(NotFoundError):
        await pachca.messages.pin_message(404)


async def test_messages_are_found_by_search(api: FakePachca, pachca: PachcaClient) -> None:
    for text in ("Invoice 12 paid", "lunch?", "the INVOICE for May"):
        await pachca.messages.create_message(entity_id=198, content=text)
    page = await pachca.search.search_messages(query="invoice", limit=1)
    assert [m.content for m in page.items] == ["the INVOICE for May"]
    assert page.total == 2
    found = [m.content async for m in pachca.search.search_messages(query="invoice", limit=1)]
    assert found == ["the INVOICE for May", "Invoice 12 paid"]


async def test_drafts_and_scheduled_messages(api: FakePachca) -> None:
    schedule = {"start_date": "2026-09-17T12:00:00.000Z", "repetition": {"interval": "weekly"}}
    status, created = await _raw(
        api,
        "POST",
        "/drafts",
        json={"draft": {"entity_type": "discussion", "entity_id": 198, "content": "Weekly"}},
    )
    draft = created["data"]
    assert (status, draft["chat_id"], draft["schedule"], draft["next_send_at"]) == (
        201, 198, None, None,
    )  # fmt: skip
    status, updated = await _raw(
        api, "PUT", f"/drafts/{draft['id']}", json={"draft": {"schedule": schedule}}
    )
    assert updated["data"]["next_send_at"] == "2026-09-17T12:00:00.000Z"
    assert updated["data"]["schedule"]["end_date"] is None
    _, scheduled = await _raw(api, "GET", "/drafts?type=scheduled")
    _, regular = await _raw(api, "GET", "/drafts?type=regular")
    assert ([d["id"] for d in scheduled["data"]], regular["data"]) == ([draft["id"]], [])
    assert (await _raw(api, "DELETE", f"/drafts/{draft['id']}"))[0] == 204
    status, missing = await _raw(api, "GET", f"/drafts/{draft['id']}")
    assert (status, missing["errors"][0]["code"]) == (404, "not_found")


async def test_avatars_are_set_and_removed(api: FakePachca, pachca: PachcaClient) -> None:
    avatar = await pachca.profile.update_profile_avatar(image=InputFile(b"me", name="me.png"))
    assert avatar.image_url.endswith("/avatars/profile.png")
    await pachca.users.update_user_avatar(12, image=InputFile(b"twelve", name="12.png"))
    form = aiohttp.FormData()
    form.add_field("image", b"chat", filename="chat.png")
    assert (await _raw(api, "PUT", "/chats/198/avatar", data=form))[0] == 200
    assert api.avatars == {"profile": b"me", "users/12": b"twelve", "chats/198": b"chat"}
    await pachca.users.delete_user_avatar(12)
    assert (await _raw(api, "DELETE", "/chats/198/avatar"))[0] == 204
    assert list(api.avatars) == ["profile"]


async def test_an_export_is_ready_at_once(
    tmp_path: Path, api: FakePachca, pachca: PachcaClient
) -> None:
    await pachca.chats.request_export(
        start_at=datetime.date(2025, 1, 1),
        end_at=datetime.date(2025, 2, 14),
        webhook_url="https://bot.example.com/export-7f3a9c",
    )
    [export_id] = [int(key.split("/")[1].split(".")[0]) for key in api.objects]
    event = parse_update(json.dumps(api.export_ready_event(export_id)).encode())
    assert isinstance(event.payload, ExportWebhookPayload)
    assert event.payload.created_at == MOMENT
    saved = await pachca.chats.save_export(export_id, tmp_path / "export.zip")
    assert saved.read_bytes().startswith(b"PK")
    with pytest.raises(NotFoundError, match="is not ready"):
        await pachca.chats.download_export(export_id + 1)
