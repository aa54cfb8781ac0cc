"""`FakePachca`: the Pachca API in memory, served on 127.0.0.1, for tests and demos.

It keeps chats, messages, reactions, uploaded files and the bot's event history, answers in
Pachca's shapes (the `data` envelope, cursor pagination, `ApiError` and `OAuthError` bodies)
and records every request it answers. It can also play Pachca's other side: deliver signed
webhooks to a bot. See `pachca_async.testing` for an example.
"""

from __future__ import annotations

import asyncio
import collections
import datetime
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any

import aiohttp
from aiohttp import web

from .._client import PachcaClient
from .._config import REQUEST_ID_HEADER
from .._operation import RateClass
from .._ratelimit import RateLimits
from ..webhooks import SIGNATURE_HEADER, signature
from . import documents
from .http import (
    JSON,
    Call,
    Handler,
    Refusal,
    Reply,
    by_id,
    data,
    descending_order,
    envelope,
    json_object,
    number,
    page,
    require,
)
from .limits import ServerLimits, rate_class_of, retry_after
from .routes import Routes

ENTITY_TYPES = ("discussion", "thread", "user")
MAX_BODY = 1 << 30
"""The largest request body read whole: uploads of any size a test sends."""


def signed_delivery(
    payload: Mapping[str, Any] | bytes, secret: str | None
) -> tuple[bytes, dict[str, str]]:
    """A webhook delivery as Pachca sends it: the body (a payload as JSON, or bytes as they are)
    and its headers, with the body's `Pachca-Signature` unless `secret` is None."""
    if isinstance(payload, bytes):
        body = payload
    else:
        body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SIGNATURE_HEADER] = signature(body, secret)
    return body, headers


