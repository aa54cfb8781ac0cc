"""The converter: `null` vs absent, lenient enums, union variants, JSON names, sending."""

from __future__ import annotations

import datetime
import sys
from typing import Any

import pytest

from pachca_async import (
    UNSET,
    PachcaClient,
    ResponseDecodeError,
    ServerError,
    ValidationError,
    _convert,
    _decode,
)
from pachca_async._convert import structure, unstructure
from pachca_async.models import (
    AuditDetailsChatRenamed,
    AuditDetailsEmpty,
    AuditDetailsLoginGrantDenied,
    AuditDetailsToken,
    AuditEvent,
    AuditEventKey,
    AuditLoginGrantDenyReason,
    AuditLoginGrantDevice,
    AuditLoginGrantDevicePlatform,
    Button,
    ButtonWebhookPayload,
    File,
    FileUploadRequest,
    Forwarding,
    LinkSharedWebhookPayload,
    Message,
    MessageCreateRequestMessage,
    MessageEntityType,
    MessageWebhookPayload,
    OpenViewRequest,
    OpenViewRequestView,
    ReactionWebhookPayload,
    UnknownAuditDetails,
    UnknownWebhookPayload,
    UploadParams,
    User,
    UserStatus,
    UserStatusAwayMessage,
    ViewBlockDivider,
    ViewBlockHeader,
    ViewBlockInput,
    ViewBlockSelect,
    ViewBlockUnion,
    VoiceContent,
    WebhookEvent,
    WebhookEventType,
    WebhookLink,
    WebhookMessageThread,
    WebhookPayloadUnion,
)
from pachca_async.testing import FakePachca, Reply, api_error, message, message_event, page
from tests.scripting import reply_json, status, user

UTC = datetime.UTC

# -- null, absent, present ---------------------------------------------------------------------


def test_message_nulls_and_values() -> None:
    bare = structure(message(voice_content=None, forwarding=None, thread=None), Message)
    assert (bare.voice_content, bare.forwarding, bare.thread) == (None, None, None)
    assert bare.display_name is UNSET  # absent: employees' messages leave it out
    voice = {"duration_ms": 1500, "waveform": "0,3,9", "transcript": None}
    full = structure(message(voice_content=voice, display_name=None), Message)
    assert full.voice_content == VoiceContent(duration_ms=1500, waveform="0,3,9", transcript=None)
    assert type(full.forwarding) is Forwarding
    assert full.display_name is None  # present as `null`


def test_user_status_null_or_model() -> None:
    assert structure(user(user_status=None), User).user_status is None
    found = structure(user(user_status=status()), User).user_status
    assert type(found) is UserStatus
    assert found.away_message == UserStatusAwayMessage(text="Back on Monday")


def message_webhook(**changes: Any) -> dict[str, Any]:
    """A `message` webhook about a thread's message, without `thread` (absent, not null)."""
    sent = message(5, entity_type="thread", entity_id=70, chat_id=1, content="hi")
    payload = message_event(sent)
    del payload["thread"]
    return {**payload, **changes}


@pytest.mark.parametrize(
    ("thread", "expected"),
    [
        (None, None),
        (
            {"message_id": 4, "message_chat_id": 1},
            WebhookMessageThread(message_id=4, message_chat_id=1),
        ),
    ],
)
def test_webhook_thread_null_or_model(thread: Any, expected: Any) -> None:
    payload = structure(message_webhook(thread=thread), WebhookPayloadUnion)
    assert type(payload) is MessageWebhookPayload
    assert payload.thread == expected
    assert structure(message_webhook(), WebhookPayloadUnion).thread is UNSET


# -- what Pachca may add tomorrow --------------------------------------------------------------


def test_unknown_enum_values_and_fields_are_accepted() -> None:
    document = message(entity_type="board", brand_new_field={"x": 1})
    document["files"][0]["file_type"] = "hologram"
    parsed = structure(document, Message)
    assert parsed.entity_type == "board"
    assert isinstance(parsed.entity_type, MessageEntityType)
    assert "board" not in [m.value for m in MessageEntityType]
    assert parsed.files[0].file_type == "hologram"
    assert structure(message(entity_type="user"), Message).entity_type is MessageEntityType.USER


