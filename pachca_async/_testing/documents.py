"""Pachca's answers as JSON documents, for tests that script what the API says.

`FakePachca` builds its messages and upload parameters with these, a `MockTransport` handler
or a scripted `Reply` can answer with them, and the benchmarks parse them: one place that
knows which fields a message, a list page or an error carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

JSON = dict[str, Any]

MESSAGE_EVENT_FIELDS = (
    *("id", "entity_type", "entity_id", "content", "user_id", "created_at", "changed_at"),
    *("url", "chat_id", "parent_message_id", "thread"),
)
"""The message fields a `message` webhook repeats."""


def message(id: int = 1, **changes: Any) -> JSON:
    """A person's message as the API sends it, every field filled (a file, buttons, a thread,
    a forwarding), then `changes` on top: `message(5, content="Hi", thread=None)`.

    A bot's message also carries `display_avatar_url` and `display_name`; pass them to have them.
    """
    chat_id = changes.get("chat_id", 198)
    document: JSON = {
        "id": id,
        "entity_type": "discussion",
        "entity_id": chat_id,
        "chat_id": chat_id,
        "root_chat_id": chat_id,
        "content": "Hello",
        "user_id": 12,
        "created_at": "2024-05-01T10:00:00.000Z",
        "url": f"https://app.pachca.com/chats/{chat_id}?message={id}",
        "files": [
            {
                "id": 3,
                "key": "attaches/files/3/report.pdf",
                "name": "report.pdf",
                "file_type": "file",
                "url": "https://files.example/3",
                "width": None,
                "height": None,
            }
        ],
        "voice_content": None,
        "buttons": [[{"text": "Open", "url": "https://example.com"}]],
        "thread": {"id": 7, "chat_id": 700},
        "forwarding": {
            "original_message_id": 90,
            "original_chat_id": 91,
            "author_id": 92,
            "original_created_at": "2024-04-30T09:00:00.000Z",
            "original_thread_id": None,
            "original_thread_message_id": None,
            "original_thread_parent_chat_id": None,
        },
        "parent_message_id": None,
        "changed_at": "2024-05-01T10:00:00.000Z",
        "deleted_at": None,
    }
    document.update(changes)
    return document


def message_event(
    message: Mapping[str, Any], event: str = "new", *, webhook_timestamp: int = 1_714_557_600
) -> JSON:
    """The `message` webhook payload Pachca sends about `message` (`event`: new, update,
    delete), stamped `webhook_timestamp` (Unix seconds)."""
    return {
        "type": "message",
        "event": event,
        **{name: message.get(name) for name in MESSAGE_EVENT_FIELDS},
        "webhook_timestamp": webhook_timestamp,
    }


def page(
    items: list[Any],
    *,
    next_page: str = "next",
    has_next: bool = True,
    prev_page: str = "prev",
    has_prev: bool = False,
) -> JSON:
    """A list call's answer: `items` and the cursors to the pages around it."""
    paginate = {
        "next_page": next_page,
        "prev_page": prev_page,
        "has_next": has_next,
        "has_prev": has_prev,
    }
    return {"data": items, "meta": {"paginate": paginate}}


def search_page(items: list[Any], *, total: int, next_page: str = "next") -> JSON:
    """A search call's answer: `items`, the `total` found and a forward cursor (no `has_next`)."""
    return {"data": items, "meta": {"total": total, "paginate": {"next_page": next_page}}}


def api_error(key: str, message: str, code: str = "invalid", value: Any = None) -> JSON:
    """An `ApiError` body with one item: which field (`key`), what was wrong, its `code`."""
    item = {"key": key, "value": value, "message": message, "code": code, "payload": None}
    return {"errors": [item]}


def upload_params(direct_url: str, key: str = "attaches/files/1000/1/${filename}") -> JSON:
    """What `POST /uploads` hands out: the presigned form fields, and `direct_url`, where the
    file goes (`${filename}` in `key` becomes the file's name)."""
    return {
        "Content-Disposition": "attachment",
        "acl": "private",
        "policy": "eyJleHBpcmF0aW9uIjoiMjAzMC0wMS0wMVQwMDowMDowMFoifQ==",
        "x-amz-credential": "286471_server/20211122/kz-6x/s3/aws4_request",
        "x-amz-algorithm": "AWS4-HMAC-SHA256",
        "x-amz-date": "20211122T065734Z",
        "x-amz-signature": "87e8f3ba4083c937c0e891d7a11",
        "key": key,
        "direct_url": direct_url,
    }
