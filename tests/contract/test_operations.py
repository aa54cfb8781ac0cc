"""The contract run: every operation, called through `PachcaClient`, against Prism.

Prism rejects any request that breaks openapi.yaml (path, query, headers, body), and with
`--errors` it also refuses to send a response of its own that breaks it. So each call
passing here proves that the SDK sends what the spec asks for, and that the answer the spec
describes parses into the typed result, all the way down, field by field.
"""

from __future__ import annotations

import datetime
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, Union, get_args, get_origin
from urllib.parse import urlsplit

import attrs
import pytest

from pachca_async import APIStatusError, InputFile, PachcaClient, Request, Response, Unset
from pachca_async._generated.services import OPERATIONS
from pachca_async._middleware import Handler, Middleware
from pachca_async._operation import Operation, ResultKind
from pachca_async._pagination import Page
from pachca_async.models import (
    Button,
    DraftRepetitionRequest,
    DraftScheduleRequest,
    FileType,
    LinkPreview,
    LinkPreviewImage,
    MessageCreateRequestMessageFilesItem,
    MessageUpdateRequestMessageFilesItem,
    OpenViewRequestView,
    TaskCreateRequestTaskCustomPropertiesItem,
    TaskUpdateRequestTaskCustomPropertiesItem,
    UserCreateRequestUserCustomPropertiesItem,
    UserUpdateRequestUserCustomPropertiesItem,
    ViewBlockHeader,
    ViewBlockInput,
)

from .test_binary_and_forms import COVERED_HERE

TOKEN = "contract-test-token"
SINCE = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
UNTIL = datetime.datetime(2025, 2, 1, 12, 30, tzinfo=datetime.UTC)
PNG = InputFile(b"\x89PNG\r\n\x1a\n contract", name="avatar.png", content_type="image/png")

