"""`pachca_async.testing.FakePachca`: the stand-in API users test their bots against, driven
through the real `PachcaClient`."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator

import aiohttp
import pytest

from pachca_async import (
    AuthenticationError,
    NotFoundError,
    PachcaClient,
    Rate,
    RateLimitError,
    RateLimits,
    RetryPolicy,
    ServerError,
    ValidationError,
)
from pachca_async.testing import FakePachca, Reply, message, run_virtual, signed_delivery
from pachca_async.webhooks import MessageWebhookPayload, parse_webhook

MOMENT = datetime.datetime(2025, 5, 15, 14, 30, tzinfo=datetime.UTC)


@pytest.fixture
async def api() -> AsyncIterator[FakePachca]:
    async with FakePachca(clock=lambda: MOMENT) as fake:
        yield fake


@pytest.fixture
async def pachca(api: FakePachca) -> AsyncIterator[PachcaClient]:
    async with api.client(retry=RetryPolicy(max_retries=2, random=lambda: 0.0)) as client:
        yield client


async def test_a_message_is_stored_read_back_and_reacted_to(
    api: FakePachca, pachca: PachcaClient
) -> None:
    chat = api.add_chat("General", id=198)
    sent = await pachca.messages.create_message(entity_id=198, content="Hello")
    assert (sent.id, sent.chat_id, sent.user_id, sent.created_at) == (1001, 198, 1000, MOMENT)
    assert api.messages[sent.id]["content"] == "Hello"
    assert chat["last_message_at"] == "2025-05-15T14:30:00.000Z"

    same = await pachca.messages.get_message(sent.id)
    assert same == sent
    edited = await pachca.messages.update_message(sent.id, content="Hello again")
    assert (edited.content, (await pachca.messages.get_message(sent.id)).content) == (
        "Hello again",
        "Hello again",
    )

    first = await pachca.reactions.add_reaction(sent.id, code="👍")
    again = await pachca.reactions.add_reaction(sent.id, code="👍")  # set once
    assert first == again
    assert (first.code, first.user_id) == ("👍", 1000)
    assert [r.code async for r in pachca.reactions.list_reactions(sent.id)] == ["👍"]
    await pachca.reactions.remove_reaction(sent.id, code="👍")
    assert api.reactions[sent.id] == []

    await pachca.messages.delete_message(sent.id)
    with pytest.raises(NotFoundError, match=f"no message {sent.id}"):
        await pachca.messages.get_message(sent.id)

    assert [(c.method, c.path, c.status) for c in api.calls][:2] == [
        ("POST", "/messages", 201),
        ("GET", f"/messages/{sent.id}", 200),
    ]
    assert api.calls[0].headers["Authorization"] == "Bearer fake-token"
    assert api.calls_to("POST", "/messages") == [
        {"message": {"entity_id": 198, "content": "Hello"}}
    ]


async def test_walks_cross_pages_and_cursors_survive_changes(
    api: FakePachca, pachca: PachcaClient
) -> None:
    for n in range(1, 8):
        api.add_chat(f"chat {n}", id=n)
    page = await pachca.chats.list_chats(limit=3)
    assert [c.id for c in page.items] == [7, 6, 5]  # newest first, as Pachca's default
    assert page.has_next
    assert page.meta.paginate.has_prev is False

    api.add_chat("late", id=100)  # added mid-walk: a cursor is a place, not an offset
    del api.chats[4]
    rest = await pachca.chats.list_chats(limit=3, cursor=page.next_cursor)
    assert [c.id for c in rest.items] == [3, 2, 1]
    assert not rest.has_next

    earlier = await pachca.chats.list_chats(limit=3, cursor=rest.meta.paginate.prev_page)
    assert [c.id for c in earlier.items] == [7, 6, 5]

    walked = [c.id async for c in pachca.chats.list_chats(limit=2, order="asc")]
    assert walked == [1, 2, 3, 5, 6, 7, 100]
    assert len(api.calls_to("GET", "/chats")) == 3 + 4


async def test_a_chats_messages_are_listed_in_order(api: FakePachca, pachca: PachcaClient) -> None:
    api.add_chat("a", id=1)
    api.add_chat("b", id=2)
    for text in ("one", "two", "three"):
        await pachca.messages.create_message(entity_id=1, content=text)
    await pachca.messages.create_message(entity_id=2, content="elsewhere")
    walked = pachca.messages.list_chat_messages(chat_id=1, limit=2, order="asc")
    assert [m.content async for m in walked] == ["one", "two", "three"]


async def test_a_message_to_a_user_opens_one_personal_chat(
    api: FakePachca, pachca: PachcaClient
) -> None:
    first = await pachca.messages.create_message(entity_type="user", entity_id=7, content="hi")
    second = await pachca.messages.create_message(entity_type="user", entity_id=7, content="?")
    assert first.chat_id == second.chat_id
    chat = api.chats[first.chat_id]
    assert (chat["personal"], chat["member_ids"]) == (True, [7, 1000])


async def test_bad_requests_get_pachcas_errors(api: FakePachca, pachca: PachcaClient) -> None:
    with pytest.raises(NotFoundError, match="no chat 5"):
        await pachca.messages.create_message(entity_id=5, content="nobody home")
    api.add_chat("General", id=5)
    async with (
        aiohttp.ClientSession(headers={"Authorization": "Bearer t"}) as session,
        session.post(f"{api.base_url}/messages", json={"message": {"entity_id": 5}}) as answer,
    ):
        assert answer.status == 400
        (error,) = (await answer.json())["errors"]
    assert (error["key"], error["code"]) == ("message.content", "blank")
    with pytest.raises(ValidationError, match="limit"):
        await pachca.chats.list_chats(limit=51)
    with pytest.raises(ValidationError, match="cursor"):
        await pachca.chats.list_chats(cursor="made-up")
    with pytest.raises(NotFoundError, match="FakePachca does not serve GET /tasks"):
        await pachca.tasks.list_tasks()
    assert [c.status for c in api.calls] == [404, 400, 400, 400, 404]


async def test_only_its_token_is_accepted() -> None:
    async with FakePachca(token="right") as api:
        async with api.client() as pachca:
            info = await pachca.oauth.get_token_info()
            assert info.user_id == api.bot_id
        async with api.client("wrong") as pachca:
            with pytest.raises(AuthenticationError, match="invalid"):
                await pachca.oauth.get_token_info()


def test_scripted_failures_come_first_then_answers() -> None:
    async def scenario() -> FakePachca:
        async with FakePachca() as api, api.client(retry=RetryPolicy(random=lambda: 0.0)) as pachca:
            api.add_chat("General", id=1)
            api.fail("GET", "/chats/1", 503, 429, retry_after=30)
            assert (await pachca.chats.get_chat(1)).name == "General"  # after two retries
            return api

    api = run_virtual(scenario())
    assert [c.status for c in api.calls] == [503, 429, 200]
    assert api.calls[2].at - api.calls[1].at == pytest.approx(30)  # Retry-After: 30


async def test_scripted_replies_answer_exactly_in_order_the_last_repeating() -> None:
    async with FakePachca(token="right") as api, api.client("wrong", max_retries=0) as pachca:
        api.reply(
            "GET", "/messages/7", Reply(502, body="<html/>"), Reply(json={"data": message(7)})
        )
        with pytest.raises(ServerError):
            await pachca.messages.get_message(7)
        assert (await pachca.messages.get_message(7)).id == 7  # no token check: the script is
        assert (await pachca.messages.get_message(7)).id == 7  # the whole answer; last repeats
        raw = await pachca.messages.with_raw_response.get_message(7)
        assert raw.request_id is None  # sent exactly as scripted
        with pytest.raises(AuthenticationError):  # not scripted: served, the token checked
            await pachca.messages.create_message(entity_id=1, content="Привет")
    assert [c.status for c in api.calls] == [502, 200, 200, 200, 401]
    sent = api.calls[-1]
    assert "Привет".encode() in sent.raw
    assert sent.body == {"message": {"entity_id": 1, "content": "Привет"}}
    assert b"Authorization: Bearer wrong" in sent.raw_headers


async def test_a_base_path_is_served_as_pachcas() -> None:
    async with FakePachca(base_path="/api/shared/v1") as api, api.client() as pachca:
        assert api.base_url.endswith("/api/shared/v1")
        api.add_chat("General", id=5)
        await pachca.chats.get_chat(5)
        await pachca.messages.create_message(entity_id=5, content="hi")
        outside = api.base_url.removesuffix("/api/shared/v1") + "/messages"
        async with aiohttp.ClientSession() as session, session.get(outside) as answer:
            assert answer.status == 404
    assert [(c.path, c.raw_path) for c in api.calls] == [
        ("/chats/5", "/api/shared/v1/chats/5"),
        ("/messages", "/api/shared/v1/messages"),
    ]


async def test_the_bare_base_path_gets_pachcas_404() -> None:
    async with FakePachca(base_path="/api/shared/v1") as api, aiohttp.ClientSession() as session:
        headers = {"Authorization": "Bearer fake-token"}
        async with session.get(api.base_url, headers=headers) as answer:
            assert answer.status == 404
            assert (await answer.json())["errors"][0]["key"] == "path"


def test_rate_limits_are_enforced_per_chat_as_pachca_does() -> None:
    limits = RateLimits(message_write=Rate(2, burst=3))

    async def scenario() -> list[int]:
        async with FakePachca(rate_limits=limits) as api:
            for chat in (1, 2, 3):
                api.add_chat(f"chat {chat}", id=chat)
            async with api.client(rate_limits=None, max_retries=0) as unpaced:
                sends = [
                    unpaced.messages.create_message(entity_id=chat, content=str(i))
                    for i, chat in enumerate([1, 1, 1, 1, 2])
                ]
                results = await asyncio.gather(*sends, return_exceptions=True)
            refused = [r for r in results if isinstance(r, RateLimitError)]
            assert [r.retry_after for r in refused] == [1.0]  # whole seconds, rounded up
            async with api.client(rate_limits=limits, max_retries=0) as paced:
                for i in range(6):  # the client's own pacing keeps inside the server's limit
                    await paced.messages.create_message(entity_id=3, content=f"paced {i}")
            return [c.status for c in api.calls]

    statuses = run_virtual(scenario())
    assert statuses[:5].count(429) == 1  # the 4th to chat 1; chat 2 has a bucket of its own
    assert statuses[5:] == [201] * 6


async def test_files_reach_the_storage_and_the_message(
    api: FakePachca, pachca: PachcaClient
) -> None:
    api.add_chat("General", id=1)
    uploaded = await pachca.files.upload(b"day,messages\n", name="report.csv")
    sent = await pachca.messages.create_message(entity_id=1, content="report", files=[uploaded])
    assert api.stored == {"report.csv": b"day,messages\n"}
    assert [(f.name, f.key) for f in sent.files] == [("report.csv", uploaded.key)]
    storage = next(c for c in api.calls if c.path == "/storage")
    assert "Authorization" not in storage.headers


async def test_event_history_is_paged_and_deleted(api: FakePachca, pachca: PachcaClient) -> None:
    said = api.add_message("hello", chat_id=3, user_id=7)
    entry = api.add_event(api.message_event(said))
    events = [e async for e in pachca.bots.get_webhook_events(limit=1)]
    assert [e.id for e in events] == [entry["id"]]
    await pachca.bots.delete_webhook_event(entry["id"])
    assert (api.history, api.deleted) == ([], [entry["id"]])


async def test_message_events_are_signed_like_pachcas() -> None:
    async with FakePachca() as api:  # the real clock: the timestamp check must pass
        said = api.add_message("ping", chat_id=198, user_id=7)
        body, headers = signed_delivery(api.message_event(said), "secret")
    update = parse_webhook(body, headers, "secret")
    assert isinstance(update.payload, MessageWebhookPayload)
    assert (update.payload.id, update.payload.content, update.payload.chat_id) == (
        said["id"],
        "ping",
        198,
    )


async def test_wait_for_sees_requests_made_elsewhere(api: FakePachca, pachca: PachcaClient) -> None:
    api.add_chat("General", id=1)

    async def elsewhere() -> None:
        await pachca.messages.create_message(entity_id=1, content="late")

    task = asyncio.create_task(elsewhere())
    async with asyncio.timeout(5):
        bodies = await api.wait_for("POST", "/messages")
    await task
    assert bodies == [{"message": {"entity_id": 1, "content": "late"}}]
