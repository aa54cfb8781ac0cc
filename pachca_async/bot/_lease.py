"""Polling from several replicas: one at a time holds a lease, the others wait to take over.

A lease is a store's promise that, until it expires, only its holder polls a token's event
history. The holder renews it in the background and asks before every step that changes
anything (handling an event, deleting it, moving the watermark); each acquisition gets a new
fencing number, and the store refuses a holder whose number is no longer the current one. So a
holder that was paused (a GC pause, a stopped container) and lost its lease meanwhile finds
out before it does anything, and the watermark lives in the store, where the next holder
resumes from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any, Protocol

from .._ratelimit.keys import token_hash
from ._lifecycle import until
from ._polling import EventPoller, Guard, LeaseLost, Watermark

if TYPE_CHECKING:
    from .._client import PachcaClient
    from ._dispatcher import Dispatcher

logger = logging.getLogger("pachca_async.bot")


class PollingLease(Protocol):
    """Who polls a token (named by `scope`, a hash of it) now, and how far they got."""

    ttl: float
    """Seconds a lease lasts without renewal: how soon another replica takes over."""

    async def acquire(self, scope: str) -> int | None:
        """Become the poller: a fencing number, or None while another replica holds it."""
        ...

    async def hold(self, scope: str, fence: int) -> bool:
        """Renew the lease; False if it is no longer `fence`'s (or the store cannot say)."""
        ...

    async def release(self, scope: str, fence: int) -> None:
        """Give the lease up, if it is still `fence`'s, so another replica need not wait."""
        ...

    async def load(self, scope: str) -> str | None:
        """The watermark the last holder saved (`str(Watermark)`), if any."""
        ...

    async def save(self, scope: str, fence: int, watermark: str) -> bool:
        """Store the watermark, only while `fence` holds the lease; False otherwise."""
        ...


async def poll_with_lease(
    dp: Dispatcher,
    pachca: PachcaClient,
    lease: PollingLease,
    stop: asyncio.Event,
    options: dict[str, Any],
) -> None:
    """Wait for the lease, poll while holding it, wait again when it is lost; until `stop`."""
    scope = token_hash(pachca._target.headers["Authorization"])
    while not stop.is_set():
        fence = await lease.acquire(scope)
        if fence is None:
            await until(stop, asyncio.sleep(lease.ttl / 3))
            continue
        logger.info("holding the polling lease (fence %d): polling here", fence)
        try:
            await _poll_holding(dp, pachca, lease, scope, fence, stop, options)
        except LeaseLost:
            logger.warning("lost the polling lease (fence %d): another replica polls", fence)
        finally:
            await lease.release(scope, fence)


async def _poll_holding(
    dp: Dispatcher,
    pachca: PachcaClient,
    lease: PollingLease,
    scope: str,
    fence: int,
    stop: asyncio.Event,
    options: dict[str, Any],
) -> None:
    async def guard() -> bool:
        return await lease.hold(scope, fence)

    async def save(watermark: Watermark) -> None:
        if not await lease.save(scope, fence, str(watermark)):
            raise LeaseLost("the polling lease is held by another process now")

    saved = await lease.load(scope)
    poller = EventPoller(
        pachca,
        watermark=None if saved is None else Watermark.parse(saved),
        on_watermark=save,
        guard=guard,
        **options,
    )
    halt = asyncio.Event()  # set by `stop`, or when a renewal fails
    renewing = asyncio.create_task(_renew(guard, lease.ttl / 3, stop, halt))
    try:
        await dp.poll(pachca, poller, halt)
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing
    if not stop.is_set():
        raise LeaseLost("the polling lease could not be renewed")


async def _renew(guard: Guard, every: float, stop: asyncio.Event, halt: asyncio.Event) -> None:
    """Renew every `every` seconds; set `halt` when `stop` is set or the lease is lost."""
    try:
        while not stop.is_set():
            await until(stop, asyncio.sleep(every))
            if stop.is_set() or not await guard():
                return
    finally:
        halt.set()
