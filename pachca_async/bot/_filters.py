"""Filters: which handler an event goes to.

A filter is any callable taking the event (and, by name, whatever context it asks for) and
returning a truth value, or a dict that is both a match and extra context for the handler
(`Command` adds `command`, `Regex` adds `match`). Coroutines work too. The classes here also
combine: `Command("start") | Regex("^hi")`, `FromChat(1) & ~FromUser(2)`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from .._exceptions import InvalidRequestError
from ..webhooks import ButtonWebhookPayload, MessageWebhookPayload, ViewSubmitWebhookPayload
from ._callable import CallableObject

FilterResult = bool | Mapping[str, Any] | None
FilterLike = Callable[..., Any]
"""A `Filter`, or any function of the event returning a truth value or a dict."""


def text_of(event: Any) -> str | None:
    """What text filters read: a message's content, or a clicked button's `data`."""
    if isinstance(event, MessageWebhookPayload):
        return event.content
    if isinstance(event, ButtonWebhookPayload):
        return event.data
    return None


class Filter:
    """Base class of the filters here; combine them with `&`, `|` and `~`."""

    provides: frozenset[str] = frozenset()
    """The names a match adds to the context (`Command`: `command`), checked at registration."""

    def __call__(self, event: Any, **data: Any) -> Any:
        raise NotImplementedError

    def __and__(self, other: FilterLike) -> Filter:
        return _All((self, other))

    def __or__(self, other: FilterLike) -> Filter:
        return _Any((self, other))

    def __invert__(self) -> Filter:
        return _Not(self)


async def check_all(
    filters: Sequence[CallableObject], event: Any, data: Mapping[str, Any]
) -> dict[str, Any] | None:
    """What `filters` add to the context when all pass (each sees what earlier ones added),
    or `None` as soon as one says no."""
    extra: dict[str, Any] = {}
    for check in filters:
        result = await check(event, {**data, **extra})
        if not result:
            return None
        if isinstance(result, Mapping):
            extra.update(result)
    return extra


def provided(filters: Sequence[CallableObject]) -> list[frozenset[str]]:
    """What each of `filters` adds to the context (a plain function: nothing known)."""
    return [getattr(f.callback, "provides", frozenset()) for f in filters]


class _All(Filter):
    def __init__(self, filters: tuple[FilterLike, ...]) -> None:
        self.filters = [CallableObject(f) for f in filters]
        self.provides = frozenset().union(*provided(self.filters))

    async def __call__(self, event: Any, **data: Any) -> FilterResult:
        extra = await check_all(self.filters, event, data)
        return False if extra is None else (extra or True)


class _Any(Filter):
    def __init__(self, filters: tuple[FilterLike, ...]) -> None:
        self.filters = [CallableObject(f) for f in filters]
        self.provides = frozenset.intersection(*provided(self.filters))  # whichever matched

    async def __call__(self, event: Any, **data: Any) -> FilterResult:
        for check in self.filters:
            result = await check(event, data)
            if result:
                return result  # type: ignore[no-any-return]
        return False


class _Not(Filter):
    def __init__(self, inner: FilterLike) -> None:
        self.inner = CallableObject(inner)

    async def __call__(self, event: Any, **data: Any) -> bool:
        return not await self.inner(event, data)


@attrs.frozen
class CommandObject:
    """A parsed command: `/deploy prod now` → `name="deploy"`, `args="prod now"`."""

    name: str
    args: str
    prefix: str = "/"


class Command(Filter):
    """Messages whose first word is one of the commands (`Command("start", "help")`).

    Adds `command` (a `CommandObject`) to the context. Case-insensitive unless told otherwise.
    """

    provides = frozenset({"command"})

    def __init__(self, *names: str, prefix: str = "/", ignore_case: bool = True) -> None:
        if not names:
            raise InvalidRequestError("Command needs at least one command name")
        self.prefix = prefix
        self.ignore_case = ignore_case
        self.names = {self._fold(n.removeprefix(prefix)) for n in names}

    def _fold(self, name: str) -> str:
        return name.casefold() if self.ignore_case else name

    def __call__(self, event: Any, **data: Any) -> FilterResult:
        words = event.content.split(maxsplit=1) if isinstance(event, MessageWebhookPayload) else []
        if not words:
            return False
        first, *rest = words
        name = first.removeprefix(self.prefix)
        if name == first or self._fold(name) not in self.names:
            return False
        return {"command": CommandObject(name, rest[0].strip() if rest else "", self.prefix)}


class Regex(Filter):
    """Events whose text (message content, button `data`) matches; adds `match` to the context."""

    provides = frozenset({"match"})

    def __init__(self, pattern: str | re.Pattern[str], flags: int = 0) -> None:
        self.pattern = re.compile(pattern, flags) if isinstance(pattern, str) else pattern

    def __call__(self, event: Any, **data: Any) -> FilterResult:
        text = text_of(event)
        found = self.pattern.search(text) if text is not None else None
        return {"match": found} if found else False


class FromChat(Filter):
    """Events in one of these chats (by the payload's `chat_id`)."""

    def __init__(self, *chat_ids: int) -> None:
        self.chat_ids = frozenset(chat_ids)

    def __call__(self, event: Any, **data: Any) -> bool:
        return getattr(event, "chat_id", None) in self.chat_ids


class FromUser(Filter):
    """Events caused by one of these users (by the payload's `user_id`)."""

    def __init__(self, *user_ids: int) -> None:
        self.user_ids = frozenset(user_ids)

    def __call__(self, event: Any, **data: Any) -> bool:
        return getattr(event, "user_id", None) in self.user_ids


class CallbackId(Filter):
    """Form submissions of the forms opened with one of these `callback_id`s."""

    def __init__(self, *callback_ids: str) -> None:
        self.callback_ids = frozenset(callback_ids)

    def __call__(self, event: Any, **data: Any) -> bool:
        return (
            isinstance(event, ViewSubmitWebhookPayload) and event.callback_id in self.callback_ids
        )
