"""Outgoing webhooks from Pachca: verify a delivery, then read it as a typed event.

```python
from pachca_async.webhooks import MessageWebhookPayload, parse_webhook

update = parse_webhook(body, request.headers, secret)  # raises WebhookVerificationError
match update.payload:
    case MessageWebhookPayload(content=text, chat_id=chat):
        ...
```

Works with any web framework: `body` is the raw request body (bytes, before any JSON parsing)
and `headers` any mapping; header names are matched case-insensitively. The bot layer
(`pachca_async.bot`) builds on this module.

Payloads are told apart by (`type`, `event`). A combination this SDK does not know, or a known
one whose fields do not match its model, becomes an `UnknownWebhookPayload` that keeps the raw
object: a new kind of event from Pachca never crashes a bot.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import logging
import time
from collections.abc import Mapping
from typing import Any, TypeAlias

import attrs

from ._convert import loads, structure
from ._exceptions import InvalidRequestError, PachcaError
from ._generated.models import (
    ButtonWebhookPayload,
    ChatMemberWebhookPayload,
    CompanyMemberWebhookPayload,
    ExportWebhookPayload,
    LinkSharedWebhookPayload,
    MessageWebhookPayload,
    ReactionWebhookPayload,
    UnknownWebhookPayload,
    VideoCallWebhookPayload,
    ViewSubmitWebhookPayload,
    WebhookPayloadUnion,
)

logger = logging.getLogger("pachca_async.webhooks")

SIGNATURE_HEADER = "Pachca-Signature"
"""The header carrying the hex HMAC-SHA256 of the raw body, keyed with the bot's signing secret."""

DEFAULT_TOLERANCE = 60.0
"""How far `webhook_timestamp` may be from now, in seconds (Pachca recommends one minute)."""

PACHCA_IPS = ("37.200.70.177",)
"""The address Pachca documents for its webhook deliveries (for a sender-IP allowlist)."""

MAX_DEPTH = 64
"""How deep objects and arrays may nest in a delivery: Pachca's go a handful of levels deep;
far deeper ones are refused (`NOT_JSON`) before anything walks them recursively."""


ExportReadyPayload = ExportWebhookPayload
"""The name this SDK gave the export callback before the spec described it (same class)."""


WebhookPayload: TypeAlias = WebhookPayloadUnion | ExportWebhookPayload
"""Any payload a bot can receive (`UnknownWebhookPayload` for kinds this SDK does not know)."""

_PAYLOAD: Any = WebhookPayloadUnion
# Posted to the URL given with the export request, not to the bot's webhook: outside the union.
_EXTRA_KINDS: Mapping[tuple[str, str], type[Any]] = {("export", "ready"): ExportWebhookPayload}


@attrs.frozen(kw_only=True)
class Update:
    """One incoming event: a verified webhook delivery, or an entry of the bot's event history.

    `payload` is the typed event; handlers in `pachca_async.bot` receive it directly.
    """

    payload: WebhookPayload
    raw: Mapping[str, Any] = attrs.field(repr=False)
    """The JSON object as received."""
    history_id: str | None = None
    """The entry's id in the event history (`GET /webhooks/events`), when it was polled."""
    received_at: float | None = None
    """When the event reached the bot, on the event loop's clock (`loop.time()`); a polled event
    is dated back to when Pachca recorded it. Button `trigger_id`s expire 3 s after it."""

    @property
    def type(self) -> str:
        """The payload's `type` (`message`, `button`, ...), as sent."""
        return str(self.raw.get("type", ""))

    @property
    def event(self) -> str:
        """The payload's `event` (`new`, `click`, ...), as sent."""
        return str(self.raw.get("event", ""))


_FAR = 1e15
"""Seconds since 1970 past any time a delivery can carry (some 30 million years)."""


class Failure(enum.Enum):
    """Which check a delivery failed."""

    MISSING_SIGNATURE = "the Pachca-Signature header is missing"
    MALFORMED_SIGNATURE = "the Pachca-Signature header is not a hex SHA-256 digest"
    WRONG_SIGNATURE = "the signature does not match the body"
    NOT_JSON = "the body is not a JSON object"
    MISSING_TIMESTAMP = "the body has no numeric webhook_timestamp"
    STALE_TIMESTAMP = "webhook_timestamp is too old"
    FUTURE_TIMESTAMP = "webhook_timestamp is in the future"


class WebhookVerificationError(PachcaError):
    """A delivery failed verification; `failure` says which check. Never shows the secret."""

    def __init__(self, failure: Failure, detail: str = "") -> None:
        super().__init__(f"webhook rejected: {failure.value}{f' ({detail})' if detail else ''}")
        self.failure = failure


