"""The calls in progress on a client, so that `close()` can end them.

A call waits in a rate limiter's queue, between retries, or for its answer. `close()` cancels
the task waiting, wherever that is (the rate limiter and the transport undo their part of a
cancelled request), and the call raises `ClientClosedError` instead of `CancelledError`. A
cancellation that did not come from `close()` passes through as it is.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ._exceptions import ClientClosedError
from ._loop import check_loop

if TYPE_CHECKING:
    from ._middleware import Handler
    from ._transport import Request, Response


class Calls:
    """What one client and its `with_options` copies have in progress; closed once for all."""

    def __init__(self) -> None:
        self.closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running: set[asyncio.Task[Any]] = set()  # tasks inside a call
        self._ended: set[asyncio.Task[Any]] = set()  # cancelled by close()

    async def send(self, handler: Handler, request: Request) -> Response:
        """`handler(request)`, unless the client is closed before or during the call."""
        task = self.enter(request)
        try:
            return await handler(request)
        except asyncio.CancelledError:
            self.interrupted(task, request)
            raise
        finally:
            self.leave(task)

    # `send` in three plain steps, so that the client's hot path can run them inline, without
    # one more coroutine level for every resumption of the call to pass through.

    def enter(self, request: Request) -> asyncio.Task[Any] | None:
        """Refuse the call if closed; else note the task making it (`None`: nothing to note)."""
        if self.closed:
            raise ClientClosedError(f"{request.operation.name}: the client is closed")
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # the first call, or a call from another loop (raises)
            self._loop = check_loop(self, "PachcaClient")
        task = asyncio.current_task(loop)
        if task is None or task in self._running:  # no task to end, or a call inside a call
            return None
        self._running.add(task)
        return task

    def interrupted(self, task: asyncio.Task[Any] | None, request: Request) -> None:
        """The call was cancelled: raise `ClientClosedError` if `close()` alone did it."""
        if task is not None and task in self._ended:
            self._ended.discard(task)
            if task.uncancel() == 0:  # close() was the only one to cancel it
                raise ClientClosedError(
                    f"{request.operation.name}: the client was closed during the call"
                ) from None

    def leave(self, task: asyncio.Task[Any] | None) -> None:
        if task is None:
            return
        self._running.discard(task)
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
