"""How `FakePachca` reads requests and answers them in Pachca's shapes: JSON bodies and their
envelopes, `ApiError` and `OAuthError` answers, and cursor pagination."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import attrs
from aiohttp import web
from multidict import CIMultiDictProxy, MultiMapping

from . import documents

JSON = dict[str, Any]
Key = tuple[Any, ...]

MAX_LIMIT = 50
SEARCH_MAX_LIMIT = 200  # search calls take pages of up to 200 (openapi.yaml: `limit`)
_ERROR_CODES = {
    400: "invalid",
    403: "forbidden",
    404: "not_found",
    422: "invalid",
    429: "rate_limit",
}


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_NO_JSON: Any = object()


@attrs.frozen
class Call:
    """A request as it arrived, and the status it was answered with."""

    method: str
    path: str
    """The path under `base_url` (`/messages/5`); the file storage's is `/storage`."""
    query: MultiMapping[str]
    headers: CIMultiDictProxy[str]
    body: Any
    """The JSON body, or None (no body, not JSON, or an upload the storage took)."""
    status: int
    at: float
    """The event loop's clock when it arrived."""
    raw: bytes = b""
    """The body's bytes as sent (empty for an upload the storage took, see `stored`, and for
    a request a scripted handler answered without reading its body whole)."""
    raw_headers: bytes = b""
    """The header lines as sent (`Name: value`, CRLF between), names in the client's case."""
    raw_path: str = ""
    """The path as sent, percent-encoding kept."""
    query_string: str = ""
    """The query as sent, percent-encoding kept."""
    peer_port: int = 0
    """The client's port: the same port means the same (kept-alive) connection."""


