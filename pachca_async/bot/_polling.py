"""Reading the bot's event history (`GET /webhooks/events`) instead of receiving webhooks.

For bots without a public URL (local development, strict firewalls): turn on "save event
history" in the bot's webhook settings. `EventPoller` reads the history in order, skips what
it already handled, deletes what was handled, and keeps a watermark you can persist to resume
after a restart. `Dispatcher.start_polling` drives it.

The history endpoint allows about 5 requests per 2 s; the poller paces its reads on the event
loop's clock by itself, retries failed reads with its own (paced) backoff, and honours
`Retry-After`. Deletes count against the general limit and use the client's usual retries.
"""

from __future__ import annotations

import asyncio
import collections
import datetime
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

import attrs

from .._config import at_least, check_value
from .._exceptions import (
    APIConnectionError,
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    PachcaError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
)
from .._operation import Operation
from .._pagination import Page
from .._service import operation
from .._types import UNSET
from ..webhooks import Update, parse_payload

if TYPE_CHECKING:
    from .._client import PachcaClient

logger = logging.getLogger("pachca_async.bot")

GRACE = 60.0
"""Seconds by which an entry may be recorded before one already handled and still show up.

Within a run, entries this close to the watermark are told apart by id; older ones count as
handled. (Across a restart only the watermark is known, so order is strict there.)"""


# Entries are read as plain JSON and parsed one by one: a single entry that does not match the
# spec must not fail the whole page and stall the bot (it becomes an unknown event, or is
# skipped). `meta` too: a page without `next_page` is the last one, not an error to retry.
@functools.cache
def _read_history() -> Operation[Page[Any, Any]]:
    events = operation("BotOperations_getWebhookEvents")  # by operationId: tags move
    result = attrs.evolve(events.result, type=list[Any], meta=dict[str, Any])
    return cast("Operation[Page[Any, Any]]", attrs.evolve(events, result=result))


_REMEMBERED_UNREADABLE = 1000
"""Unreadable entries remembered so each is logged once (the oldest are forgotten first)."""

_TRANSIENT = (APIConnectionError, ServerError, RateLimitError, ResponseDecodeError)


@attrs.frozen(order=True)
class Watermark:
    """How far the history was handled: the last handled entry's time and id.

    `str(watermark)` and `Watermark.parse(text)` round-trip it for storage.
    """

    created_at: datetime.datetime
    id: str

    def __str__(self) -> str:
        return f"{self.created_at.isoformat()} {self.id}"

    @classmethod
    def parse(cls, text: str) -> Watermark:
        stamp, _, entry_id = text.strip().partition(" ")
        try:
            created_at = datetime.datetime.fromisoformat(stamp)
        except ValueError:
            raise InvalidRequestError(f"not a watermark: {text!r}") from None
        if not entry_id:
            raise InvalidRequestError(f"not a watermark: {text!r}")
        if created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=datetime.UTC)
        return cls(created_at, entry_id)


@attrs.frozen
class _Entry:
    id: str
    created_at: datetime.datetime
    payload: dict[str, Any]

    @property
    def position(self) -> Watermark:
        return Watermark(self.created_at, self.id)

    @classmethod
    def read(cls, item: Any) -> _Entry:
        """The entry in `item`; raises `ValueError` saying what is missing or wrong."""
        try:
            created_at = datetime.datetime.fromisoformat(item["created_at"])
            if created_at.tzinfo is None:  # Pachca records times in UTC
                created_at = created_at.replace(tzinfo=datetime.UTC)
            created_at = created_at.astimezone(datetime.UTC)  # in range for comparisons
            return cls(str(item["id"]), created_at, dict(item["payload"]))
        except (KeyError, TypeError, ValueError, OverflowError) as error:
            raise ValueError(f"{type(error).__name__}: {error}") from None


