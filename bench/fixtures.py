"""Canned API answers for the benchmarks (and tests): rich messages and upload parameters."""

from __future__ import annotations

import json
from typing import Any


def rich_message(i: int) -> dict[str, Any]:
    """A message with everything a real one can carry: files, buttons, thread, forwarding."""
    chat = 334 + i % 3
    return {
        "id": 194275 + i,
        "entity_type": "discussion",
        "entity_id": chat,
        "chat_id": chat,
        "root_chat_id": chat,
        "content": f"Release {i}: build is green, 756 tests passed. See the report and sign off.",
        "user_id": 12 + i % 7,
        "created_at": f"2026-08-28T15:{i % 60:02d}:23.000Z",
        "url": f"https://app.pachca.com/chats/{chat}?message={194275 + i}",
        "files": [
            {
                "id": 3560 + i,
                "key": f"attaches/files/93746/{i}/report.pdf",
                "name": "report.pdf",
                "file_type": "file",
                "url": f"https://pachca-prod-uploads.s3.storage.net/attaches/files/{i}/report.pdf",
                "width": None,
                "height": None,
            },
            {
                "id": 3660 + i,
                "key": f"attaches/files/93746/{i}/chart.png",
                "name": "chart.png",
                "file_type": "image",
                "url": f"https://pachca-prod-uploads.s3.storage.net/attaches/files/{i}/chart.png",
                "width": 1280,
                "height": 720,
            },
        ],
        "voice_content": None,
        "buttons": [
            [
                {"text": "Approve", "data": f"approve:{i}"},
                {"text": "Reject", "data": f"reject:{i}"},
            ],
            [{"text": "Open report", "url": "https://example.com/reports/1"}],
        ],
        "thread": {"id": 265142 + i, "chat_id": 2637266 + i},
        "forwarding": {
            "original_message_id": 194270 + i,
            "original_chat_id": 330,
            "author_id": 12,
            "original_created_at": "2026-08-27T10:00:00.000Z",
            "original_thread_id": None,
            "original_thread_message_id": None,
            "original_thread_parent_chat_id": None,
        },
        "parent_message_id": 194200 + i if i % 2 else None,
        "display_avatar_url": None,
        "display_name": None,
        "changed_at": f"2026-08-28T16:{i % 60:02d}:00.000Z",
        "deleted_at": None,
    }


def message_body() -> bytes:
    return json.dumps({"data": rich_message(0)}).encode()


def page_body(size: int = 50) -> bytes:
    return json.dumps(
        {
            "data": [rich_message(i) for i in range(size)],
            "meta": {
                "paginate": {
                    "next_page": "eyJpZCI6MTk0MjI2LCJkaXIiOiJkZXNjIn0",
                    "prev_page": "eyJpZCI6MTk0Mjc1LCJkaXIiOiJhc2MifQ",
                    "has_next": True,
                    "has_prev": False,
                }
            },
        }
    ).encode()


def upload_params(
    direct_url: str, key: str = "attaches/files/93746/bench/${filename}"
) -> dict[str, str]:
    """What `POST /uploads` hands out, pointing the upload at `direct_url`."""
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
