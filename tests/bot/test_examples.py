"""The example bots, end to end: signed webhooks in over 127.0.0.1, answers out through the
client to a local fake Pachca API.

The echo bot runs as its own process (`python examples/echo_bot.py`, configured by
environment variables), exactly as a user starts it; the others are driven in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import io
import json
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import pytest

from pachca_async import PachcaClient
from pachca_async.webhooks import signature

from .fake_api import BOT_ID, SECRET, FakePachca, click, link_shared, message, running, submit

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def examples() -> Iterator[None]:
    sys.path.insert(0, str(EXAMPLES))
    try:
        yield
    finally:
        sys.path.remove(str(EXAMPLES))


def example(name: str) -> ModuleType:
    return importlib.import_module(name)


# -- the echo bot, as a process -------------------------------------------------------------


@contextlib.asynccontextmanager
async def echo_bot_process(api_url: str) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    env = {
        **os.environ,
        "PACHCA_TOKEN": "bot-token",
        "PACHCA_BASE_URL": api_url,
        "PACHCA_WEBHOOK_SECRET": SECRET,
        "HOST": "127.0.0.1",
        "PORT": "0",
        "WEBHOOK_PATH": "/hook",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLES / "echo_bot.py"), env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    try:
        url = None
        async with asyncio.timeout(30):
            while url is None:
                line = (await process.stderr.readline()).decode()
                assert line, "the bot exited before listening"
                found = re.search(r"listening on (http://127\.0\.0\.1:\d+/hook)", line)
                url = found.group(1) if found else None
        yield process, url
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def now_payload(payload: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**payload, "webhook_timestamp": int(time.time()), **changes}


async def post(session: aiohttp.ClientSession, url: str, body: bytes, sign: bool = True) -> int:
    headers = {"Pachca-Signature": signature(body, SECRET)} if sign else {}
    # a stream, not bytes: aiohttp warns about sending large bodies from memory
    async with session.post(url, data=io.BytesIO(body), headers=headers) as response:
        return response.status


async def test_echo_bot_answers_signed_webhooks_and_rejects_the_rest() -> None:
    fake = FakePachca()
    await fake.start()
    answered = asyncio.Event()
    fake.on_call = lambda method, path, body: (
        answered.set() if len(fake.calls_to("POST", "/messages")) == 2 else None
    )
    try:
        async with echo_bot_process(fake.base_url) as (process, url), aiohttp.ClientSession() as s:
            start = json.dumps(now_payload(message("/start nice to meet you", message_id=1)))
            ping = json.dumps(now_payload(message("ping", message_id=2)))
            assert await post(s, url, start.encode()) == 200
            assert await post(s, url, ping.encode()) == 200
            assert await post(s, url, ping.encode()) == 200  # repeated: ignored
            assert await post(s, url, ping.replace("ping", "pong").encode(), sign=False) == 401
            tampered = ping.replace("ping", "pong").encode()
            headers = {"Pachca-Signature": signature(ping.encode(), SECRET)}
            async with s.post(url, data=tampered, headers=headers) as response:
                assert response.status == 401
            stale = now_payload(
                message("old", message_id=3), webhook_timestamp=int(time.time()) - 3600
            )
            assert await post(s, url, json.dumps(stale).encode()) == 401
            assert await post(s, url, b"not json") == 400
            huge = now_payload(message("x" * (1 << 20), message_id=4))
            assert await post(s, url, json.dumps(huge).encode()) == 413
            new_kind = now_payload({"type": "poll", "event": "vote"})
            assert await post(s, url, json.dumps(new_kind).encode()) == 200
            own = now_payload(message("my own words", user_id=BOT_ID, message_id=5))
            assert await post(s, url, json.dumps(own).encode()) == 200
            async with asyncio.timeout(30):
                await answered.wait()
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(30):
                assert await process.wait() == 0  # a graceful stop
    finally:
        await fake.close()
    assert fake.calls_to("POST", "/messages") == [
        {
            "message": {
                "entity_type": "discussion",
                "entity_id": 55,
                "content": "Hi! Send me anything and I will send it back. nice to meet you",
            }
        },
        {"message": {"entity_type": "discussion", "entity_id": 55, "content": "ping"}},
    ]
    assert fake.calls_to("GET", "/oauth/token/info") == [None]


# -- the other examples, in process ---------------------------------------------------------


@pytest.mark.usefixtures("examples")
async def test_form_bot_button_form_and_field_errors() -> None:
    form_bot = example("form_bot")
    async with running(form_bot.dp) as bot:
        assert await bot.send(message("/feedback")) == (200, "ok")
        await bot.receiver.join()
        offer = bot.fake.calls_to("POST", "/messages")[-1]["message"]
        assert offer["buttons"] == [[{"text": "Leave feedback", "data": "feedback"}]]

        assert await bot.send(click("feedback", trigger_id="t-1")) == (200, "ok")
        await bot.receiver.join()
        (opened,) = bot.fake.calls_to("POST", "/views/open")
        assert opened["trigger_id"] == "t-1"
        assert opened["callback_id"] == "feedback"
        assert [b["type"] for b in opened["view"]["blocks"]] == ["header", "radio", "input"]

        status, text = await bot.send(submit("feedback", {"score": "1", "comment": "meh"}))
        assert (status, json.loads(text)) == (
            400,
            {"errors": {"comment": "Please tell us what went wrong (10 characters or more)"}},
        )
        assert await bot.send(submit("feedback", {"score": "5", "comment": ""})) == (200, "ok")
        thanks = bot.fake.calls_to("POST", "/messages")[-1]["message"]
        assert thanks == {"entity_id": 55, "content": "Thank you! Score: 5/5."}


@pytest.mark.usefixtures("examples")
async def test_unfurl_bot_previews_only_links_it_knows_and_may_show() -> None:
    unfurl_bot = example("unfurl_bot")
    links = link_shared(
        "https://tracker.example.com/issues/101",
        "https://tracker.example.com/issues/102",
        "https://tracker.example.com/issues/999",
        skip=("https://tracker.example.com/issues/102",),
    )
    async with running(unfurl_bot.dp) as bot:
        assert await bot.send(links) == (200, "ok")
        await bot.receiver.join()
    assert bot.fake.calls_to("POST", "/messages/77/link_previews") == [
        {
            "link_previews": {
                "https://tracker.example.com/issues/101": {
                    "title": "Issue #101",
                    "description": "Login fails on Safari",
                }
            }
        }
    ]


@pytest.mark.usefixtures("examples")
@pytest.mark.skipif(
    not hasattr(PachcaClient("t").files, "upload"),
    reason="needs pachca.files.upload and send_message (issue 5, built in parallel)",
)
async def test_file_bot_answers_with_files() -> None:
    file_bot = example("file_bot")
    async with running(file_bot.dp) as bot:
        assert await bot.send(message("/report", message_id=1)) == (200, "ok")
        assert await bot.send(message("/source", message_id=2)) == (200, "ok")
        await bot.receiver.join()
    sent = [call["message"] for call in bot.fake.calls_to("POST", "/messages")]
    assert [m["content"] for m in sent] == ["This week's report", "My source code"]
    names = [[f["name"] for f in m["files"]] for m in sent]
    assert names == [["report.csv"], ["file_bot.py"]]
    assert bot.fake.stored["report.csv"].startswith(b"day,messages")
    assert bot.fake.stored["file_bot.py"] == (EXAMPLES / "file_bot.py").read_bytes()