async def test_unknown_values_survive_a_real_call(server: FakePachca, pachca: PachcaClient) -> None:
    reply_json(
        server, "GET", "/messages/5", {"data": message(5, entity_type="board", extra=[1, 2])}
    )
    assert (await pachca.messages.get_message(5)).entity_type == "board"


# -- unions ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "variant"),
    [
        (message_webhook(), MessageWebhookPayload),
        (message_webhook(event="delete"), MessageWebhookPayload),
        (
            {
                "type": "message",
                "event": "link_shared",
                "chat_id": 1,
                "message_id": 5,
                "links": [{"url": "https://a.example/x", "domain": "a.example", "skip": False}],
                "user_id": 12,
                "created_at": "2024-05-01T10:00:00.000Z",
                "webhook_timestamp": 1714557600,
            },
            LinkSharedWebhookPayload,
        ),
        (
            {
                "type": "reaction",
                "event": "new",
                "chat_id": None,
                "message_id": 5,
                "code": "👍",
                "name": ":+1:",
                "user_id": 12,
                "created_at": "2024-05-01T10:00:00.000Z",
                "webhook_timestamp": 1714557600,
            },
            ReactionWebhookPayload,
        ),
        (
            {
                "type": "button",
                "event": "click",
                "message_id": 5,
                "trigger_id": "t",
                "data": "ok",
                "user_id": 12,
                "chat_id": 1,
                "webhook_timestamp": 1714557600,
            },
            ButtonWebhookPayload,
        ),
    ],
)
def test_webhook_payload_picked_by_type_and_event(document: dict[str, Any], variant: type) -> None:
    assert type(structure(document, WebhookPayloadUnion)) is variant


def test_link_shared_is_not_mistaken_for_a_message() -> None:
    document = {
        "type": "message",
        "event": "link_shared",
        "chat_id": 1,
        "message_id": 5,
        "links": [{"url": "https://a.example/x", "domain": "a.example", "skip": True}],
        "user_id": 12,
        "created_at": "2024-05-01T10:00:00.000Z",
        "webhook_timestamp": 1714557600,
    }
    parsed = structure(document, WebhookPayloadUnion)
    assert type(parsed) is LinkSharedWebhookPayload
    assert parsed.links == [WebhookLink(url="https://a.example/x", domain="a.example", skip=True)]
    assert structure(message_webhook(), WebhookPayloadUnion).event is WebhookEventType.NEW


@pytest.mark.parametrize(
    "document",
    [
        {"type": "message", "event": "pinned", "id": 5},
        {"type": "poll", "event": "vote", "answers": [1, 2]},
        {"event": "new"},
    ],
)
def test_unknown_webhook_payload_keeps_raw(document: dict[str, Any]) -> None:
    parsed = structure(document, WebhookPayloadUnion)
    assert type(parsed) is UnknownWebhookPayload
    assert parsed.raw == document
    assert parsed.type == document.get("type", UNSET)
    assert parsed.event == document["event"]


async def test_webhook_events_parse_through_a_real_call(
    server: FakePachca, pachca: PachcaClient
) -> None:
    events = [
        {
            "id": "e1",
            "event_type": "message_new",
            "payload": message_webhook(),
            "created_at": "2024-05-01T10:00:00.000Z",
        },
        {
            "id": "e2",
            "event_type": "poll_vote",
            "payload": {"type": "poll", "event": "vote"},
            "created_at": "2024-05-01T10:00:01.000Z",
        },
    ]
    reply_json(server, "GET", "/webhooks/events", page(events, has_next=False))
    found = [e async for e in pachca.bots.get_webhook_events(limit=2)]
    assert [type(e) for e in found] == [WebhookEvent, WebhookEvent]
    assert [type(e.payload) for e in found] == [MessageWebhookPayload, UnknownWebhookPayload]


