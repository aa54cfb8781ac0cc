"""Names of generated things: services from tags, methods from operationIds.

They follow Pachca's official SDK, so users' code and Pachca's docs carry over:
the service is the tag in snake_case, the method the operationId after its first `_`.
"""

from __future__ import annotations

import re

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake(text: str) -> str:
    """`selfRecreateBotToken` → `self_recreate_bot_token`; `Group tags` → `group_tags`."""
    words = re.split(r"[^0-9A-Za-z]+", _CAMEL_BOUNDARY.sub(" ", text))
    return "_".join(w.lower() for w in words if w)


def service_name(tag: str) -> str:
    """The client attribute for a tag: `Custom Properties` → `custom_properties`."""
    return "_".join(w.lower() for w in re.split(r"[^0-9A-Za-z]+", tag) if w)


def service_class(tag: str) -> str:
    """`Group tags` → `GroupTagsService`, `OAuth` → `OAuthService`."""
    words = [w for w in re.split(r"[^0-9A-Za-z]+", tag) if w]
    return "".join(w[:1].upper() + w[1:] for w in words) + "Service"


def method_name(operation_id: str) -> str:
    """`MessageOperations_createMessage` → `create_message`."""
    return snake(operation_id.split("_", 1)[1])


def constant(name: str) -> str:
    """`create_message` → `CREATE_MESSAGE`."""
    return name.upper()
