"""The README's quick start runs, word for word, against a local server that answers like Pachca.

The example is read from README.md at test time, so the two cannot drift apart: change the
example and this test runs the new one.
"""

from __future__ import annotations

import pytest
from aiohttp import web

from tests.readme import README, modules
from tests.scripted_server import ScriptedServer, chat, message, page, reaction, serve_in_thread


def quick_start() -> str:
    """The Python code of the README's "Quick start" section."""
    return modules()["quick_start"]


def answer_like_pachca(server: ScriptedServer) -> None:
    async def create_message(request: web.Request) -> web.Response:
        sent = (await request.json())["message"]
        created = message(1001, entity_id=sent["entity_id"], chat_id=sent["entity_id"])
        created["content"] = sent["content"]
        return web.json_response({"data": created}, status=201)

    server.reply("POST", "/messages", create_message)
    server.json("GET", "/messages/1001", {"data": message(1001)})
    server.by_cursor(
        "GET",
        "/chats",
        {
            None: page([chat(1), chat(2)], next_page="p2"),
            "p2": page([chat(3)], next_page="p3", has_next=False),
        },
    )
    server.json("POST", "/messages/1001/reactions", reaction("👍"), status=201)


def test_readme_quick_start_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = quick_start()
    with serve_in_thread(ScriptedServer()) as server:
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
    assert [(r.method, r.path, r.query_string) for r in server.requests] == [
        ("POST", "/messages", ""),
        ("GET", "/messages/1001", ""),
        ("GET", "/chats", "limit=50"),
        ("GET", "/chats", "limit=50"),
        ("GET", "/chats", "limit=50&cursor=p2"),
        ("POST", "/messages/1001/reactions", ""),
    ]
    assert server.requests[0].json() == {"message": {"entity_id": 198, "content": "Hello"}}
    assert server.requests[-1].json() == {"code": "👍"}
    assert {r.headers["Authorization"] for r in server.requests} == {"Bearer TOKEN"}
