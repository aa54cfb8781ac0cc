"""Cursor pagination: one page when awaited, every item when iterated, and where a walk ends."""

from __future__ import annotations

import pytest

from pachca_async import InvalidRequestError, PachcaClient, Page
from pachca_async.models import (
    Chat,
    PaginationMeta,
    PaginationMetaPaginate,
    SearchPaginationMeta,
    User,
)
from pachca_async.testing import FakePachca, page, search_page
from tests.scripting import by_cursor, chat, count, user


def cursors(server: FakePachca) -> list[str | None]:
    """The cursor each request carried, in order."""
    return [r.query.get("cursor") for r in server.calls]


async def test_list_walk_ends_only_on_has_next_false(
    server: FakePachca, pachca: PachcaClient
) -> None:
    by_cursor(
        server,
        "GET",
        "/chats",
        {
            None: page([chat(1), chat(2)], next_page="p2"),
            "p2": page([], next_page="p3"),  # empty, but the list goes on
            "p3": page([chat(3)], next_page="p4"),  # short, but the list goes on
            "p4": page([chat(4)], next_page="p5", has_next=False),
        },
    )
    ids = [c.id async for c in pachca.chats.list_chats(limit=2)]
    assert ids == [1, 2, 3, 4]
    assert cursors(server) == [None, "p2", "p3", "p4"]
    assert all(r.query["limit"] == "2" for r in server.calls)


async def test_full_last_page_ends_the_walk(server: FakePachca, pachca: PachcaClient) -> None:
    by_cursor(server, "GET", "/chats", {None: page([chat(1), chat(2)], has_next=False)})
    assert [c.id async for c in pachca.chats.list_chats(limit=2)] == [1, 2]
    assert count(server) == 1


async def test_search_walk_ends_when_total_is_reached(
    server: FakePachca, pachca: PachcaClient
) -> None:
    by_cursor(
        server,
        "GET",
        "/search/users",
        {
            None: search_page([user(1), user(2)], total=5, next_page="s2"),
            "s2": search_page([user(3)], total=5, next_page="s3"),  # short: not the end
            "s3": search_page([user(4), user(5)], total=5, next_page="s4"),
            "s4": search_page([user(6)], total=5, next_page="s5"),  # never asked for
        },
    )
    ids = [u.id async for u in pachca.search.search_users(query="o", limit=2)]
    assert ids == [1, 2, 3, 4, 5]
    assert cursors(server) == [None, "s2", "s3"]


async def test_search_walk_ends_on_an_empty_page(server: FakePachca, pachca: PachcaClient) -> None:
    by_cursor(
        server,
        "GET",
        "/search/chats",
        {
            None: search_page([chat(1)], total=10, next_page="s2"),
            "s2": search_page([], total=10, next_page="s3"),
        },
    )
    assert [c.id async for c in pachca.search.search_chats(query="x")] == [1]
    assert cursors(server) == [None, "s2"]


async def test_list_without_has_next_ends_like_a_search(
    server: FakePachca, pachca: PachcaClient
) -> None:
    # `GET /users?query=...` answers with search-style meta on a list endpoint
    by_cursor(
        server,
        "GET",
        "/users",
        {
            None: search_page([user(1)], total=2, next_page="u2"),
            "u2": search_page([user(2)], total=2, next_page="u3"),
        },
    )
    assert [u.id async for u in pachca.users.list_users(query="o")] == [1, 2]
    assert cursors(server) == [None, "u2"]


@pytest.mark.parametrize(
    ("max_items", "expected_ids", "requests"),
    [(0, [], 0), (1, [1], 1), (2, [1, 2], 1), (3, [1, 2, 3], 2), (9, [1, 2, 3, 4, 5], 3)],
)
async def test_max_items_bounds_the_walk(
    server: FakePachca,
    pachca: PachcaClient,
    max_items: int,
    expected_ids: list[int],
    requests: int,
) -> None:
    by_cursor(
        server,
        "GET",
        "/chats",
        {
            None: page([chat(1), chat(2)], next_page="p2"),
            "p2": page([chat(3), chat(4)], next_page="p3"),
            "p3": page([chat(5)], has_next=False),
        },
    )
    walk = pachca.chats.list_chats(limit=2, max_items=max_items)
    assert [c.id async for c in walk] == expected_ids
    assert count(server) == requests


