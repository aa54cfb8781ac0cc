"""Cursor pagination: a `Page`, and a `Paginator` that is awaitable (one page) and iterable."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Generator, Iterator
from contextlib import aclosing
from typing import Any, Generic, TypeVar

import attrs

from ._exceptions import InvalidRequestError

T = TypeVar("T")
M = TypeVar("M")


@attrs.frozen
class Page(Generic[T, M]):
    """One page of a list: its items, its typed `meta`, and where the next page starts."""

    items: list[T]
    meta: M
    next_cursor: str | None
    """The cursor of the next page (`meta.paginate.next_page`)."""
    has_next: bool | None
    """Whether a next page exists; `None` for search calls, which do not say."""
    total: int | None
    """How many results the search found; `None` for plain list calls."""

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


Fetch = Callable[[str | None], Awaitable[Page[T, M]]]


class Paginator(Generic[T, M]):
    """The answer of a list call.

    `await paginator` fetches one page (from the caller's `cursor`, if any); `async for item in
    paginator` walks every item across pages; `paginator.pages()` walks page by page. A walk
    stops where the API says the list ends, or after `max_items` items.
    """

    __slots__ = ("_cursor", "_fetch", "_max_items")

    def __init__(self, fetch: Fetch[T, M], *, cursor: str | None, max_items: int | None) -> None:
        if max_items is not None and max_items < 0:
            raise InvalidRequestError(f"max_items must be >= 0, got {max_items}")
        self._fetch = fetch
        self._cursor = cursor
        self._max_items = max_items

    def __await__(self) -> Generator[Any, None, Page[T, M]]:
        return self._fetch(self._cursor).__await__()

    async def pages(self) -> AsyncGenerator[Page[T, M], None]:
        """Every page in order, from the caller's cursor (or the start) to the end."""
        cursor, seen = self._cursor, 0
        while self._max_items is None or seen < self._max_items:
            page = await self._fetch(cursor)
            yield page
            seen += len(page.items)
            if not _has_more(page, seen, cursor):
                return
            cursor = page.next_cursor

    def __aiter__(self) -> AsyncIterator[T]:
        return self._items()

    async def _items(self) -> AsyncIterator[T]:
        left = self._max_items
        async with aclosing(self.pages()) as pages:
            async for page in pages:
                for item in page.items:
                    if left is not None:
                        if left <= 0:
                            return
                        left -= 1
                    yield item


def _has_more(page: Page[Any, Any], seen: int, cursor: str | None) -> bool:
    """Whether another page may follow.

    List calls say so in `has_next` (pages may be short or empty mid-list). Search calls do not:
    they end when `total` results have come, or on an empty page.
    """
    if not page.next_cursor or page.next_cursor == cursor:  # nowhere new to go
        return False
    if page.has_next is not None:
        return page.has_next
    if not page.items:
        return False
    return page.total is None or seen < page.total