def stamp(moment: datetime.datetime) -> str:
    """A date as Pachca writes it: `2025-05-15T14:30:00.000Z`."""
    utc = moment.astimezone(datetime.UTC)
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _verdict(status: int, text: str) -> JSON | None:
    """How a bot's HTTP answer to a form submission left the form, as Pachca reads it."""
    if status == 200:
        return {"via": "webhook", "errors": None}
    try:
        errors = json.loads(text)["errors"] if status == 400 else None
    except (ValueError, TypeError, KeyError):
        return None
    return {"via": "webhook", "errors": errors} if isinstance(errors, dict) else None


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class FakePachca:
    """The Pachca API in memory, on 127.0.0.1 (a free port unless `port` is given).

    Args:
        token: The only token accepted; by default any `Bearer` token is (none at all gets 401).
        bot_id: The user the token belongs to: the author of what is created through the API.
        clock: The current time, for `created_at` and `webhook_timestamp` (default: now, UTC).
        answer_expiry: Seconds after a form submission (`view_submit_event`) that
            `views.submit_view_response` is still taken; later ones get `submit_expired`. The
            fake's setting: Pachca does not document its own.
        history_newest_first: The order `GET /webhooks/events` lists the event history in.
        base_path: Serve under this path, as Pachca serves under `/api/shared/v1`; `base_url`
            includes it and the paths in `calls` are below it.
        rate_limits: Enforce these limits as Pachca does (`RateLimits()`: the documented ones):
            a call beyond its bucket gets 429 with `Retry-After` in whole seconds. Message
            writes count per token and chat, the rest per token. None: no limits.

    State is plain dicts in Pachca's shapes, open to read and change: `chats` and `messages`
    by id, `reactions` by message id, `history` (event-history entries), `stored` (files sent
    to the storage, by file name), `objects` (the storage's content, by key), `files`
    (attachments, by id), `threads` and `drafts` by id, `pins` (message ids), `avatars` (by
    owner: `profile`, `users/12`, `chats/5`, `bots/3`), `submissions` (forms sent, by
    `submit_id`, with the `answer` they got), `deleted` (ids of deleted history entries).
    `calls` records every request.

    Served: messages (create, get, update, delete, a chat's list, reactions, link previews,
    pins, threads), message search, chats (create, get, list), forms (`POST /views/open`, and
    answering a submission later), uploads (`POST /uploads` and the storage behind it), files
    by id (`GET /files/{id}`, redirected to the storage), drafts and scheduled messages,
    avatars, exports, the event history (list, delete) and `GET /oauth/token/info`. Any other
    call gets a 404 naming it. A message to a user (`entity_type="user"`) opens a personal
    chat; one to a thread goes to the thread's chat. Unknown chats and messages get 404, as
    from Pachca: seed them with `add_chat` and `add_message`.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_id: int = 1000,
        port: int = 0,
        clock: Callable[[], datetime.datetime] = _utc_now,
        answer_expiry: float = 5.0,
        history_newest_first: bool = True,
        base_path: str = "",
        rate_limits: RateLimits | None = None,
    ) -> None:
        self.bot_id = bot_id
        # The fake's own choice, not a value Pachca documents: Pachca refuses a late answer
        # (`submit_expired`) without saying after how long, and tests need a late answer.
        self.answer_expiry = answer_expiry
        self.history_newest_first = history_newest_first
        self.chats: dict[int, JSON] = {}
        self.messages: dict[int, JSON] = {}
        self.reactions: dict[int, list[JSON]] = collections.defaultdict(list)
        self.history: list[JSON] = []
        self.deleted: list[str] = []
        self.stored: dict[str, bytes] = {}
        self.objects: dict[str, bytes] = {}
        self.files: dict[int, JSON] = {}
        self.threads: dict[int, JSON] = {}
        self.drafts: dict[int, JSON] = {}
        self.pins: list[int] = []
        self.avatars: dict[str, bytes] = {}
        self.submissions: dict[str, JSON] = {}
        self.calls: list[Call] = []
        self.base_path = base_path.rstrip("/")
        self.base_url = ""
        """`http://127.0.0.1:PORT` (and `base_path`) once started: what
        `PachcaClient(base_url=...)` takes."""
        self._token = token
        self._port = port
        self._clock = clock
        self._last_ids: collections.Counter[str] = collections.Counter(
            chat=100, message=1000, event=0, upload=0, thread=500, draft=700, export=22300
        )
        self._limits = None if rate_limits is None else ServerLimits(rate_limits)
        self._failures: dict[tuple[str, str], collections.deque[tuple[int, float]]] = {}
        self._replies: dict[tuple[str, str], collections.deque[Reply | Handler]] = {}
        self._arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"<FakePachca {self.base_url or 'not started'} calls={len(self.calls)}>"

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(middlewares=[self._serve], client_max_size=MAX_BODY)
        self._routes(app.router)
        if self.base_path:
            root = web.Application(client_max_size=MAX_BODY)
            root.add_subapp(self.base_path, app)
            app = root
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self._port).start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}{self.base_path}"

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakePachca:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def client(self, token: str | None = None, **options: Any) -> PachcaClient:
        """A `PachcaClient` for this server (`options` as for `PachcaClient`)."""
        return PachcaClient(token or self._token or "fake-token", base_url=self.base_url, **options)

    # -- seeding and inspecting ----------------------------------------------------------------

    def add_chat(self, name: str, *, id: int | None = None, **fields: Any) -> JSON:
        """Add a chat (`fields`: `member_ids`, `channel`, `public`, `personal`, ...)."""
        chat_id = self._new_id("chat", self.chats, id)
        now = self._now()
        chat: JSON = {
            "id": chat_id,
            "name": name,
            "created_at": now,
            "owner_id": self.bot_id,
            "member_ids": [self.bot_id],
            "group_tag_ids": [],
            "channel": False,
            "archived": False,
            "personal": False,
            "public": False,
            "last_message_at": now,
            "meet_room_url": f"https://meet.pachca.com/fake-{chat_id}",
        }
        chat.update(fields)
        self.chats[chat_id] = chat
        return chat

    def add_message(
        self,
        content: str,
        *,
        chat_id: int,
        user_id: int,
        id: int | None = None,
        **fields: Any,
    ) -> JSON:
        """Add a message someone wrote in a chat (created first if it does not exist yet).

        Pass the result to `message_event` for the webhook Pachca would send about it.
        """
        if chat_id not in self.chats:
            self.add_chat(f"chat {chat_id}", id=chat_id)
        return self._store_message(
            {"entity_id": chat_id, "content": content, **fields}, user_id=user_id, id=id
        )

    def message_event(self, message: Mapping[str, Any], event: str = "new") -> JSON:
        """The `message` webhook payload about `message`, stamped now."""
        return documents.message_event(
            message, event, webhook_timestamp=int(self._clock().timestamp())
        )

    def add_event(self, payload: Mapping[str, Any], *, created_at: str | None = None) -> JSON:
        """Record a webhook payload in the bot's event history (`GET /webhooks/events`)."""
        entry: JSON = {
            "id": f"fake-event-{self._new_id('event', {}, None)}",
            "event_type": f"{payload.get('type')}_{payload.get('event')}",
            "payload": dict(payload),
            "created_at": created_at or self._now(),
        }
        self.history.append(entry)
        return entry

    def add_file(self, content: bytes, *, name: str, file_type: str = "file") -> JSON:
        """Put a file in the storage; its attachment entry (`id`, `key`, `url`, ...) to seed a
        message with (`add_message(..., files=[...])`) or to download by id."""
        key = f"attaches/files/{self.bot_id}/{uuid.uuid4()}/{name}"
        self.objects[key] = content
        return self._files([{"key": key, "name": name, "file_type": file_type}])[0]

    def add_export(self, archive: bytes = b"PK\x05\x06" + bytes(18)) -> int:
        """A finished export whose archive is `archive` (an empty zip); its id."""
        export_id = self._new_id("export", {}, None)
        self.objects[f"exports/{export_id}.zip"] = archive
        return export_id

    def export_ready_event(self, export_id: int) -> JSON:
        """The (unsigned) callback Pachca posts to an export's `webhook_url` once it is ready."""
        return {
            "type": "export",
            "event": "ready",
            "export_id": export_id,
            "created_at": self._now(),
        }

    def view_submit_event(
        self,
        data: Mapping[str, Any],
        *,
        user_id: int,
        callback_id: str | None = None,
        private_metadata: str | None = None,
        chat_id: int | None = None,
        view_id: str | None = None,
    ) -> JSON:
        """A user sends a form: the `view`/`submit` payload, stamped now.

        The submission waits for its answer in `submissions[submit_id]["answer"]`: the HTTP
        answer to `deliver`ing it, or `views.submit_view_response` within `answer_expiry` seconds.
        """
        submit_id = str(uuid.uuid4())
        view_id = view_id or f"fake-view-{uuid.uuid4().hex[:12]}"
        self.submissions[submit_id] = {
            "view_id": view_id,
            "submit_id": submit_id,
            "user_id": user_id,
            "submitted_at": asyncio.get_running_loop().time(),
            "answer": None,
        }
        return {
            "type": "view",
            "event": "submit",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "chat_id": chat_id,
            "user_id": user_id,
            "view_id": view_id,
            "submit_id": submit_id,
            "data": dict(data),
            "webhook_timestamp": int(self._clock().timestamp()),
        }

    def calls_to(self, method: str, path: str) -> list[Any]:
        """The bodies of the requests that came to `method path`, in order."""
        return [c.body for c in self.calls if (c.method, c.path) == (method.upper(), path)]

    async def wait_for(self, method: str, path: str, count: int = 1) -> list[Any]:
        """Wait until `count` requests to `method path` have been answered; their bodies.

        For code that calls the API from elsewhere (a bot in another task or process). Bound
        the wait with `asyncio.timeout`.
        """
        async with self._arrived:
            await self._arrived.wait_for(lambda: len(self.calls_to(method, path)) >= count)
        return self.calls_to(method, path)

    def fail(self, method: str, path: str, *statuses: int, retry_after: float = 1) -> None:
        """Answer the next requests to `method path` with these error statuses, in order.

        A 429 carries `Retry-After: retry_after`; a 401 is an `OAuthError`, the rest `ApiError`s.
        """
        queue = self._failures.setdefault((method.upper(), path), collections.deque())
        queue.extend((status, retry_after) for status in statuses)

    def reply(self, method: str, path: str, *replies: Reply | Handler) -> None:
        """Answer requests to `method path` with `replies` instead of serving them (the token
        is not checked either: the script is the whole answer). Each request gets the next
        reply; the last keeps answering until `reply` is called again.

        A reply is a `Reply` (a status with JSON or raw bytes, headers, a delay, a dropped
        connection), or an aiohttp handler `async (web.Request) -> web.StreamResponse` for an
        answer that depends on the request (it reads the body itself, if at all). For what no
        Pachca sends on its own: an HTML 502 from a proxy, a malformed body, an answer that
        never comes, a storage that hangs up halfway. `calls` records them too.
        """
        self._replies[(method.upper(), path)] = collections.deque(replies)

    # -- Pachca's other side -------------------------------------------------------------------

    async def deliver(
        self,
        url: str,
        payload: Mapping[str, Any] | bytes,
        *,
        secret: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, str]:
        """POST a webhook delivery to a bot at `url`, as Pachca does; the answer's status and text.

        A payload is sent as JSON, bytes as they are; signed with `secret` (`Pachca-Signature`)
        when one is given. `headers` go on top (a signature of your own, say).
        A form submission's answer (400 with errors, or 200) is recorded in `submissions`.
        """
        body, sent = signed_delivery(payload, secret)
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.post(
            url, data=body, headers={**sent, **(headers or {})}
        ) as answer:
            status, text = answer.status, await answer.text()
        submit_id = payload.get("submit_id") if isinstance(payload, Mapping) else None
        submission = self.submissions.get(str(submit_id))
        if submission is not None and submission["answer"] is None:
            submission["answer"] = _verdict(status, text)
        return status, text

    # -- serving -------------------------------------------------------------------------------

    def _routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/oauth/token/info", self._token_info)
        router.add_post("/messages", self._create_message)
        router.add_get("/messages", self._list_messages)
        router.add_get("/messages/{id}", self._get_message)
        router.add_put("/messages/{id}", self._update_message)
        router.add_delete("/messages/{id}", self._delete_message)
        router.add_post("/messages/{id}/reactions", self._add_reaction)
        router.add_delete("/messages/{id}/reactions", self._remove_reaction)
        router.add_get("/messages/{id}/reactions", self._list_reactions)
        router.add_post("/messages/{id}/link_previews", self._unfurl)
        router.add_post("/chats", self._create_chat)
        router.add_get("/chats", self._list_chats)
        router.add_get("/chats/{id}", self._get_chat)
        router.add_post("/views/open", self._open_view)
        router.add_post("/uploads", self._upload_params)
        router.add_post("/storage", self._store)
        router.add_get("/webhooks/events", self._list_events)
        router.add_delete("/webhooks/events/{id}", self._delete_event)
        Routes(self).add(router)

    @web.middleware
    async def _serve(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Every request: record it, check the token, play scripted answers, answer errors."""
        arrived = asyncio.get_running_loop().time()
        route = (request.method, self._path(request))
        raw = b""
        scripted = self._replies.get(route)
        # A handler reads the body itself (it may stop halfway), and so does the storage route.
        if (scripted and isinstance(scripted[0], Reply)) or (
            not scripted and request.content_type != "multipart/form-data"
        ):
            try:
                raw = await request.read()
            except (ConnectionResetError, aiohttp.ClientPayloadError):
                return web.Response(status=400)  # the client gave up: no request to record
        reply = None
        response: web.StreamResponse | None
        try:
            reply = self._reply(route)  # first: a script plays Pachca whole, token check too
            if reply is not None:
                answer = reply.answer if isinstance(reply, Reply) else reply
                response = await answer(request)
            else:
                response = (
                    self._unauthorized(request)
                    or self._over_limit(request, raw)
                    or self._scripted(request)
                )
                response = response or await handler(request)
        except Refusal as refusal:
            response = refusal.response()
        except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
            response = Refusal(
                404, "path", f"FakePachca does not serve {request.method} {route[1]}"
            ).response()
        if reply is None:  # as Pachca does; a scripted reply is sent exactly as given
            response.headers.setdefault(REQUEST_ID_HEADER, str(uuid.uuid4()))
        elif not raw and request.content.is_eof():  # a handler that read the whole body
            raw = await request.read()
        self.calls.append(self._call(request, raw, response.status, arrived))
        async with self._arrived:
            self._arrived.notify_all()
        return response

    def _reply(self, route: tuple[str, str]) -> Reply | Handler | None:
        queue = self._replies.get(route)
        if not queue:
            return None
        return queue.popleft() if len(queue) > 1 else queue[0]

    def _call(self, request: web.Request, raw: bytes, status: int, arrived: float) -> Call:
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        peer = request.transport.get_extra_info("peername") if request.transport else None
        return Call(
            request.method, self._path(request), request.query, request.headers, body, status,
            arrived,
            raw=raw, raw_headers=b"\r\n".join(k + b": " + v for k, v in request.raw_headers),
            raw_path=request.raw_path.partition("?")[0],
            query_string=request.query_string, peer_port=peer[1] if peer else 0,
        )  # fmt: skip

    def _scripted(self, request: web.Request) -> web.Response | None:
        queue = self._failures.get((request.method, self._path(request)))
        if not queue:
            return None
        status, retry_after = queue.popleft()
        headers = {"Retry-After": f"{retry_after:g}"} if status == 429 else None
        return Refusal(status, "base", f"a scripted {status}").response(headers)

    def _path(self, request: web.Request) -> str:
        """The path of `request` below `base_path` (`/messages/5`)."""
        return request.path.removeprefix(self.base_path)

    def _to_storage(self, request: web.Request) -> bool:
        """Whether `request` goes to the storage, which takes no token and has no rate limit
        (the bare `base_path`, with no `/` after it, is a path too)."""
        return self._path(request).split("/")[1:2] == ["storage"]

    def _over_limit(self, request: web.Request, raw: bytes) -> web.Response | None:
        """A 429 for a call beyond its bucket (see `rate_limits`), or None to serve it."""
        path = self._path(request)
        if self._limits is None or self._to_storage(request):
            return None
        rate_class = rate_class_of(request.method, path)
        key: tuple[str, ...] = (request.headers.get("Authorization", ""),)
        if rate_class is RateClass.MESSAGE_WRITE:
            key += self._written_chat(request, raw)
        wait = self._limits.wait(rate_class, key, asyncio.get_running_loop().time())
        if not wait:
            return None
        refusal = Refusal(429, "base", "Too many requests", "rate_limit")
        return refusal.response({"Retry-After": retry_after(wait)})

    def _written_chat(self, request: web.Request, raw: bytes) -> tuple[str, str]:
        """Where a message write goes: the new message's entity, or the edited one's chat."""
        message_id = request.match_info.get("id")
        if message_id is None:
            try:
                fields = json.loads(raw)["message"]
                return str(fields.get("entity_type", "discussion")), str(fields["entity_id"])
            except (ValueError, TypeError, KeyError):
                return "", ""  # refused as a bad request once it is served
        message = self.messages.get(int(message_id)) if message_id.isdigit() else None
        if message is None:
            return "message", message_id
        return str(message["entity_type"]), str(message["entity_id"])

    def _unauthorized(self, request: web.Request) -> web.Response | None:
        if self._to_storage(request):
            return None
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or not token:
            return Refusal(401, "token", "Access token is missing").response()
        if self._token is not None and token != self._token:
            return Refusal(401, "token", "The access token is invalid").response()
        return None

    # -- routes: messages ----------------------------------------------------------------------

    async def _create_message(self, request: web.Request) -> web.Response:
        fields = await envelope(request, "message")
        require(fields, "message", entity_id=int, content=str)
        message = self._store_message(fields, user_id=self.bot_id)
        return data(message, status=201)

    async def _get_message(self, request: web.Request) -> web.Response:
        return data(self._message(request))

    async def _update_message(self, request: web.Request) -> web.Response:
        message = self._message(request)
        fields = await envelope(request, "message")
        editable = ("content", "buttons", "display_avatar_url", "display_name")
        message.update({name: fields[name] for name in editable if name in fields})
        if "files" in fields:
            message["files"] = self._files(fields["files"])
        message["changed_at"] = self._now()
        return data(message)

    async def _delete_message(self, request: web.Request) -> web.Response:
        message = self._message(request)
        del self.messages[message["id"]]
        self.reactions.pop(message["id"], None)
        return web.Response(status=204)

    async def _list_messages(self, request: web.Request) -> web.Response:
        chat_id = number(request.query.get("chat_id"), "chat_id")
        self._chat(chat_id)
        mine = [m for m in self.messages.values() if m["chat_id"] == chat_id]
        return page(request, mine, lambda m: (m["id"],), descending=descending_order(request))

    async def _add_reaction(self, request: web.Request) -> web.Response:
        message = self._message(request)
        fields = await json_object(request)
        require(fields, "", code=str)
        mine = self.reactions[message["id"]]
        for reaction in mine:
            if (reaction["user_id"], reaction["code"]) == (self.bot_id, fields["code"]):
                return web.json_response(reaction, status=201)  # set once, as in Pachca
        reaction = {
            "user_id": self.bot_id,
            "created_at": self._now(),
            "code": fields["code"],
            "name": fields.get("name") or fields["code"],
        }
        mine.append(reaction)
        return web.json_response(reaction, status=201)

    async def _remove_reaction(self, request: web.Request) -> web.Response:
        message = self._message(request)
        code = request.query.get("code")
        if not code:
            raise Refusal(400, "code", "code is required", "required")
        self.reactions[message["id"]] = [
            r
            for r in self.reactions[message["id"]]
            if (r["user_id"], r["code"]) != (self.bot_id, code)
        ]
        return web.Response(status=204)

    async def _list_reactions(self, request: web.Request) -> web.Response:
        message = self._message(request)
        reactions = self.reactions[message["id"]]
        return page(request, reactions, lambda r: (r["created_at"], r["user_id"], r["code"]), False)

    async def _unfurl(self, request: web.Request) -> web.Response:
        self._message(request)
        fields = await json_object(request)
        require(fields, "", link_previews=dict)
        return web.Response(status=204)

    # -- routes: chats and the rest ------------------------------------------------------------

    async def _create_chat(self, request: web.Request) -> web.Response:
        fields = await envelope(request, "chat")
        require(fields, "chat", name=str)
        extra = {k: v for k, v in fields.items() if k in ("member_ids", "channel", "public")}
        chat = self.add_chat(fields["name"], **extra)
        chat["member_ids"] = sorted({self.bot_id, *chat["member_ids"]})
        # The fake has no user directory: every requested member counts as found.
        meta: dict[str, list[int]] = {"not_found_member_ids": []}
        return web.json_response({"data": chat, "meta": meta}, status=201)

    async def _get_chat(self, request: web.Request) -> web.Response:
        return data(self._chat(number(request.match_info["id"], "id")))

    async def _list_chats(self, request: web.Request) -> web.Response:
        sort = request.query.get("sort", "id")
        if sort not in ("id", "last_message_at"):
            raise Refusal(400, "sort", f"cannot sort by {sort!r}", "inclusion", sort)
        return page(
            request,
            self.chats.values(),
            lambda chat: (chat[sort], chat["id"]),
            descending=descending_order(request),
        )

    async def _token_info(self, request: web.Request) -> web.Response:
        now = self._now()
        info = {
            "id": 1,
            "token": "fake…oken",
            "name": None,
            "user_id": self.bot_id,
            "scopes": ["messages:create", "messages:read", "reactions:write"],
            "created_at": now,
            "revoked_at": None,
            "expires_in": None,
            "last_used_at": now,
        }
        return data(info)

    async def _open_view(self, request: web.Request) -> web.Response:
        fields = await json_object(request)
        require(fields, "", trigger_id=str, view=dict)
        return web.Response(status=201)

    async def _upload_params(self, request: web.Request) -> web.Response:
        upload = self._new_id("upload", {}, None)
        key = f"attaches/files/{self.bot_id}/{upload}/${{filename}}"
        params = documents.upload_params(f"{self.base_url}/storage", key)
        return web.json_response(params, status=201)

    async def _store(self, request: web.Request) -> web.Response:
        key = ""
        async for part in await request.multipart():
            if isinstance(part, aiohttp.BodyPartReader) and part.name == "key":
                key = await part.text()
            elif isinstance(part, aiohttp.BodyPartReader) and part.name == "file":
                content = self.stored[part.filename or ""] = await part.read()
                self.objects[key.replace("${filename}", part.filename or "")] = content
        return web.Response(status=204)

    async def _list_events(self, request: web.Request) -> web.Response:
        return page(
            request,
            self.history,
            lambda entry: (entry.get("created_at", ""), entry.get("id", "")),
            descending=self.history_newest_first,
        )

    async def _delete_event(self, request: web.Request) -> web.Response:
        entry_id = request.match_info["id"]
        kept = [e for e in self.history if e.get("id") != entry_id]
        if len(kept) == len(self.history):
            raise Refusal(404, "id", f"no event {entry_id}", value=entry_id)
        self.history = kept
        self.deleted.append(entry_id)
        return web.Response(status=204)

    # -- state ---------------------------------------------------------------------------------

    def _now(self) -> str:
        return stamp(self._clock())

    def _new_id(self, kind: str, taken: Mapping[int, Any], wanted: int | None) -> int:
        new = wanted if wanted is not None else max(self._last_ids[kind], *taken, 0) + 1
        self._last_ids[kind] = max(self._last_ids[kind], new)
        return new

    def _chat(self, chat_id: int) -> JSON:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise Refusal(404, "id", f"no chat {chat_id}", value=chat_id)
        return chat

    def _message(self, request: web.Request) -> JSON:
        return by_id(request, self.messages, "message")

    def _chat_of(self, entity_type: str, entity_id: int) -> JSON:
        """Where a message to `entity_type` `entity_id` goes (a user's personal chat is opened)."""
        if entity_type not in ENTITY_TYPES:
            raise Refusal(400, "entity_type", f"unknown entity_type {entity_type!r}", "inclusion")
        if entity_type == "thread" and entity_id in self.threads:
            return self._chat(self.threads[entity_id]["chat_id"])
        if entity_type != "user":
            return self._chat(entity_id)
        members = sorted({self.bot_id, entity_id})
        for chat in self.chats.values():
            if chat["personal"] and sorted(chat["member_ids"]) == members:
                return chat
        return self.add_chat(f"user {entity_id}", personal=True, member_ids=members)

    def _store_message(
        self, fields: Mapping[str, Any], *, user_id: int, id: int | None = None
    ) -> JSON:
        entity_type = fields.get("entity_type", "discussion")
        chat = self._chat_of(entity_type, fields["entity_id"])
        message_id = self._new_id("message", self.messages, id)
        now = self._now()
        message = documents.message(
            message_id,
            entity_type=entity_type,
            entity_id=fields["entity_id"],
            chat_id=chat["id"],
            root_chat_id=chat["id"],
            content=fields["content"],
            user_id=user_id,
            created_at=now,
            url=f"https://app.pachca.com/chats/{chat['id']}?message={message_id}",
            files=self._files(fields.get("files") or []),
            buttons=fields.get("buttons") or [],
            thread=None,
            forwarding=None,
            parent_message_id=fields.get("parent_message_id"),
            display_avatar_url=fields.get("display_avatar_url"),
            display_name=fields.get("display_name"),
            changed_at=now,
        )
        self.messages[message_id] = message
        chat["last_message_at"] = now
        return message

    def _files(self, sent: Sequence[Mapping[str, Any]]) -> list[JSON]:
        """Attachments as Pachca lists them, each also kept in `files` (to download by id)."""
        for file in sent:
            require(file, "files[]", key=str, name=str)
        attached = [
            {
                "id": self._new_id("upload", {}, None),
                "key": file["key"],
                "name": file["name"],
                "file_type": file.get("file_type", "file"),
                "url": f"{self.base_url}/storage/{file['key']}",
                "width": file.get("width"),
                "height": file.get("height"),
            }
            for file in sent
        ]
        self.files.update((file["id"], file) for file in attached)
        return attached
