"""The token never shows: not in a repr, a log line, an exception message or a traceback."""

from __future__ import annotations

import logging
import pickle
import traceback
from typing import Any

import pytest

from pachca_async import (
    Handler,
    PachcaClient,
    PachcaError,
    Request,
    Response,
    RetryEvent,
    RetryPolicy,
)
from pachca_async.testing import FakePachca, Reply, api_error, message
from tests.scripting import BASE_PATH, TOKEN, free_port
from tests.session.conftest import virtual_clock

FAILURES = [
    Reply(401, {"error": "invalid_token", "error_description": "Access token is invalid"}),
    Reply(403, {"error": "insufficient_scope", "error_description": "Insufficient scope"}),
    Reply(422, api_error("content", "is invalid")),
    Reply(503, body="<html>down</html>", content_type="text/html"),
    Reply(200, body="not json"),
    Reply(200, {"data": message(5)}, delay=100),
    Reply(drop=True),
    Reply(429, headers={"Retry-After": "600"}),  # last: it pauses message reads for 10 minutes
]


def shown(value: Any) -> str:
    """Everything a user or a log could see of `value`."""
    text = f"{value!s}\n{value!r}"
    if isinstance(value, BaseException):
        text += "".join(traceback.format_exception(value))
    return text


@virtual_clock
async def test_token_never_shows(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="pachca_async")
    requests: list[Request] = []
    responses: list[Response] = []
    events: list[RetryEvent] = []
    errors: list[PachcaError] = []

    async def keep(request: Request, call_next: Handler) -> Response:
        requests.append(request)
        response = await call_next(request)
        responses.append(response)
        return response

    retry = RetryPolicy(max_retries=1, on_retry=events.append)
    async with FakePachca(base_path=BASE_PATH) as server:
        for id, failure in enumerate(FAILURES):
            server.reply("GET", f"/messages/{id}", failure)
        async with PachcaClient(
            TOKEN, base_url=server.base_url, middlewares=[keep], retry=retry
        ) as pachca:
            copy = pachca.with_options(timeout=5)
            for id in range(len(FAILURES)):
                try:
                    await pachca.messages.get_message(id)
                except PachcaError as error:
                    errors.append(error)
            assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in server.calls)
            try:
                await pachca.messages.create_message(content="x")  # type: ignore[call-overload]
            except PachcaError as error:
                errors.append(error)
    async with PachcaClient(TOKEN, base_url=f"http://127.0.0.1:{free_port()}") as offline:
        try:
            await offline.with_options(max_retries=0).messages.get_message(5)
        except PachcaError as error:
            errors.append(error)

    assert len(errors) == 10  # every failure above raised
    assert (len(requests), len(responses)) == (len(FAILURES), len(FAILURES) - 2)
    assert len(events) == 3  # the 503, the timeout and the drop were retried
    for value in [pachca, copy, pachca._target, *requests, *responses, *events, *errors]:
        assert TOKEN not in shown(value), value
    for error in errors:
        assert TOKEN.encode() not in pickle.dumps(error), error
    assert caplog.records
    assert TOKEN not in caplog.text
    assert "<redacted>" in repr(requests[0])


async def test_network_errors_keep_no_aiohttp_exception(server: FakePachca) -> None:
    """aiohttp's exceptions may carry the request's headers: none hangs off ours."""
    server.reply("GET", "/messages/5", Reply(drop=True))
    refused = f"http://127.0.0.1:{free_port()}"
    for base_url in (server.base_url, refused):
        async with PachcaClient(TOKEN, base_url=base_url, max_retries=0) as pachca:
            with pytest.raises(PachcaError) as caught:
                await pachca.messages.get_message(5)
        assert caught.value.__cause__ is None
        assert caught.value.__context__ is None
