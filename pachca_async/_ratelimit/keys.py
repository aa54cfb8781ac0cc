"""Which bucket a request counts against: its rate class, plus the chat for message writes."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from .._generated.models import Message
from .._operation import Operation, RateClass, RateKeySource
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
        """The key `request` counts against: its rate class, and the chat its operation's
        `rate_key` names (a message id's chat, remembered from answers), if any."""
        operation = request.operation
        source = operation.rate_key
        if source is not None:
            if source.message_id is not None:
                chat = self._chats.get(request.arguments.get(source.message_id))
            else:
                chat = _chat_of(operation, request.arguments, source)
            if chat is not None:
                return (operation.rate_class.value, *chat)
        return self._class_keys[operation.rate_class]

    def observe(self, request: Request, result: Any) -> None:
        """Learn the chats of the messages in a decoded result; forget a deleted message."""
        if isinstance(result, Message):
            self._remember(result)
        elif isinstance(result, Page) and result.items and isinstance(result.items[0], Message):
            for item in result.items:
                self._remember(item)
        source = request.operation.rate_key
        if source is not None and source.message_id and request.operation.method == "DELETE":
            self._chats.pop(request.arguments.get(source.message_id), None)

    def _remember(self, message: Message) -> None:
        chats = self._chats
        chats[message.id] = (_value(message.entity_type), message.entity_id)
        chats.move_to_end(message.id)
        if len(chats) > self.remembered:
            chats.popitem(last=False)  # the one seen longest ago


def _chat_of(
    operation: Operation[Any], arguments: Mapping[str, Any], source: RateKeySource
) -> tuple[str, Any] | None:
    """The chat named by the arguments `source` points at (keywords or a `body=` model)."""
    entity_id = operation.argument(arguments, source.chat_id) if source.chat_id else UNSET
    if entity_id is None or entity_id is UNSET:
        return None
    entity_type = operation.argument(arguments, source.chat_type) if source.chat_type else UNSET
    kind = "discussion" if entity_type is UNSET or entity_type is None else _value(entity_type)
    return kind, entity_id


def _value(entity_type: Any) -> str:
    return str(getattr(entity_type, "value", entity_type))
