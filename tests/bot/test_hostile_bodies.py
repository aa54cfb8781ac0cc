"""Webhook bodies built to break the receiver: nested past the interpreter's stack, with a
timestamp that is not a time, or sent one byte at a time. Each gets a 4xx or a typed error,
never a 500 or a connection held open."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from typing import Any

import pytest

from pachca_async import webhooks
from pachca_async._convert import stdlib_loads
from pachca_async.bot import Dispatcher
from pachca_async.testing import run_virtual
from pachca_async.webhooks import (
    MAX_DEPTH,
    Failure,
    WebhookVerificationError,
    check_timestamp,
    parse_webhook,
    signature,
)

from .fake_api import NOW, SECRET, message, running, signed

EXPORT = "/export-7f3a9c"


def nested(depth: int) -> dict[str, Any]:
    """An export-ready payload whose extra field nests `depth` levels deep in all."""
    inner: Any = []
    for _ in range(depth - 2):
        inner = [inner]
    return {
        "type": "export",
        "event": "ready",
        "export_id": 1,
        "created_at": "2025-02-14T12:00:00.000Z",
        "extra": inner,
    }


def deep_body(depth: int) -> bytes:
    """A message payload nesting `depth` levels deep in all, built as text (json.dumps of it
    would itself overflow the stack)."""
    head = json.dumps({**message("deep"), "webhook_timestamp": NOW})[:-1]
    return (head + ', "extra": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}").encode()


@pytest.mark.parametrize("stdlib", [False, True], ids=["orjson", "stdlib json"])
async def test_deep_bodies_get_400_on_both_routes(
    monkeypatch: pytest.MonkeyPatch, stdlib: bool
) -> None:
    if stdlib:
        monkeypatch.setattr(webhooks, "loads", stdlib_loads)
    seen: list[Any] = []
    dp = Dispatcher()
    dp.message()(lambda msg: seen.append(msg))
    dp.export_ready()(lambda event: seen.append(event))
    async with running(dp) as bot:
        for depth in (MAX_DEPTH + 1, 1_000, 100_000):
            body = deep_body(depth)
            status, text = await bot.post(body, {"Pachca-Signature": signature(body, SECRET)})
            assert (status, "nested" in text or "not a JSON object" in text) == (400, True)
            export = json.dumps(nested(depth)).encode() if depth < 900 else body
            status, _ = await bot.post(export, {}, EXPORT)
            assert status == 400
        # as deep as allowed: accepted on both routes
        body = deep_body(MAX_DEPTH)
        assert await bot.post(body, {"Pachca-Signature": signature(body, SECRET)}) == (200, "ok")
        export = json.dumps(nested(MAX_DEPTH)).encode()
        assert await bot.post(export, {}, EXPORT) == (200, "ok")
        await bot.receiver.join()
    assert len(seen) == 2


@pytest.mark.parametrize(
    "stamp",
    [math.nan, math.inf, -math.inf, 10**400, -(10**400), 1e300],
    ids=["nan", "inf", "-inf", "10**400", "-10**400", "1e300"],
)
def test_a_timestamp_that_is_not_a_time_is_refused(stamp: float) -> None:
    with pytest.raises(WebhookVerificationError) as caught:
        check_timestamp({"webhook_timestamp": stamp}, now=NOW)
    assert caught.value.failure is Failure.MISSING_TIMESTAMP
    assert "not a usable time" in str(caught.value)


@pytest.mark.parametrize(
    "literal",
    [b"NaN", b"Infinity", b"1" + b"0" * 400, b"1e400"],
    ids=["NaN", "Infinity", "10**400", "1e400"],
)
@pytest.mark.parametrize("stdlib", [False, True], ids=["orjson", "stdlib json"])
async def test_timestamp_literals_get_4xx(
    monkeypatch: pytest.MonkeyPatch, literal: bytes, stdlib: bool
) -> None:
    if stdlib:
        monkeypatch.setattr(webhooks, "loads", stdlib_loads)
    body = json.dumps(message("when?")).encode()[:-1] + b', "webhook_timestamp": ' + literal + b"}"
    headers = {"Pachca-Signature": signature(body, SECRET)}
    with pytest.raises(WebhookVerificationError) as caught:
        parse_webhook(body, headers, SECRET, now=NOW)
    assert caught.value.failure in (Failure.NOT_JSON, Failure.MISSING_TIMESTAMP)
    async with running(Dispatcher()) as bot:
        status, _ = await bot.post(body, headers)
    assert status in (400, 401)


async def test_a_delivery_at_the_timestamp_limit_still_works() -> None:
    async with running(Dispatcher()) as bot:
        assert await bot.post(*signed({**message("now"), "webhook_timestamp": NOW + 0.5})) == (
            200,
            "ok",
        )


async def trickle(port: int, length: int) -> tuple[float, int, bytes]:
    """Post a body of `length` bytes, one byte every 1.5 s; when the server hung up (loop
    time), how many body bytes went out by then, and what came back."""
    loop = asyncio.get_running_loop()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n\r\n"
    writer.write(head.encode())
    sent = 0

    async def drip() -> None:
        nonlocal sent
        with contextlib.suppress(ConnectionError):
            for _ in range(length):
                await asyncio.sleep(1.5)
                writer.write(b"{")
                await writer.drain()
                sent += 1

    dripping = asyncio.create_task(drip())
    try:
        answer = await reader.read()  # until the server closes the connection
    except ConnectionError:
        answer = b""
    hung_up = loop.time()
    dripping.cancel()
    writer.close()
    return hung_up, sent, answer


@pytest.mark.parametrize("deadline", [None, 2.0], ids=["default", "configured"])
def test_slow_senders_are_cut_off_at_the_body_deadline(deadline: float | None) -> None:
    async def scenario() -> None:
        options = {} if deadline is None else {"body_timeout": deadline}
        async with running(Dispatcher(), **options) as bot:
            expected = bot.receiver.body_timeout
            assert expected == (10.0 if deadline is None else deadline)
            port = int(bot.url.rsplit(":", 1)[1])
            start = asyncio.get_running_loop().time()
            results = await asyncio.gather(*(trickle(port, 100) for _ in range(20)))
            for hung_up, sent, answer in results:
                assert hung_up - start == pytest.approx(expected, abs=0.01)
                assert sent == int(expected / 1.5)
                assert answer.startswith(b"HTTP/1.1 408 Request Timeout")
                assert answer.endswith(f"body not received in {expected:g} s".encode())
            # honest senders are still served
            assert await bot.send(message("after")) == (200, "ok")

    run_virtual(scenario())
