"""Which bucket a request counts against: its rate class, plus the chat for message writes."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from .._generated.models import Message
from .._operation import RateClass
from .._pagination import Page
from .._transport import Request
from .._types import UNSET
from .backend import RateKey


def token_hash(authorization: str) -> str:
    """What names a token in a shared store: a short hash of its `Authorization` header, never
    the token itself."""
    return hashlib.sha256(authorization.encode()).hexdigest()[:16]


class KeyPolicy:
    """Keys requests, learning from results where messages live so edits and deletes count
    against their chat; remembers the chats of the last `remembered` messages seen."""

    def __init__(self, remembered: int) -> None:
        self.remembered = remembered
        self._class_keys: dict[RateClass, RateKey] = {c: (c.value,) for c in RateClass}
        self._chats: OrderedDict[Any, tuple[str, Any]] = OrderedDict()  # message id -> chat

    def key(self, request: Request) -> RateKey:
        """The key `request` counts against."""
        rate_class = request.operation.rate_class
        if rate_class is RateClass.MESSAGE_WRITE:
            arguments = request.arguments
            chat = _chat_of(arguments) or self._chats.get(arguments.get("id"))
            if chat is not None:
                return (rate_class.value, *chat)
        return self._class_keys[rate_class]

    def observe(self, request: Request, result: Any) -> None:
        """Learn the chats of the messages in a decoded result; forget a deleted message."""
        if isinstance(result, Message):
            self._remember(result)
        elif isinstance(result, Page) and result.items and isinstance(result.items[0], Message):
            for item in result.items:
                self._remember(item)
        operation = request.operation
        if operation.rate_class is RateClass.MESSAGE_WRITE and operation.method == "DELETE":
            self._chats.pop(request.arguments.get("id"), None)

    def _remember(self, message: Message) -> None:
        chats = self._chats
        chats[message.id] = (_value(message.entity_type), message.entity_id)
        chats.move_to_end(message.id)
        if len(chats) > self.remembered:
            chats.popitem(last=False)  # the one seen longest ago


def _chat_of(arguments: Mapping[str, Any]) -> tuple[str, Any] | None:
    """The chat a new message goes to, from the keywords or a `body=` request model."""
    body = arguments.get("body", UNSET)
    if body is UNSET:
        entity_type, entity_id = arguments.get("entity_type", UNSET), arguments.get("entity_id")
    else:
        message = getattr(body, "message", None)
        entity_type = getattr(message, "entity_type", UNSET)
        entity_id = getattr(message, "entity_id", None)
    if entity_id is None or entity_id is UNSET:
        return None
    kind = "discussion" if entity_type is UNSET or entity_type is None else _value(entity_type)
    return kind, entity_id


def _value(entity_type: Any) -> str:
    return str(getattr(entity_type, "value", entity_type))