async def test_negative_max_items_is_a_typed_error(pachca: PachcaClient) -> None:
    with pytest.raises(InvalidRequestError, match="max_items"):
        pachca.chats.list_chats(max_items=-1)


async def test_pages_walks_page_by_page(server: FakePachca, pachca: PachcaClient) -> None:
    by_cursor(
        server,
        "GET",
        "/chats",
        {
            None: page([chat(1), chat(2)], next_page="p2"),
            "p2": page([chat(3)], next_page="p3", has_next=False),
        },
    )
    pages = [p async for p in pachca.chats.list_chats(limit=2).pages()]
    assert [[c.id for c in p] for p in pages] == [[1, 2], [3]]
    assert [p.next_cursor for p in pages] == ["p2", "p3"]
    assert [p.has_next for p in pages] == [True, False]


async def test_await_gives_one_typed_page(server: FakePachca, pachca: PachcaClient) -> None:
    by_cursor(server, "GET", "/chats", {None: page([chat(1)], next_page="p2")})
    first = await pachca.chats.list_chats(limit=1)
    assert type(first) is Page
    assert [type(c) for c in first.items] == [Chat]
    assert first.meta == PaginationMeta(
        paginate=PaginationMetaPaginate(
            next_page="p2", prev_page="prev", has_next=True, has_prev=False
        )
    )
    assert (first.next_cursor, first.has_next, first.total) == ("p2", True, None)
    assert len(first) == 1
    assert [c.id for c in first] == [1]
    assert count(server) == 1


async def test_await_gives_one_search_page(server: FakePachca, pachca: PachcaClient) -> None:
    by_cursor(server, "GET", "/search/users", {None: search_page([user(1)], total=40)})
    found = await pachca.search.search_users(query="oleg")
    assert type(found.meta) is SearchPaginationMeta
    assert [type(u) for u in found.items] == [User]
    assert (found.next_cursor, found.has_next, found.total) == ("next", None, 40)


async def test_callers_cursor_is_the_starting_point(
    server: FakePachca, pachca: PachcaClient
) -> None:
    by_cursor(
        server,
        "GET",
        "/chats",
        {
            "mine": page([chat(5)], next_page="p2"),
            "p2": page([chat(6)], has_next=False),
        },
    )
    paginator = pachca.chats.list_chats(cursor="mine", limit=1)
    assert [c.id for c in await paginator] == [5]
    assert [c.id for c in await paginator] == [5]  # awaiting again: the same page
    assert [c.id async for c in paginator] == [5, 6]
    assert [c.id async for c in paginator] == [5, 6]  # a walk starts over, never resumes
    assert cursors(server) == ["mine", "mine", "mine", "p2", "mine", "p2"]


async def test_walk_keeps_callers_arguments(server: FakePachca, pachca: PachcaClient) -> None:
    by_cursor(
        server,
        "GET",
        "/search/messages",
        {
            None: search_page([], total=0, next_page="s2"),
        },
    )
    chat_ids = [1, 2]
    walk = pachca.search.search_messages(chat_ids=chat_ids, query="q")
    assert [m async for m in walk] == []
    assert chat_ids == [1, 2]
    assert server.calls[-1].query.getall("chat_ids[]") == ["1", "2"]


async def test_a_cursor_that_does_not_move_ends_the_walk(
    server: FakePachca, pachca: PachcaClient
) -> None:
    # a server bug must not turn into an endless loop of the same page
    by_cursor(
        server,
        "GET",
        "/chats",
        {None: page([chat(1)], next_page="same"), "same": page([chat(2)], next_page="same")},
    )
    assert [c.id async for c in pachca.chats.list_chats()] == [1, 2]
    assert cursors(server) == [None, "same"]


async def test_leaving_a_walk_early_fetches_nothing_more(
    server: FakePachca, pachca: PachcaClient
) -> None:
    by_cursor(
        server,
        "GET",
        "/chats",
        {None: page([chat(1), chat(2)], next_page="p2"), "p2": page([chat(3)], has_next=False)},
    )
    async for found in pachca.chats.list_chats():
        assert found.id == 1
        break
    assert count(server) == 1
