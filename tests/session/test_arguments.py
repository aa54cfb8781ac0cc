"""How arguments reach the wire: path, query, body, headers, as the server receives them."""

from __future__ import annotations

import copy
import datetime
from urllib.parse import parse_qsl

import pytest

from pachca_async import InvalidRequestError, PachcaClient, __version__
from pachca_async.models import (
    Button,
    ChatSortField,
    MessageCreateRequest,
    MessageCreateRequestMessage,
    OpenViewRequestView,
    SortOrder,
    ViewBlockHeader,
    ViewBlockInput,
)
from pachca_async.testing import FakePachca, Reply, message, page, search_page
from tests.scripting import TOKEN, chat, count, reply_json, user
from tests.session.conftest import NO_RETRIES

UTC = datetime.UTC
MOSCOW = datetime.timezone(datetime.timedelta(hours=3))


def pairs(query_string: str) -> list[tuple[str, str]]:
    """The query as decoded (name, value) pairs, in the order sent."""
    return parse_qsl(query_string, keep_blank_values=True, strict_parsing=True)


# -- path parameters ---------------------------------------------------------------------------


async def test_path_parameter_positional_or_keyword(
    server: FakePachca, pachca: PachcaClient
) -> None:
    reply_json(server, "GET", "/messages/5", {"data": message(5)})
    by_position = await pachca.messages.get_message(5)
    by_name = await pachca.messages.get_message(id=5)
    assert by_position == by_name
    assert [r.path for r in server.calls] == ["/messages/5", "/messages/5"]


async def test_path_parameter_is_percent_encoded(server: FakePachca, pachca: PachcaClient) -> None:
    server.reply("DELETE", "/webhooks/events/a/b c", Reply(204))
    await pachca.bots.delete_webhook_event("a/b c")
    assert server.calls[-1].raw_path == "/api/shared/v1/webhooks/events/a%2Fb%20c"


@pytest.mark.parametrize("value", [None, ""])
async def test_empty_path_parameter_is_refused_before_sending(
    server: FakePachca, pachca: PachcaClient, value: object
) -> None:
    with pytest.raises(InvalidRequestError, match=r"messages\.get_message: `id` is required"):
        await pachca.messages.get_message(value)  # type: ignore[arg-type]
    assert server.calls == []


# -- query parameters --------------------------------------------------------------------------


async def test_query_booleans_enums_and_datetimes(server: FakePachca, pachca: PachcaClient) -> None:
    reply_json(server, "GET", "/chats", page([], has_next=False))
    await pachca.chats.list_chats(
        sort=ChatSortField.LAST_MESSAGE_AT,
        order=SortOrder.ASC,
        availability="public",
        archived=True,
        personal=False,
        last_message_at_after=datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        last_message_at_before=datetime.datetime(2024, 6, 1, 12, 0, tzinfo=MOSCOW),
        limit=50,
    )
    assert pairs(server.calls[-1].query_string) == [
        ("sort", "last_message_at"),
        ("order", "asc"),
        ("availability", "public"),
        ("archived", "true"),
        ("last_message_at_after", "2024-01-02T03:04:05.000Z"),
        # the offset's `+` must arrive as `+`, not as a space
        ("last_message_at_before", "2024-06-01T12:00:00+03:00"),
        ("personal", "false"),
        ("limit", "50"),
    ]


async def test_rails_style_arrays(server: FakePachca, pachca: PachcaClient) -> None:
    reply_json(server, "GET", "/search/messages", search_page([], total=0))
    await pachca.search.search_messages(query="report", chat_ids=[1, 2], user_ids=(30,))
    assert pairs(server.calls[-1].query_string) == [
        ("query", "report"),
        ("chat_ids[]", "1"),
        ("chat_ids[]", "2"),
        ("user_ids[]", "30"),
    ]
    assert server.calls[-1].query.getall("chat_ids[]") == ["1", "2"]


async def test_unset_and_none_query_parameters_are_left_out(
    server: FakePachca, pachca: PachcaClient
) -> None:
    reply_json(server, "GET", "/messages", page([], has_next=False))
    await pachca.messages.list_chat_messages(chat_id=198, sort=None)  # type: ignore[arg-type]
    assert pairs(server.calls[-1].query_string) == [("chat_id", "198")]