# Valid arguments for every operation, by `service.method`. Optional arguments are included
# where they exercise an encoding: enums, booleans, dates, arrays, nested request models.
# An operation with `url_param` (`files.upload_file`) also gets Prism's absolute URL for it.
ARGUMENTS: Mapping[str, Mapping[str, Any]] = {
    "bots.create_bot": {
        "name": "Deploy bot",
        "nickname": "deploy_bot",
        "outgoing_url": "https://example.com/hooks/deploy",
        "events": ["message_new", "button_click"],
        "trigger_on": "commands",
        "commands": ["/deploy"],
        "template_engine": "liquid",
        "link_preview_enabled": False,
        "who_can_add": "creator_admin",
        "can_edit": ["admin"],
    },
    "bots.delete_bot": {"id": 7},
    "bots.delete_webhook_event": {"id": "01JQ6V3WJ7Y9J4AX2K5T8S0C1D"},
    "bots.get_bot": {"id": 7},
    "bots.get_webhook_events": {"limit": 20, "cursor": "eyJpZCI6MX0"},
    "bots.list_bots": {"query": "deploy", "limit": 10},
    "bots.recreate_bot_token": {"id": 7},
    "bots.self_recreate_bot_token": {},
    "bots.self_update_bot_webhook": {"outgoing_url": "https://example.com/hooks/self"},
    "bots.update_bot": {"id": 7, "name": "Deploy bot 2", "ignore_self_messages": True},
    "chats.archive_chat": {"id": 198},
    "chats.create_chat": {"name": "Releases", "member_ids": [12, 185], "channel": True},
    "chats.download_export": {"id": 22},
    "chats.get_chat": {"id": 198},
    "chats.list_chats": {
        "sort": "last_message_at",
        "order": "asc",
        "availability": "public",
        "archived": False,
        "last_message_at_after": SINCE,
        "last_message_at_before": UNTIL,
        "personal": True,
        "limit": 50,
    },
    "chats.request_export": {
        "start_at": datetime.date(2025, 1, 1),
        "end_at": datetime.date(2025, 1, 31),
        "webhook_url": "https://example.com/hooks/export",
        "chat_ids": [198, 334],
        "skip_chats_file": True,
    },
    "chats.unarchive_chat": {"id": 198},
    "chats.update_chat": {"id": 198, "name": "Releases 2", "public": False},
    "custom_properties.list_properties": {"entity_type": "User"},
    "files.get_upload_params": {},
    "files.upload_file": {
        "content_disposition": 'attachment; filename="report.txt"',
        "acl": "private",
        "policy": "eyJleHBpcmF0aW9uIjoiMjAyNS0wMS0wMVQwMDowMDowMFoifQ==",
        "x_amz_credential": "AKIA/20250101/ru-central1/s3/aws4_request",
        "x_amz_algorithm": "AWS4-HMAC-SHA256",
        "x_amz_date": "20250101T000000Z",
        "x_amz_signature": "0123456789abcdef",
        "key": "attaches/files/93746/${filename}",
        "file": InputFile(b"quarterly numbers\n", name="report.txt"),
    },
    "group_tags.create_tag": {"name": "Design"},
    "group_tags.delete_tag": {"id": 9},
    "group_tags.get_tag": {"id": 9},
    "group_tags.get_tag_users": {"id": 9, "limit": 25},
    "group_tags.list_tags": {"names": ["Design", "Product"], "limit": 1},
    "group_tags.update_tag": {"id": 9, "name": "Product design"},
    "members.add_members": {"id": 198, "member_ids": [12, 185], "silent": True},
    "members.add_tags": {"id": 198, "group_tag_ids": [9, 10]},
    "members.leave_chat": {"id": 198},
    "members.list_members": {"id": 198, "role": "admin", "limit": 30},
    "members.remove_member": {"id": 198, "user_id": 12},
    "members.remove_tag": {"id": 198, "tag_id": 9},
    "members.update_member_role": {"id": 198, "user_id": 12, "role": "editor"},
    "messages.create_message": {
        "entity_type": "discussion",
        "entity_id": 198,
        "content": "Release 1.4 is out",
        "files": [
            MessageCreateRequestMessageFilesItem(
                key="attaches/files/93746/notes.txt",
                name="notes.txt",
                file_type=FileType.FILE,
                size=18,
            )
        ],
        "buttons": [[Button(text="Changelog", url="https://example.com/changelog")]],
        "skip_invite_mentions": True,
        "link_preview": False,
    },
    "messages.delete_message": {"id": 194275},
    "messages.get_message": {"id": 194275},
    "messages.list_chat_messages": {"chat_id": 198, "sort": "id", "order": "asc", "limit": 50},
    "messages.pin_message": {"id": 194275},
    "messages.unfurl": {
        "id": 194275,
        "link_previews": {
            "https://example.com/changelog": LinkPreview(
                title="Changelog",
                description="What changed in 1.4",
                image=LinkPreviewImage(key="attaches/files/93746/cover.png", name="cover.png"),
            )
        },
    },
    "messages.unpin_message": {"id": 194275},
    "messages.update_message": {
        "id": 194275,
        "content": "Release 1.4.1 is out",
        "files": [MessageUpdateRequestMessageFilesItem(key="attaches/a.txt", name="a.txt")],
        "buttons": [],
    },
    "oauth.get_token_info": {},
    "profile.delete_profile_avatar": {},
    "profile.delete_status": {},
    "profile.get_profile": {},
    "profile.get_status": {},
    "profile.update_profile_avatar": {"image": PNG},
    "profile.update_status": {
        "emoji": "🎮",
        "title": "Playing",
        "expires_at": UNTIL,
        "is_away": True,
        "away_message": "Back on Monday",
    },
    "reactions.add_reaction": {"id": 194275, "code": "👍", "name": ":+1:"},
    "reactions.list_reactions": {"id": 194275, "limit": 50},
    "reactions.remove_reaction": {"id": 194275, "code": "👍"},
    "read_members.list_read_members": {"id": 194275, "limit": 300},
    "search.search_chats": {
        "query": "release",
        "limit": 10,
        "order": "desc",
        "created_from": SINCE,
        "created_to": UNTIL,
        "active": True,
        "chat_subtype": "discussion",
        "personal": False,
    },
    "search.search_messages": {
        "query": "release",
        "limit": 10,
        "order": "desc",
        "sort": "created_at",
        "created_from": SINCE,
        "created_to": UNTIL,
        "chat_ids": [198, 334],
        "user_ids": [12, 185],
        "active": True,
    },
    "search.search_users": {
        "query": "Oleg",
        "limit": 10,
        "sort": "by_score",
        "order": "desc",
        "created_from": SINCE,
        "created_to": UNTIL,
        "company_roles": ["admin", "user"],
    },
    "security.get_audit_events": {
        "start_time": SINCE,
        "end_time": UNTIL,
        "event_key": "user_login",
        "actor_id": "12",
        "actor_type": "User",
        "limit": 50,
    },
    "tasks.create_task": {
        "kind": "reminder",
        "content": "Send the release notes",
        "due_at": UNTIL,
        "priority": 2,
        "performer_ids": [12],
        "chat_id": 198,
        "all_day": False,
        "custom_properties": [TaskCreateRequestTaskCustomPropertiesItem(id=78, value="Moscow")],
    },
    "tasks.delete_task": {"id": 22},
    "tasks.get_task": {"id": 22},
    "tasks.list_tasks": {"limit": 50},
    "tasks.update_task": {
        "id": 22,
        "status": "done",
        "done_at": UNTIL,
        "custom_properties": [TaskUpdateRequestTaskCustomPropertiesItem(id=78, value="Kazan")],
    },
    "threads.create_standalone_thread": {},
    "threads.create_thread": {"id": 194275},
    "threads.get_thread": {"id": 265142},
    "threads.list_threads": {
        "last_message_at_after": SINCE,
        "last_message_at_before": UNTIL,
        "limit": 50,
    },
    "users.create_user": {
        "first_name": "Oleg",
        "last_name": "Petrov",
        "email": "olegp@example.com",
        "nickname": "olegpetrov",
        "role": "user",
        "list_tags": ["Product"],
        "chat_ids": [198],
        "custom_properties": [UserCreateRequestUserCustomPropertiesItem(id=78, value="Moscow")],
        "skip_email_notify": True,
    },
    "users.delete_user": {"id": 12},
    "users.delete_user_avatar": {"user_id": 12},
    "users.delete_user_status": {"user_id": 12},
    "users.get_user": {"id": 12},
    "users.get_user_status": {"user_id": 12},
    "users.list_users": {"query": "Oleg", "limit": 50},
    "users.update_user": {
        "id": 12,
        "department": "Design",
        "suspended": False,
        "custom_properties": [UserUpdateRequestUserCustomPropertiesItem(id=78, value="Kazan")],
    },
    "users.update_user_avatar": {"user_id": 12, "image": PNG},
    "users.update_user_status": {"user_id": 12, "emoji": "🌴", "title": "On leave"},
    "views.open_view": {
        "type": "modal",
        "trigger_id": "791a056b-006c-49dd-834b-c633fde52fe8",
        "callback_id": "vacation",
        "view": OpenViewRequestView(
            title="Vacation request",
            blocks=[
                ViewBlockHeader(text="Dates"),
                ViewBlockInput(name="comment", label="Comment", multiline=True),
            ],
        ),
    },
    # Operations described ahead of the published spec (x-sdk-ahead).
    "bots.create_bot_token": {"id": 7, "name": "CI", "scopes": ["messages:create"]},
    "bots.delete_bot_avatar": {"id": 7},
    "bots.delete_bot_token": {"id": 7, "token_id": 4827},
    "bots.get_bot_scopes": {"id": 7},
    "bots.list_bot_tokens": {"id": 7, "limit": 10},
    "bots.list_company_bots": {"query": "deploy", "limit": 10},
    "bots.reissue_bot_token": {"id": 7, "token_id": 4827},
    "bots.rotate_bot_client_secret": {"id": 7},
    "bots.update_bot_avatar": {"id": 7, "image": PNG},
    "bots.update_bot_token": {"id": 7, "token_id": 4827, "name": "CI 2"},
    "chats.delete_chat_avatar": {"id": 198},
    "chats.list_company_chats": {"activity": "archived", "limit": 10},
    "chats.mark_chat_unread": {"id": 198, "message_id": 1194275},
    "chats.update_chat_avatar": {"id": 198, "image": PNG},
    "drafts.create_draft": {
        "entity_type": "discussion",
        "entity_id": 334,
        "content": "Weekly report",
        "schedule": DraftScheduleRequest(
            start_date=UNTIL,
            repetition=DraftRepetitionRequest(interval="weekly", days=[1, 3]),
        ),
    },
    "drafts.delete_draft": {"id": 5},
    "drafts.get_draft": {"id": 5},
    "drafts.list_drafts": {"type": "scheduled", "entity_type": "discussion", "entity_id": 334},
    "drafts.update_draft": {"id": 5, "content": "Weekly report, v2"},
    "oauth.exchange_token": {
        "code": "ZmFrZV9hdXRoX2NvZGU",
        "redirect_uri": "https://bot.example.com/oauth/callback",
        "client_id": "client",
        "code_verifier": "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    },
    "oauth.revoke_token": {"token": "old-token", "token_type_hint": "access_token"},
}


def test_every_operation_has_arguments() -> None:
    """A new operation in openapi.yaml cannot skip the contract run."""
    assert sorted(ARGUMENTS) == sorted(set(OPERATIONS) - COVERED_HERE)
    assert len(ARGUMENTS) == 98


@pytest.mark.parametrize("name", sorted(set(OPERATIONS) - COVERED_HERE))
async def test_operation(name: str, prism_url: str, spec: dict[str, Any]) -> None:
    operation = OPERATIONS[name]
    described = spec["paths"][operation.path][operation.method.lower()]
    arguments = dict(ARGUMENTS[name])
    if operation.url_param is not None:
        arguments[operation.url_param] = prism_url + operation.path
    sent: list[tuple[Request, Response]] = []

    async def record(request: Request, call_next: Handler) -> Response:
        response = await call_next(request)
        sent.append((request, response))
        return response

    async with PachcaClient(
        TOKEN,
        base_url=prism_url,
        max_retries=0,
        middlewares=[record, _query_for_prism(spec, described)],
    ) as pachca:
        method = getattr(getattr(pachca, operation.service), operation.method_name)
        try:
            result = await method(**arguments)
        except APIStatusError as error:
            pytest.fail(f"Prism refused {name}: {error}\n{_violations(error.headers)}")

    [(request, response)] = sent
    assert response.status == operation.success_status
    if described.get("x-requirements", {}).get("auth") is False or described.get("security") == []:
        assert "authorization" not in {key.lower() for key in request.headers}
    _check_result(operation, result)


async def test_prism_validates_requests(prism_url: str) -> None:
    """The run above proves something only if Prism really refuses a request off the spec."""
    async with PachcaClient(TOKEN, base_url=prism_url, max_retries=0) as pachca:
        with pytest.raises(APIStatusError) as caught:
            await pachca.chats.list_chats(limit=51)  # the spec allows 1..50
    assert 400 <= caught.value.status < 500
    assert "limit" in _violations(caught.value.headers)


def _query_for_prism(spec: dict[str, Any], described: Mapping[str, Any]) -> Middleware:
    """Check each query key the SDK sends, and hand Prism array parameters in the spec's form.

    The live API reads arrays the Rails way, `chat_ids[]=1&chat_ids[]=2` (as Pachca's docs
    show), and the SDK sends them so. The spec cannot name that form and says `chat_ids`,
    comma-separated (`explode: false`). Prism skips query keys it does not know, so it would
    let `chat_ids[]=oops` through unchecked; nor can the copy it serves be renamed to
    `chat_ids[]`: Prism percent-encodes brackets in parameter names and then never matches
    them. So the key is checked here (declared, and `name[]` exactly for arrays), and the
    values go to Prism in the spec's own form, for Prism to check them.
    """
    declared = {p["name"]: p for p in described.get("parameters", []) if p["in"] == "query"}

    async def translate(request: Request, call_next: Handler) -> Response:
        values: dict[str, list[str]] = {}
        for key, value in request.params:
            name = key.removesuffix("[]")
            assert name in declared, f"the spec has no query parameter {key!r}"
            wire = f"{name}[]" if _is_array(spec, declared[name]["schema"]) else name
            assert key == wire, f"the API reads {wire!r}, the SDK sent {key!r}"
            values.setdefault(name, []).append(value)
        params: list[tuple[str, str]] = []
        for name, items in values.items():
            if declared[name].get("explode", True):
                params.extend((name, item) for item in items)
            else:
                assert not any("," in item for item in items), f"{name}: a comma in {items}"
                params.append((name, ",".join(items)))
        return await call_next(attrs.evolve(request, params=tuple(params)))

    return translate


def _is_array(spec: dict[str, Any], schema: Mapping[str, Any]) -> bool:
    ref = schema.get("$ref", "")
    if ref:
        schema = spec["components"]["schemas"][ref.rpartition("/")[2]]
    return schema.get("type") == "array"


def _violations(headers: Mapping[str, str]) -> str:
    """What Prism found wrong with the request: it lists the violations in a header."""
    return headers.get("sl-violations", "(Prism listed no violations)")


def _check_result(operation: Operation[Any], result: Any) -> None:
    kind = operation.result.kind
    if kind is ResultKind.NONE:
        assert result is None
    elif kind is ResultKind.LOCATION:
        assert isinstance(result, str)
        assert urlsplit(result).scheme in ("http", "https"), result
    elif operation.pagination is not None:
        assert isinstance(result, Page)
        assert result.items, "Prism sends one example item; it should have parsed"
        _check_type(result.items, operation.result.type, "data")
        _check_type(result.meta, operation.result.meta, "meta")
    else:
        expected = operation.result.type
        _check_type(result, expected | None if operation.result.nullable else expected, "data")


def _check_type(value: Any, expected: Any, where: str) -> None:
    """Fail unless `value` is of type `expected`, checking every field of models deeply."""
    if get_origin(expected) in (Union, types.UnionType):
        members = [m for m in get_args(expected) if _is_shallowly(value, m)]
        assert members, f"{where}: {value!r:.200} is none of {expected}"
        expected = members[0]
    assert _is_shallowly(value, expected), f"{where}: {value!r:.200} is not {expected}"
    origin, args = get_origin(expected), get_args(expected)
    if origin is list:
        for index, item in enumerate(value):
            _check_type(item, args[0], f"{where}[{index}]")
    elif origin is dict:
        for key, item in value.items():
            _check_type(key, args[0], f"{where} key")
            _check_type(item, args[1], f"{where}[{key!r}]")
    elif attrs.has(expected):
        for field, field_type in typing.get_type_hints(expected).items():
            _check_type(getattr(value, field), field_type, f"{where}.{field}")


def _is_shallowly(value: Any, expected: Any) -> bool:
    """`isinstance`, for the kinds of types the generated models use; not looking inside."""
    origin = get_origin(expected)
    if expected is Any:
        return True
    if origin is Literal:
        return value in get_args(expected)
    if origin in (list, dict):
        return isinstance(value, origin)
    if expected is type(None):
        return value is None
    if expected in (int, float):  # JSON has no int/float split, but `True` is no number
        return isinstance(value, int | expected) and not isinstance(value, bool)
    if expected is Unset:
        return isinstance(value, Unset)
    return isinstance(value, expected)