def test_view_blocks_picked_by_type() -> None:
    blocks = [
        {"type": "header", "text": "Leave"},
        {"type": "divider"},
        {"type": "input", "name": "why", "label": "Why?", "multiline": True},
        {"type": "select", "name": "kind", "label": "Kind", "options": []},
    ]
    parsed = structure(blocks, list[ViewBlockUnion])
    assert [type(b) for b in parsed] == [
        ViewBlockHeader,
        ViewBlockDivider,
        ViewBlockInput,
        ViewBlockSelect,
    ]
    assert unstructure(parsed) == blocks


def test_unknown_view_block_is_an_error_not_a_guess() -> None:
    with pytest.raises(ValueError, match="unknown variant"):
        structure([{"type": "carousel"}], list[ViewBlockUnion])


def audit_event(event_key: str, details: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "a1",
        "created_at": "2024-05-01T10:00:00.000Z",
        "event_key": event_key,
        "entity_id": "7",
        "entity_type": "Chat",
        "actor_id": "12",
        "actor_type": "User",
        "details": details,
        "ip_address": None,
        "user_agent": None,
    }


@pytest.mark.parametrize(
    ("event_key", "details", "expected"),
    [
        (
            "chat_renamed",
            {"old_name": "a", "new_name": "b"},
            AuditDetailsChatRenamed(old_name="a", new_name="b"),
        ),
        ("user_login", {}, AuditDetailsEmpty()),
        ("quantum_tunnel", {"qubits": 3}, UnknownAuditDetails(raw={"qubits": 3})),
        # Events described ahead of the published spec (pachca-sdk 1.6.1).
        (
            "login_grant_denied",
            {
                "login_grant_id": "g1",
                "device": {"name": "Pixel", "platform": "Android"},
                "reason": "verification_failed",
            },
            AuditDetailsLoginGrantDenied(
                login_grant_id="g1",
                device=AuditLoginGrantDevice(
                    name="Pixel", platform=AuditLoginGrantDevicePlatform.ANDROID
                ),
                reason=AuditLoginGrantDenyReason.VERIFICATION_FAILED,
            ),
        ),
        (
            "bot_token_created",
            {"token_kind": "bot", "resource_owner_id": 7, "scopes": ["messages:read"], "bot_id": 7},
            AuditDetailsToken(
                token_kind="bot", resource_owner_id=7, scopes=["messages:read"], bot_id=7
            ),
        ),
        ("company_bots_accessed", {}, AuditDetailsEmpty()),
    ],
)
def test_audit_details_picked_by_event_key(
    event_key: str, details: dict[str, Any], expected: Any
) -> None:
    parsed = structure(audit_event(event_key, details), AuditEvent)
    assert parsed.details == expected
    assert type(parsed.details) is type(expected)
    assert parsed.event_key == event_key
    assert isinstance(parsed.event_key, AuditEventKey)


# -- JSON names and what is sent ---------------------------------------------------------------

UPLOAD_PARAMS = {
    "Content-Disposition": "attachment",
    "acl": "private",
    "policy": "p",
    "x-amz-credential": "c",
    "x-amz-algorithm": "AWS4-HMAC-SHA256",
    "x-amz-date": "20240501T000000Z",
    "x-amz-signature": "s",
    "key": "k",
    "direct_url": "https://storage.example/upload",
}


def test_json_names_both_ways() -> None:
    params = structure(UPLOAD_PARAMS, UploadParams)
    assert (params.content_disposition, params.x_amz_signature) == ("attachment", "s")
    assert unstructure(params) == UPLOAD_PARAMS
    form = FileUploadRequest(
        content_disposition="attachment",
        acl="private",
        policy="p",
        x_amz_credential="c",
        x_amz_algorithm="AWS4-HMAC-SHA256",
        x_amz_date="d",
        x_amz_signature="s",
        key="k",
        file=b"data",
    )
    assert list(unstructure(form)) == [
        "Content-Disposition",
        "policy",
        "x-amz-credential",
        "x-amz-algorithm",
        "x-amz-date",
        "x-amz-signature",
        "key",
        "file",
        "acl",
    ]
    assert unstructure(ViewBlockHeader(text="t")) == {"type": "header", "text": "t"}
    unknown = structure({"type": "x", "event": "y"}, WebhookPayloadUnion)
    assert unstructure(unknown)["type"] == "x"