async def test_missing_required_query_parameter(server: FakePachca, pachca: PachcaClient) -> None:
    with pytest.raises(InvalidRequestError, match="`chat_id` is required"):
        await pachca.messages.list_chat_messages(chat_id=None)  # type: ignore[arg-type]
    assert server.calls == []


def test_query_parameters_are_keyword_only() -> None:
    pachca = PachcaClient(TOKEN, base_url="http://127.0.0.1:9")  # no session until a request
    with pytest.raises(TypeError):
        pachca.chats.list_chats("id")  # type: ignore[misc]


# -- bodies ------------------------------------------------------------------------------------


async def test_envelope_body_from_keywords(server: FakePachca, pachca: PachcaClient) -> None:
    reply_json(server, "POST", "/messages", {"data": message(9)}, status=201)
    await pachca.messages.create_message(
        entity_id=198, content="Hello", parent_message_id=4, link_preview=True
    )
    request = server.calls[-1]
    assert request.body == {
        "message": {"entity_id": 198, "content": "Hello", "parent_message_id": 4},
        "link_preview": True,
    }
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"


async def test_nested_models_and_non_ascii_in_body(
    server: FakePachca, pachca: PachcaClient
) -> None:
    reply_json(server, "POST", "/messages", {"data": message(9)}, status=201)
    buttons = [[Button(text="Открыть", url="https://example.com"), Button(text="✓", data="ok")]]
    await pachca.messages.create_message(entity_id=1, content="Привет 👋", buttons=buttons)
    assert server.calls[-1].body == {
        "message": {
            "entity_id": 1,
            "content": "Привет 👋",
            "buttons": [
                [{"text": "Открыть", "url": "https://example.com"}, {"text": "✓", "data": "ok"}]
            ],
        }
    }
    assert "Привет".encode() in server.calls[-1].raw  # UTF-8, not \u escapes


async def test_prebuilt_body_model(server: FakePachca, pachca: PachcaClient) -> None:
    reply_json(server, "POST", "/messages", {"data": message(9)}, status=201)
    body = MessageCreateRequest(message=MessageCreateRequestMessage(entity_id=198, content="Hi"))
    await pachca.messages.create_message(body=body)
    assert server.calls[-1].body == {"message": {"entity_id": 198, "content": "Hi"}}


async def test_body_model_and_keywords_together_are_refused(
    server: FakePachca, pachca: PachcaClient
) -> None:
    body = MessageCreateRequest(message=MessageCreateRequestMessage(entity_id=198, content="Hi"))
    with pytest.raises(InvalidRequestError, match=r"either `body=` or keyword.*content"):
        await pachca.messages.create_message(body=body, content="other")  # type: ignore[call-overload]
    assert server.calls == []


async def test_body_of_the_wrong_model_is_refused(server: FakePachca, pachca: PachcaClient) -> None:
    with pytest.raises(InvalidRequestError, match="must be a MessageCreateRequest"):
        await pachca.messages.create_message(body={"message": {}})  # type: ignore[call-overload]
    assert server.calls == []


async def test_missing_required_body_field_names_it(
    server: FakePachca, pachca: PachcaClient
) -> None:
    with pytest.raises(InvalidRequestError, match=r"missing required argument\(s\): entity_id$"):
        await pachca.messages.create_message(content="Hello")  # type: ignore[call-overload]
    with pytest.raises(InvalidRequestError, match="entity_id"):
        await pachca.messages.create_message()  # type: ignore[call-overload]
    assert server.calls == []


async def test_only_passed_fields_are_sent(server: FakePachca, pachca: PachcaClient) -> None:
    reply_json(server, "PUT", "/chats/3", {"data": chat(3)})
    reply_json(server, "PUT", "/users/12", {"data": user(12)})
    await pachca.chats.update_chat(3, name="Renamed")
    assert server.calls[0].body == {"chat": {"name": "Renamed"}}  # no `public`
    await pachca.users.update_user(12, title="CTO")
    assert server.calls[1].body == {"user": {"title": "CTO"}}  # no `suspended: false`


async def test_envelope_is_sent_even_when_empty(server: FakePachca, pachca: PachcaClient) -> None:
    reply_json(server, "PUT", "/chats/3", {"data": chat(3)})
    await pachca.chats.update_chat(3)
    assert server.calls[-1].body == {"chat": {}}