class Pacer:
    """At most `limit` starts in any `period` seconds, on the event loop's clock."""

    def __init__(self, limit: int, period: float) -> None:
        if limit < 1 or period <= 0:
            raise InvalidRequestError("a pacer needs limit >= 1 and period > 0")
        self.limit = limit
        self.period = period
        self._starts: collections.deque[float] = collections.deque()

    async def wait(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            while self._starts and self._starts[0] + self.period <= now:
                self._starts.popleft()
            if len(self._starts) < self.limit:
                self._starts.append(now)
                return
            await asyncio.sleep(self._starts[0] + self.period - now)


WatermarkHook = Callable[[Watermark], Awaitable[None] | None]
Guard = Callable[[], Awaitable[bool]]


class LeaseLost(PachcaError):
    """This process no longer holds the polling lease: another replica polls now, so this one
    must not handle, delete or mark anything more."""


class EventPoller:
    """Reads new entries of the bot's event history, oldest first, each once.

    Args:
        pachca: A client with the bot's token (`webhooks:events:read`, and
            `webhooks:events:delete` to delete).
        interval: Seconds between reads when nothing new came.
        page_size: Entries per read (1–50).
        delete: Delete each entry once handled, so the history holds only what is left to do.
        watermark: Where a previous run stopped; entries up to it are skipped (and deleted).
        on_watermark: Called (and awaited) with the new watermark after each handled entry.
        max_requests: The pace of reads: at most `max_requests` per `per` seconds.
        per: Seconds that `max_requests` reads may take at least.
        wall_clock: Current Unix time; dates polled events back to when Pachca recorded them.
        guard: Asked before each event is handled, deleted or marked: False means this process
            lost the right to poll (a lease taken over by another replica): `LeaseLost`.
    """

    def __init__(
        self,
        pachca: PachcaClient,
        *,
        interval: float = 1.0,
        page_size: int = 50,
        delete: bool = True,
        watermark: Watermark | None = None,
        on_watermark: WatermarkHook | None = None,
        max_requests: int = 5,
        per: float = 2.0,
        max_backoff: float = 30.0,
        wall_clock: Callable[[], float] = time.time,
        guard: Guard | None = None,
    ) -> None:
        if not 1 <= page_size <= 50:
            raise InvalidRequestError(f"page_size must be 1..50, got {page_size}")
        check_value("interval", interval, at_least(0), "a number, 0 or more")
        check_value("max_backoff", max_backoff, at_least(0), "a number, 0 or more")
        self._pachca = pachca
        self._reader = pachca.with_options(max_retries=0)  # retries here, so each is paced
        self.interval = interval
        self.page_size = page_size
        self.delete = delete
        self._resume_from = watermark
        self._watermark = watermark
        self._on_watermark = on_watermark
        self._pacer = Pacer(max_requests, per)
        self._max_backoff = max_backoff
        self._wall_clock = wall_clock
        self._guard = guard
        self._seen: dict[str, datetime.datetime] = {}
        self._pending: dict[str, datetime.datetime] = {}
        self._unreadable: dict[int, None] = {}  # an ordered set, oldest first

    @property
    def watermark(self) -> Watermark | None:
        """The newest handled entry; persist `str(poller.watermark)` to resume later."""
        return self._watermark

    async def poll(self) -> list[Update]:
        """The entries not handled yet, oldest first (reading as many pages as needed).

        Entries already handled but still in the history are deleted (when `delete`).
        Transient failures are retried with backoff; authentication and permission errors
        are raised.
        """
        fresh: dict[str, _Entry] = {}
        handled: set[str] = set()
        cursor: str | None = None
        while True:
            page = await self._read(cursor)
            entries = self._entries(page.items, unreadable=handled)
            new = [e for e in entries if self._is_new(e)]
            fresh.update((e.id, e) for e in new)
            handled.update(e.id for e in entries if e.id not in fresh)
            if not page.has_next or not page.next_cursor or page.next_cursor == cursor:
                break
            if not new and _newest_first(entries):
                break  # the rest of the history is older still
            cursor = page.next_cursor
        if self.delete:
            for entry_id in handled:
                await self.check_guard()
                await self._delete(entry_id)
        return self._updates(sorted(fresh.values(), key=lambda e: e.position))

    async def check_guard(self) -> None:
        """Raise `LeaseLost` if the guard says this process may no longer poll."""
        if self._guard is not None and not await self._guard():
            raise LeaseLost("the polling lease is held by another process now")

    async def done(self, update: Update) -> None:
        """Mark a polled update handled: delete it, advance and report the watermark."""
        entry_id = update.history_id
        if entry_id is None or entry_id not in self._pending:
            raise InvalidRequestError("done() takes an update returned by this poller's poll()")
        await self.check_guard()
        created_at = self._pending.pop(entry_id)
        self._seen[entry_id] = created_at
        position = Watermark(created_at, entry_id)
        if self._watermark is None or position > self._watermark:
            self._watermark = position
            self._forget_before(position.created_at - datetime.timedelta(seconds=GRACE))
        if self.delete:
            await self._delete(entry_id)
        if self._on_watermark is not None:
            outcome = self._on_watermark(self._watermark)
            if outcome is not None:
                await outcome

    def _entries(self, items: list[Any], *, unreadable: set[str]) -> list[_Entry]:
        """The readable entries of a page; the ids of unreadable ones go to `unreadable`, to be
        deleted (they can never be handled). Each unreadable entry is logged once."""
        entries = []
        for item in items:
            try:
                entries.append(_Entry.read(item))
                continue
            except ValueError as error:
                problem = error
            entry_id = item.get("id") if isinstance(item, dict) else None
            if isinstance(entry_id, str | int) and not isinstance(entry_id, bool):
                unreadable.add(str(entry_id))
            key = hash(repr(item))  # small, whatever the entry's size
            if key not in self._unreadable:
                logger.warning("skipping an unreadable history entry %s: %s", entry_id, problem)
                self._unreadable[key] = None
                if len(self._unreadable) > _REMEMBERED_UNREADABLE:
                    del self._unreadable[next(iter(self._unreadable))]
        return entries

    def _is_new(self, entry: _Entry) -> bool:
        if entry.id in self._seen:
            return False
        if self._resume_from is not None and entry.position <= self._resume_from:
            return False
        return not (
            self._watermark is not None
            and entry.created_at < self._watermark.created_at - datetime.timedelta(seconds=GRACE)
        )

    def _forget_before(self, horizon: datetime.datetime) -> None:
        for entry_id in [i for i, at in self._seen.items() if at < horizon]:
            del self._seen[entry_id]

    def _updates(self, entries: list[_Entry]) -> list[Update]:
        loop_now = asyncio.get_running_loop().time()
        wall_now = self._wall_clock()
        updates = []
        for entry in entries:
            self._pending[entry.id] = entry.created_at
            waited = max(0.0, wall_now - entry.created_at.timestamp())
            updates.append(
                Update(
                    payload=parse_payload(entry.payload),
                    raw=entry.payload,
                    history_id=entry.id,
                    received_at=loop_now - waited,
                )
            )
        return updates

    async def _read(self, cursor: str | None) -> Page[Any, Any]:
        failures = 0
        while True:
            await self._pacer.wait()
            try:
                page: Page[Any, Any] = await self._reader._execute(
                    _read_history(), {"limit": self.page_size, "cursor": cursor or UNSET}
                )
                return page
            except _TRANSIENT as error:
                failures += 1
                delay = min(self._max_backoff, self.interval * 2 ** (failures - 1))
                if isinstance(error, RateLimitError) and error.retry_after is not None:
                    delay = max(delay, error.retry_after)
                logger.warning(
                    "reading the event history failed (%s); again in %.1f s", error, delay
                )
                await asyncio.sleep(delay)

    async def _delete(self, entry_id: str) -> None:
        """Delete an entry; the caller has just checked the guard."""
        try:
            await self._pachca.bots.delete_webhook_event(entry_id)
        except NotFoundError:
            pass  # already gone
        except (AuthenticationError, PermissionDeniedError) as error:
            logger.error("cannot delete history entries, deleting turned off: %s", error)
            self.delete = False
        except PachcaError as error:
            logger.warning("deleting history entry %s failed (%s); will retry", entry_id, error)

    def __repr__(self) -> str:
        return f"<EventPoller watermark={self._watermark}>"


def _newest_first(entries: list[_Entry]) -> bool:
    return len(entries) >= 2 and entries[0].position > entries[-1].position