def test_unset_fields_are_omitted_and_none_is_sent() -> None:
    request = MessageCreateRequestMessage(entity_id=1, content="x")
    assert unstructure(request) == {"entity_id": 1, "content": "x"}
    bot_message = structure(message(display_name=None), Message)
    employee_message = structure(message(), Message)
    assert unstructure(bot_message)["display_name"] is None
    assert "display_name" not in unstructure(employee_message)
    assert unstructure(File(id=1, key="k", name="n", file_type="file", url="u")) == {  # type: ignore[arg-type]
        "id": 1,
        "key": "k",
        "name": "n",
        "file_type": "file",
        "url": "u",
    }


def test_nested_request_models_are_sent_whole() -> None:
    request = OpenViewRequest(
        trigger_id="t",
        view=OpenViewRequestView(title="T", blocks=[ViewBlockHeader(text="h")]),
    )
    assert unstructure(request) == {
        "type": "modal",
        "trigger_id": "t",
        "view": {"title": "T", "blocks": [{"type": "header", "text": "h"}]},
    }
    assert unstructure([[Button(text="a")]]) == [[{"text": "a"}]]


def test_datetimes_both_ways() -> None:
    parsed = structure(message(created_at="2024-05-01T13:00:00.000+03:00"), Message)
    assert parsed.created_at == datetime.datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert (
        unstructure(datetime.datetime(2024, 5, 1, 10, 0, tzinfo=UTC)) == "2024-05-01T10:00:00.000Z"
    )
    assert unstructure(datetime.date(2024, 5, 1)) == "2024-05-01"


# -- without orjson ----------------------------------------------------------------------------


async def test_stdlib_json_is_used_without_orjson(
    monkeypatch: pytest.MonkeyPatch, server: FakePachca, pachca: PachcaClient
) -> None:
    monkeypatch.setitem(sys.modules, "orjson", None)  # `import orjson` now fails
    fallback = _convert._json_loads()
    assert fallback is _convert.stdlib_loads
    monkeypatch.setattr(_convert, "loads", fallback)
    monkeypatch.setattr(_decode, "loads", fallback)

    reply_json(server, "GET", "/messages/5", {"data": message(5, content="Привет")})
    assert (await pachca.messages.get_message(5)).content == "Привет"
    reply_json(server, "POST", "/messages", api_error("content", "is blank", "blank"), status=422)
    with pytest.raises(ValidationError) as caught:
        await pachca.messages.create_message(entity_id=1, content="")
    assert caught.value.errors[0].key == "content"
    for body in (b"<html>", b"\xff\xfe\x00", b""):
        server.reply("GET", "/messages/6", Reply(200, body=body))
        with pytest.raises(ResponseDecodeError):
            await pachca.messages.get_message(6)


async def test_json_nested_past_the_stack_is_bad_json_without_orjson(
    monkeypatch: pytest.MonkeyPatch, server: FakePachca, pachca: PachcaClient
) -> None:
    monkeypatch.setattr(_decode, "loads", _convert.stdlib_loads)
    deep = b"[" * 100_000 + b"]" * 100_000
    server.reply("GET", "/messages/5", Reply(200, body=deep))
    with pytest.raises(ResponseDecodeError, match="the body is not JSON"):
        await pachca.messages.get_message(5)
    server.reply("GET", "/messages/6", Reply(500, body=deep))
    with pytest.raises(ServerError, match="undecodable body"):
        await pachca.messages.get_message(6)


def test_a_presence_discriminator_picks_the_variant_by_the_keys_an_object_has() -> None:
    """Unions whose variants share no value to tell them by go by required keys (codegen)."""
    from pachca_async._types import Discriminator

    rule = Discriminator(
        keys=("old_name",),
        variants={("1",): AuditDetailsChatRenamed, ("0",): AuditDetailsEmpty},
        presence=True,
    )
    pick = _convert.converter._discriminated_hook(rule)
    renamed = pick({"old_name": "a", "new_name": "b"}, None)
    assert isinstance(renamed, AuditDetailsChatRenamed)
    assert isinstance(pick({}, None), AuditDetailsEmpty)