@attrs.frozen
class Reply:
    """A scripted answer (see `FakePachca.reply`): a status with a JSON document, raw bytes
    or nothing, sent exactly as given (no `X-Request-Id` is added).

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

    async def answer(self, request: web.Request) -> web.StreamResponse:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.drop and request.transport is not None:
            request.transport.close()  # what is returned never reaches the client
        return self.response()

    def response(self) -> web.Response:
        """The answer as aiohttp sends it."""
        body, content_type = self.body, self.content_type or self.headers.get("Content-Type")
        if self.json is not _NO_JSON:
            body, content_type = json.dumps(self.json), content_type or "application/json"
        response = web.Response(status=self.status, headers=self.headers)
        if body is not None:
            response.body = body.encode() if isinstance(body, str) else body
            response.content_type = content_type or "application/octet-stream"
        return response


class Refusal(Exception):
    """An error answer in Pachca's shape, raised from a route."""

    def __init__(
        self, status: int, key: str, message: str, code: str | None = None, value: Any = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.key = key
        self.message = message
        self.code = code or _ERROR_CODES.get(status, "unhandled")
        self.value = value

    def response(self, headers: Mapping[str, str] | None = None) -> web.Response:
        if self.status == 401:
            body: JSON = {"error": "invalid_token", "error_description": self.message}
        else:
            body = documents.api_error(self.key, self.message, self.code, self.value)
        return web.json_response(body, status=self.status, headers=headers)


async def json_body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise Refusal(400, "body", "the body is not JSON") from None


async def json_object(request: web.Request) -> JSON:
    """The JSON object in the body (read again: `aiohttp` keeps the bytes), or `{}`."""
    body = await json_body(request)
    return body if isinstance(body, dict) else {}


async def envelope(request: web.Request, name: str) -> JSON:
    """The fields of an enveloped body (`{"message": {...}}`)."""
    inner = (await json_object(request)).get(name)
    if not isinstance(inner, dict):
        raise Refusal(400, name, f"the body needs a {name!r} object", "required")
    return inner


def require(fields: Mapping[str, Any], prefix: str, **types: type) -> None:
    for name, kind in types.items():
        key = f"{prefix}.{name}" if prefix else name
        value = fields.get(name)
        if value is None:
            raise Refusal(400, key, f"{key} is required", "blank")
        if not isinstance(value, kind) or isinstance(value, bool):
            raise Refusal(400, key, f"{key} must be {kind.__name__}", "invalid", value)


def number(text: str | None, name: str) -> int:
    if text is None:
        raise Refusal(400, name, f"{name} is required", "required")
    try:
        return int(text)
    except ValueError:
        raise Refusal(400, name, f"{name} must be a number", "invalid", text) from None


def by_id(request: web.Request, table: Mapping[int, JSON], kind: str) -> JSON:
    """The `kind` the path's `{id}` names in `table`, or Pachca's 404 naming it."""
    item_id = number(request.match_info["id"], "id")
    item = table.get(item_id)
    if item is None:
        raise Refusal(404, "id", f"no {kind} {item_id}", value=item_id)
    return item


def data(document: Any, *, status: int = 200) -> web.Response:
    return web.json_response({"data": document}, status=status)


def descending_order(request: web.Request) -> bool:
    order = request.query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise Refusal(400, "order", f"order is asc or desc, not {order!r}", "inclusion", order)
    return order == "desc"


def page(
    request: web.Request,
    items: Iterable[JSON],
    key: Callable[[JSON], Key],
    descending: bool,
) -> web.Response:
    """One page of `items` ordered by `key`, with `meta.paginate` as Pachca's list calls send.

    A cursor names the item a page ends at (`next_page`) or starts at (`prev_page`), not an
    offset, so items added or removed during a walk shift nothing, as in Pachca.
    """
    found, paginate = window(request, items, key, descending)
    return web.json_response(documents.page(found, **paginate))


def search_page(
    request: web.Request, items: Iterable[JSON], key: Callable[[JSON], Key], descending: bool
) -> web.Response:
    """One page of search results: `meta` has the `total` found and only a `next_page`."""
    everything = list(items)
    found, paginate = window(request, everything, key, descending, SEARCH_MAX_LIMIT)
    answer = documents.search_page(found, total=len(everything), next_page=paginate["next_page"])
    return web.json_response(answer)


def window(
    request: web.Request,
    items: Iterable[JSON],
    key: Callable[[JSON], Key],
    descending: bool,
    max_limit: int = MAX_LIMIT,
) -> tuple[list[JSON], JSON]:
    """The items of the page `request` asks for, and its `paginate` cursors (see `page`)."""
    limit = number(request.query.get("limit", str(max_limit)), "limit")
    if not 1 <= limit <= max_limit:
        raise Refusal(400, "limit", f"limit must be 1..{max_limit}", "invalid", limit)
    ordered = sorted(items, key=key, reverse=descending)
    keys = [key(item) for item in ordered]
    direction, mark = _readcursor(request.query.get("cursor"))

    def before(k: Key) -> bool:  # `k` comes earlier in the walk than the cursor's item
        return bool(k > mark if descending else k < mark)

    if direction == "next":
        start = 0 if mark is None else sum(before(k) or k == mark for k in keys)
        stop = min(start + limit, len(ordered))
    else:
        stop = len(ordered) if mark is None else sum(before(k) for k in keys)
        start = max(0, stop - limit)
    paginate = {
        "next_page": cursor("next", keys[stop - 1] if stop else None),
        "prev_page": cursor("prev", keys[start] if start < len(keys) else None),
        "has_next": stop < len(ordered),
        "has_prev": start > 0,
    }
    return ordered[start:stop], paginate


def cursor(direction: str, mark: Key | None) -> str:
    return base64.urlsafe_b64encode(json.dumps([direction, mark]).encode()).decode()


def _readcursor(cursor: str | None) -> tuple[str, Any]:
    """The direction and the item key a cursor holds (None: the edge a walk starts from)."""
    if cursor is None:
        return "next", None
    try:
        direction, mark = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if direction in ("next", "prev"):
            return direction, None if mark is None else tuple(mark)
    except (ValueError, TypeError, binascii.Error):
        pass
    raise Refusal(400, "cursor", f"unknown cursor {cursor!r}", "invalid", cursor)
