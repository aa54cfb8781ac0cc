"""What `FakePachca` serves besides messages and chats: the other calls a bot or Pachca's own
examples make. Forms answered later, files by id (and the storage behind them), threads, pins,
drafts and scheduled messages, avatars, exports and message search, in Pachca's shapes.

The state lives on the `FakePachca` (its public dicts); these are only its routes.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from .http import (
    JSON,
    Refusal,
    by_id,
    data,
    descending_order,
    envelope,
    json_object,
    number,
    page,
    require,
    search_page,
)

if TYPE_CHECKING:
    from .fake import FakePachca

AVATARS = ("/profile/avatar", "/users/{id}/avatar", "/chats/{id}/avatar", "/bots/{id}/avatar")
IMAGE_TARGETS = ("thumb", "image")
DRAFT_FIELDS = ("content", "parent_message_id", "schedule")


class Routes:
    """The routes of one `FakePachca`, reading and changing its state."""

    def __init__(self, api: FakePachca) -> None:
        self.api = api

    def add(self, router: web.UrlDispatcher) -> None:
        router.add_post("/views/{view_id}/submit_response", self.submit_response)
        router.add_get("/files/{id}", self.download_file)
        router.add_get("/storage/{key:.+}", self.stored_object)
        router.add_post("/messages/{id}/thread", self.create_thread)
        router.add_post("/threads", self.create_standalone_thread)
        router.add_get("/threads", self.list_threads)
        router.add_get("/threads/{id}", self.get_thread)
        router.add_post("/messages/{id}/pin", self.pin)
        router.add_delete("/messages/{id}/pin", self.unpin)
        router.add_get("/drafts", self.list_drafts)
        router.add_post("/drafts", self.create_draft)
        router.add_get("/drafts/{id}", self.get_draft)
        router.add_put("/drafts/{id}", self.update_draft)
        router.add_delete("/drafts/{id}", self.delete_draft)
        for path in AVATARS:
            router.add_put(path, self.set_avatar)
            router.add_delete(path, self.delete_avatar)
        router.add_post("/chats/exports", self.request_export)
        router.add_get("/chats/exports/{id}", self.download_export)
        router.add_get("/search/messages", self.search_messages)

    # -- forms ---------------------------------------------------------------------------------

    async def submit_response(self, request: web.Request) -> web.Response:
        """`views.submit_view_response`: the answer to a submission, once, in the fake's time."""
        fields = await json_object(request)
        require(fields, "", submit_id=str)
        errors = fields.get("errors")
        if errors is not None and not (
            isinstance(errors, dict) and all(isinstance(t, str) for t in errors.values())
        ):
            raise Refusal(400, "errors", "errors maps field names to texts", "invalid", errors)
        view_id = request.match_info["view_id"]
        submission = self.api.submissions.get(fields["submit_id"])
        if submission is None or submission["view_id"] != view_id:
            raise Refusal(404, "view_id", f"no submission of view {view_id}", "view_not_found")
        age = asyncio.get_running_loop().time() - submission["submitted_at"]
        late = age > self.api.answer_expiry
        if late or submission["answer"] is not None:
            reason = "too late to answer" if late else "answered already"
            message = f"submission {fields['submit_id']}: {reason}"
            raise Refusal(422, "submit_id", message, "submit_expired", fields["submit_id"])
        submission["answer"] = {"via": "api", "errors": errors}
        return web.json_response({"success": True})

    # -- files ---------------------------------------------------------------------------------

    async def download_file(self, request: web.Request) -> web.Response:
        """`GET /files/{id}`: a redirect to the file in the storage (a variant of an image)."""
        file = by_id(request, self.api.files, "file")
        file_id = file["id"]
        target = request.query.get("target")
        if target is not None and not (file["file_type"] == "image" and target in IMAGE_TARGETS):
            raise Refusal(400, "target", f"file {file_id} has no {target}", "invalid", target)
        return web.Response(status=302, headers={"Location": file["url"]})

    async def stored_object(self, request: web.Request) -> web.Response:
        """The storage: an uploaded or seeded file, or a finished export's archive, by key."""
        key = request.match_info["key"]
        content = self.api.objects.get(key)
        if content is None:
            xml = f"<Error><Code>NoSuchKey</Code><Message>no {key}</Message></Error>"
            return web.Response(status=404, text=xml, content_type="application/xml")
        return web.Response(body=content, content_type="application/octet-stream")

    # -- threads and pins ----------------------------------------------------------------------

    async def create_thread(self, request: web.Request) -> web.Response:
        """A message's thread: made once (its own chat), then the same one again."""
        message = self.api._message(request)
        existing = message.get("thread")
        if existing is not None:
            return data(self.api.threads[existing["id"]], status=201)
        thread = self._new_thread(message)
        message["thread"] = {"id": thread["id"], "chat_id": thread["chat_id"]}
        return data(thread, status=201)

    async def create_standalone_thread(self, request: web.Request) -> web.Response:
        return data(self._new_thread(None), status=201)

    def _new_thread(self, message: JSON | None) -> JSON:
        """A thread (with a chat of its own) of `message`, or standalone."""
        about = f"message {message['id']}" if message else "nothing"
        chat = self.api.add_chat(f"thread of {about}")
        thread_id = self.api._new_id("thread", self.api.threads, None)
        thread = {
            "id": thread_id,
            "chat_id": chat["id"],
            "message_id": message["id"] if message else None,
            "message_chat_id": message["chat_id"] if message else None,
            "updated_at": self.api._now(),
        }
        self.api.threads[thread_id] = thread
        return thread

    async def list_threads(self, request: web.Request) -> web.Response:
        """Threads, the latest message first, within `last_message_at_after`/`_before`."""
        # Parsed once, and refused even when there is no thread to compare them with.
        after, before = (
            None if (text := request.query.get(name)) is None else _moment(text, name)
            for name in ("last_message_at_after", "last_message_at_before")
        )
        chosen = []
        for t in self.api.threads.values():
            last = _moment(self.api.chats[t["chat_id"]]["last_message_at"], "last_message_at")
            if (after is None or after <= last) and (before is None or last <= before):
                chosen.append(t)
        latest = lambda t: (self.api.chats[t["chat_id"]]["last_message_at"], t["id"])  # noqa: E731
        return page(request, chosen, latest, descending=True)

    async def get_thread(self, request: web.Request) -> web.Response:
        return data(by_id(request, self.api.threads, "thread"))

    async def pin(self, request: web.Request) -> web.Response:
        message = self.api._message(request)
        if message["id"] not in self.api.pins:
            self.api.pins.append(message["id"])
        return web.Response(status=204)

    async def unpin(self, request: web.Request) -> web.Response:
        message = self.api._message(request)
        if message["id"] in self.api.pins:
            self.api.pins.remove(message["id"])
        return web.Response(status=204)

    # -- drafts --------------------------------------------------------------------------------

    async def list_drafts(self, request: web.Request) -> web.Response:
        kind = request.query.get("type", "all")
        if kind not in ("regular", "scheduled", "all"):
            raise Refusal(400, "type", f"unknown type {kind!r}", "inclusion", kind)
        chosen = [d for d in self.api.drafts.values() if _draft_kind(d) in (kind, "all")]
        if "entity_id" in request.query:
            entity = number(request.query["entity_id"], "entity_id")
            kind_of = request.query.get("entity_type", "discussion")
            chosen = [d for d in chosen if (d["entity_type"], d["entity_id"]) == (kind_of, entity)]
        return page(request, chosen, lambda d: (d["id"],), descending=True)

    async def create_draft(self, request: web.Request) -> web.Response:
        fields = await envelope(request, "draft")
        require(fields, "draft", entity_type=str, entity_id=int)
        chat = self.api._chat_of(fields["entity_type"], fields["entity_id"])
        now = self.api._now()
        draft: JSON = {
            "id": self.api._new_id("draft", self.api.drafts, None),
            "entity_type": fields["entity_type"],
            "entity_id": fields["entity_id"],
            "chat_id": chat["id"],
            "content": "",
            "parent_message_id": None,
            "files": [],
            "voice_content": None,
            "schedule": None,
            "next_send_at": None,
            "created_at": now,
            "updated_at": now,
        }
        self._change_draft(draft, fields)
        self.api.drafts[draft["id"]] = draft
        return data(draft, status=201)

    async def get_draft(self, request: web.Request) -> web.Response:
        return data(self._draft(request))

    async def update_draft(self, request: web.Request) -> web.Response:
        draft = self._draft(request)
        self._change_draft(draft, await envelope(request, "draft"))
        draft["updated_at"] = self.api._now()
        return data(draft)

    async def delete_draft(self, request: web.Request) -> web.Response:
        del self.api.drafts[self._draft(request)["id"]]
        return web.Response(status=204)

    def _draft(self, request: web.Request) -> JSON:
        return by_id(request, self.api.drafts, "draft")

    def _change_draft(self, draft: JSON, fields: Mapping[str, Any]) -> None:
        draft.update({name: fields[name] for name in DRAFT_FIELDS if name in fields})
        if "files" in fields:
            draft["files"] = self.api._files(fields["files"] or [])
        schedule = draft["schedule"]
        if schedule is not None:
            require(schedule, "draft.schedule", start_date=str, repetition=dict)
            schedule.setdefault("end_date", None)
        draft["next_send_at"] = None if schedule is None else schedule["start_date"]

    # -- avatars, exports, search --------------------------------------------------------------

    async def set_avatar(self, request: web.Request) -> web.Response:
        """An avatar upload (multipart, the picture in `image`): kept in `api.avatars`."""
        owner = self._avatar_owner(request)
        image = None
        async for part in await request.multipart():
            if isinstance(part, aiohttp.BodyPartReader) and part.name == "image":
                image = await part.read()
        if image is None:
            raise Refusal(400, "image", "image is required", "blank")
        self.api.avatars[owner] = image
        return data({"image_url": f"{self.api.base_url}/avatars/{owner}.png"})

    async def delete_avatar(self, request: web.Request) -> web.Response:
        self.api.avatars.pop(self._avatar_owner(request), None)
        return web.Response(status=204)

    def _avatar_owner(self, request: web.Request) -> str:
        """`profile`, `users/12`, `chats/5` or `bots/3`: whose avatar a request is about."""
        return self.api._path(request).removesuffix("/avatar").strip("/")

    async def request_export(self, request: web.Request) -> web.Response:
        """An export, ready at once: its archive is in the storage; `export_ready_event` is
        the webhook Pachca would send to `webhook_url`."""
        fields = await json_object(request)
        require(fields, "", start_at=str, end_at=str)
        export_id = self.api.add_export()
        return data({"id": export_id}, status=202)

    async def download_export(self, request: web.Request) -> web.Response:
        export_id = number(request.match_info["id"], "id")
        key = f"exports/{export_id}.zip"
        if key not in self.api.objects:
            raise Refusal(404, "id", f"export {export_id} is not ready", "export_file_not_found")
        return web.Response(status=302, headers={"Location": f"{self.api.base_url}/storage/{key}"})

    async def search_messages(self, request: web.Request) -> web.Response:
        """Messages whose text holds `query` (any case), newest first unless `order=asc`."""
        query = (request.query.get("query") or "").casefold()
        found = [m for m in self.api.messages.values() if query in m["content"].casefold()]
        if "chat_ids[]" in request.query:
            chats = {number(c, "chat_ids[]") for c in request.query.getall("chat_ids[]")}
            found = [m for m in found if m["chat_id"] in chats]
        key = lambda m: (m["created_at"], m["id"])  # noqa: E731
        return search_page(request, found, key, descending_order(request))


def _moment(text: str, name: str) -> datetime.datetime:
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        raise Refusal(400, name, f"{name} is not an ISO-8601 time", "invalid", text) from None


def _draft_kind(draft: Mapping[str, Any]) -> str:
    return "regular" if draft["schedule"] is None else "scheduled"