async def test_none_sends_explicit_null(server: FakePachca, pachca: PachcaClient) -> None:
    reply_json(server, "PUT", "/users/12", {"data": user(12)})
    await pachca.users.update_user(12, department=None, nickname="oleg")  # type: ignore[arg-type]
    assert server.calls[-1].body == {"user": {"nickname": "oleg", "department": None}}


async def test_dates_and_sets_in_body(server: FakePachca, pachca: PachcaClient) -> None:
    reply_json(server, "POST", "/chats/exports", {"data": {"id": 9}}, status=202)
    await pachca.chats.request_export(
        start_at=datetime.date(2024, 1, 1),
        end_at=datetime.date(2024, 1, 31),
        webhook_url="https://example.com/hook",
        chat_ids={5},  # type: ignore[arg-type]
    )
    assert server.calls[-1].body == {
        "start_at": "2024-01-01",
        "end_at": "2024-01-31",
        "webhook_url": "https://example.com/hook",
        "chat_ids": [5],
    }


@pytest.mark.parametrize("bad", [object(), float("nan")])
async def test_unencodable_body_value_is_a_typed_error(
    server: FakePachca, pachca: PachcaClient, bad: object
) -> None:
    with pytest.raises(InvalidRequestError, match=r"chats\.update_chat: .*name"):
        await pachca.chats.update_chat(3, name=bad)  # type: ignore[arg-type]
    assert server.calls == []


async def test_constant_body_field_needs_no_argument(
    server: FakePachca, pachca: PachcaClient
) -> None:
    server.reply("POST", "/views/open", Reply(201))
    view = OpenViewRequestView(
        title="Leave request",
        blocks=[ViewBlockHeader(text="Dates"), ViewBlockInput(name="why", label="Why?")],
    )
    await pachca.views.open_view(trigger_id="trig-1", view=view)
    assert server.calls[-1].body == {
        "type": "modal",
        "trigger_id": "trig-1",
        "view": {
            "title": "Leave request",
            "blocks": [
                {"type": "header", "text": "Dates"},
                {"type": "input", "name": "why", "label": "Why?"},
            ],
        },
    }


async def test_callers_objects_are_never_mutated(server: FakePachca, pachca: PachcaClient) -> None:
    reply_json(server, "POST", "/messages", {"data": message(9)}, status=201)
    reply_json(server, "GET", "/search/messages", search_page([message(1)], total=1))
    buttons = [[Button(text="A", data="a")], [Button(text="B", url="https://b.example")]]
    chat_ids = [1, 2]
    before = copy.deepcopy((buttons, chat_ids))
    await pachca.messages.create_message(entity_id=1, content="x", buttons=buttons)
    found = [m async for m in pachca.search.search_messages(chat_ids=chat_ids, limit=1)]
    assert len(found) == 1
    assert (buttons, chat_ids) == before


# -- headers -----------------------------------------------------------------------------------


async def test_headers_identify_the_sdk_and_carry_the_token(
    server: FakePachca, pachca: PachcaClient
) -> None:
    reply_json(server, "GET", "/profile", {"data": user()})
    await pachca.profile.get_profile()
    assert server.calls[-1].headers["User-Agent"] == f"pachca-async/{__version__}"
    assert server.calls[-1].headers["Authorization"] == f"Bearer {TOKEN}"


