"""Calling handlers, filters and predicates with the context they ask for, aiogram-style.

The event goes first, positionally; any other parameter is filled by name from the context
(`pachca`, `update`, `trigger`, what filters and middlewares added). A `**kwargs` parameter
receives the whole context. Plain functions and coroutine functions both work.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any


class CallableObject:
    """A callable plus what its signature accepts, worked out once at registration."""

    __slots__ = ("accepts_all", "callback", "names", "required")

    def __init__(self, callback: Callable[..., Any]) -> None:
        self.callback = callback
        params = list(inspect.signature(callback).parameters.values())
        self.accepts_all = any(p.kind is p.VAR_KEYWORD for p in params)
        named = [p for p in params[1:] if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        self.names = frozenset(p.name for p in named)
        self.required = frozenset(p.name for p in named if p.default is p.empty)
        """The names the context must have for a call to work."""

    async def __call__(self, event: Any, data: Mapping[str, Any]) -> Any:
        if self.accepts_all:
            kwargs = dict(data)
        else:
            kwargs = {name: data[name] for name in self.names if name in data}
        result = self.callback(event, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    def __repr__(self) -> str:
        return f"<{getattr(self.callback, '__qualname__', self.callback)!s}>"
