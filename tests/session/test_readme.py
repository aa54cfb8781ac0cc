"""The README's quick start runs, word for word, against a local server that answers like Pachca.

The example is read from README.md at test time, so the two cannot drift apart: change the
example and this test runs the new one.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

import pachca_async
from pachca_async.testing import FakePachca, message, page
from tests.readme import README, modules
from tests.scripting import BASE_PATH, by_cursor, chat, reaction, reply_json, serve_in_thread


def quick_start() -> str:
    """The Python code of the README's "Quick start" section."""
    return modules()["quick_start"]


def answer_like_pachca(server: FakePachca) -> None:
    async def create_message(request: web.Request) -> web.Response:
        sent = (await request.json())["message"]
        created = message(1001, entity_id=sent["entity_id"], chat_id=sent["entity_id"])
        created["content"] = sent["content"]
        return web.json_response({"data": created}, status=201)

    server.reply("POST", "/messages", create_message)
    reply_json(server, "GET", "/messages/1001", {"data": message(1001)})
    by_cursor(
        server,
        "GET",
        "/chats",
        {
            None: page([chat(1), chat(2)], next_page="p2"),
            "p2": page([chat(3)], next_page="p3", has_next=False),
        },
    )
    reply_json(server, "POST", "/messages/1001/reactions", reaction("👍"), status=201)


def test_readme_quick_start_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = quick_start()
    with serve_in_thread(FakePachca(base_path=BASE_PATH)) as server:
        answer_like_pachca(server)
        monkeypatch.setenv("PACHCA_BASE_URL", server.base_url)  # instead of api.pachca.com
        exec(compile(code, str(README), "exec"), {"__name__": "readme"})

    assert capsys.readouterr().out.splitlines() == [
        "Hello 2024-05-01 10:00:00+00:00",
        "2 True p2",
        "1 chat 1",
        "2 chat 2",
        "3 chat 3",
    ]
    assert [(r.method, r.path, r.query_string) for r in server.calls] == [
        ("POST", "/messages", ""),
        ("GET", "/messages/1001", ""),
        ("GET", "/chats", "limit=50"),
        ("GET", "/chats", "limit=50"),
        ("GET", "/chats", "limit=50&cursor=p2"),
        ("POST", "/messages/1001/reactions", ""),
    ]
    assert server.calls[0].body == {"message": {"entity_id": 198, "content": "Hello"}}
    assert server.calls[-1].body == {"code": "👍"}
    assert {r.headers["Authorization"] for r in server.calls} == {"Bearer TOKEN"}


async def test_readme_draft_and_token_examples_run(
    server: FakePachca, pachca: pachca_async.PachcaClient, capsys: pytest.CaptureFixture[str]
) -> None:
    draft = {
        "id": 5,
        "content": "Weekly report: please fill in the sheet",
        "files": [],
        "created_at": "2026-11-30T10:00:00.000Z",
        "updated_at": "2026-11-30T10:00:00.000Z",
        "next_send_at": "2026-12-07T09:00:00.000Z",
    }
    reply_json(server, "POST", "/drafts", {"data": draft}, status=201)

    def token(token_id: int, name: str | None, value: str = "abcd****wxyz") -> dict[str, Any]:
        return {
            "id": token_id,
            "token": value,
            "name": name,
            "user_id": 7,
            "scopes": ["messages:create"],
            "created_at": "2026-11-01T10:00:00.000Z",
        }

    reply_json(
        server, "GET", "/bots/7/tokens", page([token(1, None), token(2, "CI")], has_next=False)
    )
    reply_json(server, "POST", "/bots/7/tokens/2/reissue", {"data": token(2, "CI", "fresh-value")})
    namespace: dict[str, Any] = {"__name__": "readme"}
    code = modules()["scheduled_messages_and_bot_tokens"]
    exec(compile(code, str(README), "exec"), namespace)

    await namespace["schedule_weekly_report"](pachca)
    assert capsys.readouterr().out == "5 2026-12-07 09:00:00+00:00\n"
    sent = server.calls[0].body["draft"]
    assert sent["schedule"] == {
        "start_date": "2026-12-07T09:00:00.000Z",
        "repetition": {"interval": "weekly"},
    }
    assert await namespace["rotate_ci_token"](pachca, 7) == "fresh-value"
    assert [r.path for r in server.calls] == [
        "/drafts",
        "/bots/7/tokens",
        "/bots/7/tokens/2/reissue",
    ]