async def test_token_from_environment(server: FakePachca, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACHCA_TOKEN", "from-env-token")
    reply_json(server, "GET", "/profile", {"data": user()})
    async with PachcaClient(base_url=server.base_url) as pachca:
        await pachca.profile.get_profile()
    assert server.calls[-1].headers["Authorization"] == "Bearer from-env-token"


async def test_explicit_token_beats_environment(
    server: FakePachca, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PACHCA_TOKEN", "from-env-token")
    reply_json(server, "GET", "/profile", {"data": user()})
    async with PachcaClient("explicit", base_url=server.base_url) as pachca:
        await pachca.profile.get_profile()
    assert server.calls[-1].headers["Authorization"] == "Bearer explicit"


@pytest.mark.parametrize("env", [None, ""])
def test_no_token_anywhere_is_a_typed_error(
    monkeypatch: pytest.MonkeyPatch, env: str | None
) -> None:
    if env is None:
        monkeypatch.delenv("PACHCA_TOKEN", raising=False)
    else:
        monkeypatch.setenv("PACHCA_TOKEN", env)
    with pytest.raises(InvalidRequestError, match="PACHCA_TOKEN"):
        PachcaClient()


async def test_token_is_trimmed(server: FakePachca, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACHCA_TOKEN", "env-token\n")  # as read from a file
    reply_json(server, "GET", "/profile", {"data": user()})
    async with PachcaClient(base_url=server.base_url, retry=NO_RETRIES) as pachca:
        await pachca.profile.get_profile()
    async with PachcaClient(" given\t", base_url=server.base_url, retry=NO_RETRIES) as pachca:
        await pachca.profile.get_profile()
    assert [r.headers["Authorization"] for r in server.calls] == [
        "Bearer env-token",
        "Bearer given",
    ]


@pytest.mark.parametrize("token", ["two words", "a\r\nX-Injected: 1", "bell\x07"])
def test_token_with_inner_space_or_control_characters_is_refused(token: str) -> None:
    with pytest.raises(InvalidRequestError, match="spaces or control characters") as caught:
        PachcaClient(token)
    assert token not in str(caught.value)


async def test_base_url_from_environment(
    server: FakePachca, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PACHCA_BASE_URL", f"{server.base_url}\n")
    reply_json(server, "GET", "/profile", {"data": user()})
    async with PachcaClient(TOKEN) as pachca, PachcaClient(TOKEN, base_url=None) as default:
        await pachca.profile.get_profile()
        await default.profile.get_profile()
    assert count(server) == 2
    assert pachca.base_url == server.base_url


def test_explicit_base_url_beats_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACHCA_BASE_URL", "http://127.0.0.1:9/api")
    assert PachcaClient(TOKEN, base_url="http://127.0.0.1:8/v1").base_url == "http://127.0.0.1:8/v1"


@pytest.mark.parametrize("env", [None, "", " "])
def test_base_url_none_is_pachcas_without_environment(
    monkeypatch: pytest.MonkeyPatch, env: str | None
) -> None:
    if env is None:
        monkeypatch.delenv("PACHCA_BASE_URL", raising=False)
    else:
        monkeypatch.setenv("PACHCA_BASE_URL", env)
    assert PachcaClient(TOKEN, base_url=None).base_url == "https://api.pachca.com/api/shared/v1"


def test_a_bad_base_url_in_the_environment_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACHCA_BASE_URL", "api.pachca.com")
    with pytest.raises(InvalidRequestError, match="PACHCA_BASE_URL"):
        PachcaClient(TOKEN)


@pytest.mark.parametrize("base_url", ["not a url", "api.pachca.com/api", "ftp://host/x", ""])
def test_base_url_must_be_absolute_http(base_url: str) -> None:
    with pytest.raises(InvalidRequestError, match="base_url"):
        PachcaClient(TOKEN, base_url=base_url)


async def test_an_empty_optional_envelope_is_left_out(
    server: FakePachca, pachca: PachcaClient
) -> None:
    """A bot's promo alone changes nothing else: no `"webhook": {}` goes with it."""
    from pachca_async.models import BotPromoRequest

    webhook = {
        "name": "Deploy",
        "nickname": "deploy_bot",
        "outgoing_url": None,
        "events": [],
        "trigger_on": "commands",
        "commands": [],
        "scopes": [],
        "template": None,
        "template_engine": "liquid",
        "challenge_key": None,
        "link_preview_enabled": True,
        "ignore_self_messages": False,
        "events_history_enabled": False,
        "single_chat": False,
        "can_edit": [],
        "who_can_add": "creator",
        "unfurl_domains": [],
    }
    bot = {
        "id": 7,
        "name": "Deploy",
        "nickname": "deploy_bot",
        "created_at": "2026-11-01T10:00:00.000Z",
        "authorized_users_count": 0,
        "oauth_client_enabled": False,
        "permissions": {"update_oauth_client": True, "recreate_token": True, "destroy": True},
        "webhook": webhook,
    }
    reply_json(server, "PUT", "/bots/7", {"data": bot})
    await pachca.bots.update_bot(7, promo=BotPromoRequest(published=True))
    await pachca.bots.update_bot(7, name="Deploy", promo=BotPromoRequest(published=False))
    updated = await pachca.bots.update_bot(7)
    assert updated.webhook.name == "Deploy"
    assert [r.body for r in server.calls] == [
        {"promo": {"published": True}},
        {"webhook": {"name": "Deploy"}, "promo": {"published": False}},
        {"webhook": {}},
    ]
