"""Transport-agnostic descriptions of API calls: what the generated code hands the session layer.

An `Operation` says everything the session layer needs to execute one call of the Pachca API
(method, path, how arguments go on the wire, what the answer decodes into, which rate limit it
counts against) and nothing about how: no I/O happens here.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Generic, Literal, TypeVar

import attrs

from ._types import UNSET

T_co = TypeVar("T_co", covariant=True)


class RateClass(enum.Enum):
    """Which of Pachca's rate limits a call counts against."""

    MESSAGE_WRITE = "message_write"
    """Sending, editing or deleting a message: limited per chat."""
    MESSAGE_READ = "message_read"
    """Reading messages: limited per token."""
    WEBHOOK_EVENTS = "webhook_events"
    """Polling the webhook event history."""
    OTHER = "other"
    """Every other call."""


class BodyKind(enum.Enum):
    JSON = "json"
    MULTIPART = "multipart"
    FORM = "form"


class ResultKind(enum.Enum):
    JSON = "json"
    """The body decodes into `Result.type` (inside `data` when `envelope`)."""
    NONE = "none"
    """No body (204): the call returns `None`."""
    LOCATION = "location"
    """A redirect: the call returns the `Location` URL, unfollowed."""
    BINARY = "binary"
    """The answer's bytes (a file), streamed; a redirect to the storage is followed without the
    token."""


@attrs.frozen
class Param:
    """A path or query parameter: `name` is the keyword, `wire_name` the name sent."""

    name: str
    location: Literal["path", "query"]
    required: bool = False
    wire_name: str = attrs.field()

    @wire_name.default
    def _wire_name(self) -> str:
        return self.name


@attrs.frozen
class BodyField:
    """A keyword argument that goes into the body at `path` (`("message", "content")`)."""

    name: str
    path: tuple[str, ...]
    required: bool = False
    default: Any = None
    """Sent when the caller leaves the field out: the only value a field may take."""


@attrs.frozen
class Body:
    """The request body: its kind, the request model `body=` accepts, and the keyword fields."""

    kind: BodyKind
    model: type[Any]
    fields: tuple[BodyField, ...]


@attrs.frozen
class Result:
    """What a successful answer decodes into."""

    kind: ResultKind
    type: Any = None
    envelope: bool = False
    """The value sits in `{"data": ...}`."""
    nullable: bool = False
    """A literal `null` body is a valid answer and decodes to `None`."""
    meta: Any = None
    """The type of `meta` for paginated answers."""


@attrs.frozen
class RateKeySource:
    """Which arguments name the chat a call counts against (from `codegen/overlay.yaml`)."""

    chat_id: str | None = None
    """The argument holding the chat's id."""
    chat_type: str | None = None
    """The argument holding the chat's kind; a discussion when the caller leaves it out."""
    message_id: str | None = None
    """The argument holding a message id, whose chat the rate limiter learnt from an answer."""


@attrs.frozen
class Operation(Generic[T_co]):
    """One call of the Pachca API; `T_co` is what awaiting it returns."""

    name: str
    """`service.method`, as exposed on the client."""
    operation_id: str
    method: str
    path: str
    result: Result
    success_status: int
    params: tuple[Param, ...] = ()
    body: Body | None = None
    pagination: Literal["list", "search"] | None = None
    rate_class: RateClass = RateClass.OTHER
    rate_key: RateKeySource | None = None
    """Where the chat of a per-chat rate limit comes from; `None`: the class's one bucket."""
    scope: str | None = None
    plan: str | None = None
    auth: bool = True
    url_param: str | None = None
    """The argument carrying an absolute URL to call instead of `path` (`direct_url`)."""
    headers: tuple[tuple[str, str], ...] = ()
    """Sent with every call (`Prefer: return=representation` asks for the result in the answer)."""

    def argument(self, arguments: Mapping[str, Any], name: str) -> Any:
        """The value of keyword `name`, or of that field of a `body=` request model; `UNSET`."""
        value = arguments.get(name, UNSET)
        body = arguments.get("body", UNSET)
        if value is not UNSET or body is UNSET or self.body is None:
            return value
        for field in self.body.fields:
            if field.name == name:
                for part in field.path:
                    value = getattr(body, part, getattr(body, part + "_", UNSET))
                    body = value
                return value
        return UNSET

    @property
    def service(self) -> str:
        return self.name.partition(".")[0]

    @property
    def method_name(self) -> str:
        return self.name.partition(".")[2]
