"""An in-process Pachca for the rate-limit tests: `FakeAPI`, a `MockTransport` that keeps when
each request arrived on the event loop's clock.

Why not `FakePachca`: these tests assert timelines exactly on the virtual clock, for up to
10 000 requests at once, with a chosen answer latency and the peak of requests in flight.
`MockTransport` (public) gives that with no socket in between; `FakePachca` enforcing
Pachca's limits over loopback (`rate_limits=`) is covered in tests/test_testing_fake.py, and
`StrictServer` below refuses with the same server-side buckets it uses.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from pachca_async import PachcaClient, Rate, RateLimits, Request, Response, RetryPolicy
from pachca_async._operation import RateClass
from pachca_async._testing.limits import Bucket, ServerLimits, retry_after
from pachca_async.testing import MockTransport, api_error, json_response
from pachca_async.testing import message as rich_message

TOKEN = "test-token"
PLAIN = RateLimits(probe_bursts=False)
"""The documented numbers without burst probing: the simplest timelines to check."""


def message(message_id: int, entity_type: str = "discussion", entity_id: int = 1) -> dict[str, Any]:
    """A message as the API sends it, posted to `entity_type` `entity_id`."""
    where = {"entity_type": entity_type, "entity_id": entity_id, "chat_id": entity_id}
    return rich_message(message_id, **where, root_chat_id=entity_id)


def too_many(retry_after: str | None = "1") -> Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return json_response(
        api_error("base", "Too many requests", "rate_limit"), status=429, headers=headers
    )


class FakeAPI(MockTransport):
    """A `MockTransport` that keeps every request with the (virtual) time it arrived.

    `latency` is how long each answer takes; `override(request)` may return an answer of its
    own (a 429, say) instead of the normal one.
    """

    def __init__(
        self,
        *,
        latency: float = 0.0,
        override: Callable[[Request], Response | None] | None = None,
    ) -> None:
        super().__init__(self._handle)
        self.latency = latency
        self.override = override
        self.arrivals: list[tuple[float, Request]] = []
        self.in_flight = 0
        self.peak = 0
        self._next_id = 1000
        self.chats: dict[int, tuple[str, int]] = {}
        """Where each message created here lives."""

    async def _handle(self, request: Request) -> Response:
        loop = asyncio.get_running_loop()
        self.arrivals.append((loop.time(), request))
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            answer = self.override(request) if self.override else None
            return answer or self._answer(request)
        finally:
            self.in_flight -= 1

    def times(self, operation: str | None = None) -> list[float]:
        return [t for t, r in self.arrivals if operation is None or r.operation.name == operation]

    def _answer(self, request: Request) -> Response:
        name = request.operation.name
        if name == "messages.create_message":
            assert isinstance(request.body, bytes)
            sent = json.loads(request.body)["message"]
            self._next_id += 1
            entity = self.chats[self._next_id] = (
                sent.get("entity_type", "discussion"),
                sent["entity_id"],
            )
            created = {**message(self._next_id, *entity), "content": sent["content"]}
            return json_response({"data": created}, status=201)
        if name in {"messages.update_message", "messages.get_message"}:
            message_id = int(request.url.rsplit("/", 1)[1])
            entity = self.chats.get(message_id, ("discussion", 1))
            return json_response({"data": message(message_id, *entity)})
        if name == "messages.list_chat_messages":
            chat = int(dict(request.params)["chat_id"])
            items = [message(i, "discussion", chat) for i in (500, 501)]
            return json_response({"data": items, "meta": {"paginate": {"next_page": "x"}}})
        if name == "bots.get_webhook_events":
            return json_response({"data": [], "meta": {"paginate": {"next_page": "x"}}})
        return json_response(None, status=204)


def client(api: FakeAPI, limits: RateLimits | None = PLAIN, **options: Any) -> PachcaClient:
    """A client on `api` with exact (jitter-free) retries."""
    options.setdefault("retry", RetryPolicy(random=lambda: 0.0))
    return PachcaClient(TOKEN, transport=api, rate_limits=limits, **options)


def exactly(values: list[float]) -> Any:
    """Virtual timestamps, compared exactly up to float rounding."""
    return pytest.approx(values, abs=1e-9)


def conforms(arrivals: list[float], per_second: float, burst: int) -> bool:
    """Whether a token-bucket server (`per_second`, `burst`) accepts every one of `arrivals`."""
    bucket = Bucket(Rate(per_second, burst=burst))
    return not any(bucket.wait(t) for t in sorted(arrivals))


async def send(pachca: PachcaClient, chat: int, count: int, start: int = 0) -> list[Any]:
    """`count` messages to `chat`, all started at once; contents are `start`, `start + 1`, ..."""
    return await asyncio.gather(
        *(
            pachca.messages.create_message(entity_id=chat, content=str(i))
            for i in range(start, start + count)
        )
    )


class StrictServer:
    """An `override` for `FakeAPI`: a token bucket per chat for message writes, as Pachca keeps,
    answering 429 with `Retry-After` in whole seconds. Counts what it refused and let through."""

    def __init__(self, per_second: float, burst: int) -> None:
        self.limits = ServerLimits(RateLimits(message_write=Rate(per_second, burst=burst)))
        self.accepted: Counter[str] = Counter()
        """How often each message content was let through."""

    @property
    def refused(self) -> int:
        return self.limits.refused

    def __call__(self, request: Request) -> Response | None:
        if request.operation.name != "messages.create_message":
            return None
        assert isinstance(request.body, bytes)
        sent = json.loads(request.body)["message"]
        now = asyncio.get_running_loop().time()
        wait = self.limits.wait(RateClass.MESSAGE_WRITE, (sent["entity_id"],), now)
        if wait:
            return too_many(retry_after(wait))
        self.accepted[sent["content"]] += 1
        return None