def signature(body: bytes, secret: str) -> str:
    """The `Pachca-Signature` value for `body`: what Pachca sends (handy for tests)."""
    if not secret:
        raise InvalidRequestError("the webhook signing secret is empty")
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secret: str) -> None:
    """Check a `Pachca-Signature` header value against the raw body, in constant time.

    Raises `WebhookVerificationError` when the header is missing, malformed or wrong.
    """
    if not header:
        raise WebhookVerificationError(Failure.MISSING_SIGNATURE)
    given = header.strip().lower()
    if len(given) != 64 or any(c not in "0123456789abcdef" for c in given):
        raise WebhookVerificationError(Failure.MALFORMED_SIGNATURE)
    if not hmac.compare_digest(given, signature(body, secret)):
        raise WebhookVerificationError(Failure.WRONG_SIGNATURE)


def check_timestamp(
    data: Mapping[str, Any], *, tolerance: float = DEFAULT_TOLERANCE, now: float | None = None
) -> None:
    """Check that `webhook_timestamp` is within `tolerance` seconds of `now` (wall clock)."""
    stamp = data.get("webhook_timestamp")
    if isinstance(stamp, bool) or not isinstance(stamp, int | float):
        raise WebhookVerificationError(Failure.MISSING_TIMESTAMP)
    if not -_FAR < stamp < _FAR:  # NaN, infinities, and integers no float can hold
        raise WebhookVerificationError(Failure.MISSING_TIMESTAMP, "not a usable time")
    skew = (time.time() if now is None else now) - stamp
    if skew > tolerance:
        raise WebhookVerificationError(Failure.STALE_TIMESTAMP, f"{skew:.0f} s old")
    if -skew > tolerance:
        raise WebhookVerificationError(Failure.FUTURE_TIMESTAMP, f"{-skew:.0f} s ahead")


def parse_webhook(
    body: bytes,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> Update:
    """Verify a webhook delivery and read it.

    Checks the signature of the raw `body`, then that `webhook_timestamp` is within
    `tolerance` seconds of `now` (wall-clock seconds, `time.time()` by default), then parses.
    Raises `WebhookVerificationError` naming the check that failed.
    """
    verify_signature(body, header_value(headers, SIGNATURE_HEADER), secret)
    data = load_object(body)
    check_timestamp(data, tolerance=tolerance, now=now)
    return Update(payload=parse_payload(data), raw=data)


def parse_update(body: bytes) -> Update:
    """Read a body without verifying it: for the unsigned export callback, or bodies you checked.

    Raises `WebhookVerificationError` (`NOT_JSON`) when the body is not a JSON object.
    """
    data = load_object(body)
    return Update(payload=parse_payload(data), raw=data)


def parse_payload(data: Mapping[str, Any]) -> WebhookPayload:
    """The typed payload for a JSON object, picked by (`type`, `event`); never raises."""
    kind = (str(data.get("type")), str(data.get("event")))
    try:
        extra = _EXTRA_KINDS.get(kind)
        if extra is not None:
            return structure(data, extra)  # type: ignore[no-any-return]
        return structure(data, _PAYLOAD)  # type: ignore[no-any-return]
    except Exception as error:  # a known kind with unexpected fields: keep it, raw
        logger.warning("%s/%s payload does not match its model (%r); kept as unknown", *kind, error)
        return UnknownWebhookPayload(
            type=str(data.get("type", "")), event=str(data.get("event", "")), raw=dict(data)
        )


def load_object(body: bytes) -> dict[str, Any]:
    """The JSON object in `body`, or `WebhookVerificationError` (`NOT_JSON`): also when it
    nests deeper than `MAX_DEPTH`."""
    try:
        data = loads(body)
    except ValueError:
        raise WebhookVerificationError(Failure.NOT_JSON) from None
    if not isinstance(data, dict):
        raise WebhookVerificationError(Failure.NOT_JSON, f"got {type(data).__name__}")
    if _too_deep(data):
        raise WebhookVerificationError(Failure.NOT_JSON, f"nested over {MAX_DEPTH} levels deep")
    return data


def _too_deep(data: dict[str, Any]) -> bool:
    """Whether containers in `data` nest over `MAX_DEPTH` levels (walked without recursion)."""
    level: list[Any] = [data]
    for _ in range(MAX_DEPTH):
        level = [
            child
            for value in level
            for child in (value.values() if isinstance(value, dict) else value)
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """A header by case-insensitive name, from any mapping (a plain dict works)."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


__all__ = [
    "DEFAULT_TOLERANCE",
    "MAX_DEPTH",
    "PACHCA_IPS",
    "SIGNATURE_HEADER",
    "ButtonWebhookPayload",
    "ChatMemberWebhookPayload",
    "CompanyMemberWebhookPayload",
    "ExportReadyPayload",
    "ExportWebhookPayload",
    "Failure",
    "LinkSharedWebhookPayload",
    "MessageWebhookPayload",
    "ReactionWebhookPayload",
    "UnknownWebhookPayload",
    "Update",
    "VideoCallWebhookPayload",
    "ViewSubmitWebhookPayload",
    "WebhookPayload",
    "WebhookVerificationError",
    "check_timestamp",
    "header_value",
    "load_object",
    "parse_payload",
    "parse_update",
    "parse_webhook",
    "signature",
    "verify_signature",
]
