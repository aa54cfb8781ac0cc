"""Helpers for testing code that uses this SDK: a stand-in Pachca API, an in-process transport,
and a controllable clock.

`FakePachca` serves the Pachca API from memory on 127.0.0.1, so a bot or a script can be
tested offline, with no account and no token: it keeps chats, messages, reactions, files and
the event history, answers in Pachca's shapes (envelopes, cursor pagination, typed errors),
records every request, and delivers signed webhooks the way Pachca does. It can also enforce
Pachca's rate limits (`rate_limits=`) and play answers no Pachca sends on its own
(`reply(method, path, Reply(...))`: a proxy's 502, a malformed body, a dropped connection).

```python
from pachca_async.testing import FakePachca

async def test_announce() -> None:
    async with FakePachca() as api, api.client() as pachca:
        chat = api.add_chat("General")
        await announce(pachca, chat["id"])          # your code, calling pachca.messages...
        assert [m["content"] for m in api.messages.values()] == ["Release 1.2 is out"]
        assert api.calls_to("POST", "/messages") == [
            {"message": {"entity_id": chat["id"], "content": "Release 1.2 is out"}}
        ]
```

`LocalBot` serves a bot's dispatcher on 127.0.0.1 and has a `FakePachca` deliver signed
webhooks to it (the pytest plugin's `pachca_bot` fixture makes one). `MockTransport(handler)`
needs no server at all: the handler gets each request and returns the response (see
`json_response` and `request_json`). `message`, `message_event`, `page`, `search_page`,
`api_error` and `upload_params` build Pachca's documents for such answers.

Everything time-based in pachca-async (retry backoff, `Retry-After`, rate limits, timeouts)
reads the event loop's clock and sleeps with `asyncio.sleep`. On a `VirtualClockLoop` those
waits take no real time: when nothing is ready to run and no I/O arrives, the clock jumps
straight to the next timer. Real sockets (`FakePachca`, any local server) keep working.

```python
from pachca_async.testing import run_virtual

async def scenario() -> float:
    loop = asyncio.get_running_loop()
    start = loop.time()
    await asyncio.sleep(3600)        # returns at once
    return loop.time() - start       # 3600.0

assert run_virtual(scenario()) == 3600.0
```
"""

from __future__ import annotations

import asyncio
import math
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

from ._exceptions import InvalidRequestError
from ._testing.documents import api_error, message, message_event, page, search_page, upload_params
from ._testing.fake import FakePachca, signed_delivery, stamp
from ._testing.http import Call, Reply
from ._testing.local_bot import LocalBot
from ._testing.mock import MockHandler, MockTransport, json_response, request_json

__all__ = [
    "Call",
    "FakePachca",
    "LocalBot",
    "MockHandler",
    "MockTransport",
    "Reply",
    "VirtualClockLoop",
    "api_error",
    "json_response",
    "message",
    "message_event",
    "page",
    "request_json",
    "run_virtual",
    "search_page",
    "signed_delivery",
    "stamp",
    "upload_params",
]

T = TypeVar("T")


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose `time()` moves only when everything waits on a timer.

    `io_grace` is how long (in real seconds) the loop waits for real I/O before deciding that
    nothing but timers is left and jumping the clock.
    """

    def __init__(self, *, start: float = 0.0, io_grace: float = 0.01) -> None:
        super().__init__(selectors.DefaultSelector())
        self._virtual_now = start
        self._io_grace = io_grace
        selector = self._selector  # type: ignore[attr-defined]
        real_select = selector.select

        def select(timeout: float | None = None) -> list[Any]:
            events: list[Any] = real_select(0)
            if events or timeout == 0:
                return events
            grace = self._io_grace if timeout is None else min(timeout, self._io_grace)
            events = real_select(grace)
            if events:
                return events
            if timeout is None:  # no timers at all: only I/O can wake us
                return list(real_select(None))
            self._virtual_now += timeout
            return []

        selector.select = select

    def time(self) -> float:
        return self._virtual_now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by hand (timers due by then run on the next iteration)."""
        if not 0 <= seconds < math.inf:  # NaN or infinity would leave no usable time at all
            raise InvalidRequestError(f"the clock only moves forward, finitely: not {seconds!r}")
        self._virtual_now += seconds


def run_virtual(main: Coroutine[Any, Any, T], *, start: float = 0.0) -> T:
    """Run `main` to completion on a fresh `VirtualClockLoop`, then close it cleanly."""
    loop = VirtualClockLoop(start=start)
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(main)
    finally:
        try:
            _cancel_all(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
