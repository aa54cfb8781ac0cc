"""The `pachca_async` logger: one DEBUG line per request attempt."""

from __future__ import annotations

import logging
import re

import pytest

from pachca_async import APITimeoutError, NotFoundError, PachcaClient, RetryPolicy
from pachca_async.testing import FakePachca, Reply, message
from tests.scripting import BASE_PATH, TOKEN, reply_json
from tests.session.conftest import virtual_clock

LINE = re.compile(r"^(GET|POST|PUT|DELETE) (\S+) -> (\w+) in (\d+) ms \(attempt (\d+)\)$")


def request_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, ...]]:
    lines = [
        r.getMessage()
        for r in caplog.records
        if r.name == "pachca_async" and r.levelno == logging.DEBUG
    ]
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), lines
    return [m.groups() for m in parsed if m]


@virtual_clock
async def test_one_debug_line_per_request(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="pachca_async")
    async with FakePachca(base_path=BASE_PATH) as server:
        server.reply("GET", "/messages/5", Reply(200, {"data": message(5)}, delay=1.5))
        server.reply("POST", "/messages", Reply(201, {"data": message(9)}))
        server.reply("DELETE", "/messages/5", Reply(404))
        async with PachcaClient(TOKEN, base_url=server.base_url) as pachca:
            await pachca.messages.get_message(5)
            await pachca.messages.create_message(entity_id=1, content="x")
            with pytest.raises(NotFoundError):
                await pachca.messages.delete_message(5)
    assert request_lines(caplog) == [
        ("GET", "/api/shared/v1/messages/5", "200", "1500", "1"),
        ("POST", "/api/shared/v1/messages", "201", "0", "1"),
        ("DELETE", "/api/shared/v1/messages/5", "404", "0", "1"),
    ]


@virtual_clock
async def test_each_attempt_logs_its_own_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="pachca_async")
    retry = RetryPolicy(max_retries=2, random=lambda: 0.5)
    async with FakePachca(base_path=BASE_PATH) as server:
        server.reply(
            "GET",
            "/messages/5",
            Reply(503),
            Reply(200, {"data": message(5)}, delay=40),
        )
        async with PachcaClient(TOKEN, base_url=server.base_url, retry=retry) as pachca:
            with pytest.raises(APITimeoutError):
                await pachca.messages.get_message(5)
    assert request_lines(caplog) == [
        ("GET", "/api/shared/v1/messages/5", "503", "0", "1"),
        ("GET", "/api/shared/v1/messages/5", "APITimeoutError", "30000", "2"),
        ("GET", "/api/shared/v1/messages/5", "APITimeoutError", "30000", "3"),
    ]


async def test_nothing_is_logged_above_debug_for_a_plain_call(
    server: FakePachca, pachca: PachcaClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="pachca_async")
    reply_json(server, "GET", "/messages/5", {"data": message(5)})
    await pachca.messages.get_message(5)
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]
