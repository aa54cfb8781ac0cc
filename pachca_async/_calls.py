"""The calls in progress on a client, so that `close()` can end them.

A call waits in a rate limiter's queue, between retries, or for its answer. `close()` cancels
the task waiting, wherever that is (the rate limiter and the transport undo their part of a
cancelled request), and the call raises `ClientClosedError` instead of `CancelledError`. A
cancellation that did not come from `close()` passes through as it is.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ._exceptions import ClientClosedError
from ._loop import check_loop

if TYPE_CHECKING:
    from ._middleware import Handler
    from ._transport import Request, Response


class Calls:
    """What one client and its `with_options` copies have in progress; closed once for all."""

    def __init__(self) -> None:
        self.closed = False
        self._running: dict[asyncio.Task[object], int] = {}  # task -> calls it is inside
        self._ended: set[asyncio.Task[object]] = set()  # cancelled by close()

    async def send(self, handler: Handler, request: Request) -> Response:
        """`handler(request)`, unless the client is closed before or during the call."""
        if self.closed:
            raise ClientClosedError(f"{request.operation.name}: the client is closed")
        check_loop(self, "PachcaClient")
        task = asyncio.current_task()
        if task is None:  # not in a task (a foreign loop's callback): nothing to end
            return await handler(request)
        running = self._running
        running[task] = running.get(task, 0) + 1
        try:
            return await handler(request)
        except asyncio.CancelledError:
            if task in self._ended:
                self._ended.discard(task)
                if task.uncancel() == 0:  # close() was the only one to cancel it
                    raise ClientClosedError(
                        f"{request.operation.name}: the client was closed during the call"
                    ) from None
            raise
        finally:
            if running[task] > 1:
                running[task] -= 1
            else:
                del running[task]
            if task in self._ended:  # something on the way swallowed close()'s cancellation
                self._ended.discard(task)
                task.uncancel()

    def close(self) -> None:
        """Refuse new calls, and end those in progress (but the caller's own)."""
        self.closed = True
        current = asyncio.current_task()
        for task in self._running:
            if task is not current and task not in self._ended:
                self._ended.add(task)
                task.cancel()
