"""Canned API answers for the benchmarks: pages of rich messages, built with the same
`pachca_async.testing` builders the tests use."""

from __future__ import annotations

import json
from typing import Any

from pachca_async.testing import message, page


def rich_message(i: int) -> dict[str, Any]:
    """A message with everything a real one can carry (two files, two rows of buttons, a
    thread, a forwarding), varied by `i` so a page holds 50 different ones."""
    chat = 334 + i % 3
    storage = "https://pachca-prod-uploads.s3.storage.net/attaches/files"
    return message(
        194275 + i,
        chat_id=chat,
        content=f"Release {i}: build is green, 756 tests passed. See the report and sign off.",
        user_id=12 + i % 7,
        created_at=f"2026-08-28T15:{i % 60:02d}:23.000Z",
        files=[
            {
                "id": 3560 + i,
                "key": f"attaches/files/93746/{i}/report.pdf",
                "name": "report.pdf",
                "file_type": "file",
                "url": f"{storage}/{i}/report.pdf",
                "width": None,
                "height": None,
            },
            {
                "id": 3660 + i,
                "key": f"attaches/files/93746/{i}/chart.png",
                "name": "chart.png",
                "file_type": "image",
                "url": f"{storage}/{i}/chart.png",
                "width": 1280,
                "height": 720,
            },
        ],
        buttons=[
            [
                {"text": "Approve", "data": f"approve:{i}"},
                {"text": "Reject", "data": f"reject:{i}"},
            ],
            [{"text": "Open report", "url": "https://example.com/reports/1"}],
        ],
        thread={"id": 265142 + i, "chat_id": 2637266 + i},
        forwarding={
            "original_message_id": 194270 + i,
            "original_chat_id": 330,
            "author_id": 12,
            "original_created_at": "2026-08-27T10:00:00.000Z",
            "original_thread_id": None,
            "original_thread_message_id": None,
            "original_thread_parent_chat_id": None,
        },
        parent_message_id=194200 + i if i % 2 else None,
        display_avatar_url=None,
        display_name=None,
        changed_at=f"2026-08-28T16:{i % 60:02d}:00.000Z",
    )


def message_body() -> bytes:
    return json.dumps({"data": rich_message(0)}).encode()


def page_body(size: int = 50) -> bytes:
    items = [rich_message(i) for i in range(size)]
    cursors = {
        "next_page": "eyJpZCI6MTk0MjI2LCJkaXIiOiJkZXNjIn0",
        "prev_page": "eyJpZCI6MTk0Mjc1LCJkaXIiOiJhc2MifQ",
    }
    return json.dumps(page(items, **cursors)).encode()
