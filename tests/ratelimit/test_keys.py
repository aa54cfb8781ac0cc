"""Which bucket a request counts against, and the limiter's settings."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest

from pachca_async import (
    Handler,
    InvalidRequestError,
    PachcaClient,
    Rate,
    RateClass,
    RateLimiter,
    RateLimits,
    Request,
    Response,
)
from pachca_async._files.storage import storage_request
from pachca_async._files.uploads import STORE_FILE
from pachca_async._generated.services import OPERATIONS
from pachca_async.models import MessageCreateRequest, MessageCreateRequestMessage, MessageEntityType
from pachca_async.testing import run_virtual
from tests.readme import python_blocks

from .fake import PLAIN, FakeAPI, client


class Keys(list[tuple[Any, ...]]):
    """A middleware noting each request's key as the limiter sees it when the request comes."""

    limiter: RateLimiter | None = None

    async def __call__(self, request: Request, call_next: Handler) -> Response:
        assert self.limiter is not None
        self.append(self.limiter.key(request))
        return await call_next(request)


def keyed(api: FakeAPI, limits: RateLimits = PLAIN) -> tuple[PachcaClient, Keys]:
    seen = Keys()
    pachca = client(api, limits, middlewares=[seen])
    seen.limiter = pachca.rate_limiter
    return pachca, seen


def test_a_new_message_counts_against_the_chat_it_goes_to() -> None:
    pachca, seen = keyed(FakeAPI())
    body = MessageCreateRequest(
        message=MessageCreateRequestMessage(
            entity_type=MessageEntityType.THREAD, entity_id=7, content="in a thread"
        )
    )

    async def scenario() -> None:
        await pachca.messages.create_message(entity_id=5, content="discussion by default")
        await pachca.messages.create_message(entity_type="thread", entity_id=5, content="x")
        await pachca.messages.create_message(
            entity_type=MessageEntityType.USER, entity_id=5, content="direct"
        )
        await pachca.messages.create_message(body=body)
        await pachca.close()

    run_virtual(scenario())
    assert seen == [
        ("message_write", "discussion", 5),
        ("message_write", "thread", 5),
        ("message_write", "user", 5),
        ("message_write", "thread", 7),
    ]


def test_edits_and_deletes_count_against_the_chat_the_client_has_seen() -> None:
    pachca, seen = keyed(FakeAPI())

    async def scenario() -> None:
        sent = await pachca.messages.create_message(entity_type="thread", entity_id=8, content="x")
        await pachca.messages.update_message(sent.id, content="edited")
        await pachca.messages.list_chat_messages(chat_id=9)
        await pachca.messages.update_message(501, content="edited")
        await pachca.messages.update_message(12345, content="never seen")
        await pachca.messages.delete_message(sent.id)
        await pachca.messages.delete_message(sent.id)
        await pachca.close()

    run_virtual(scenario())
    assert seen == [
        ("message_write", "thread", 8),
        ("message_write", "thread", 8),
        ("message_read",),
        ("message_write", "discussion", 9),
        ("message_write",),  # unknown: the token-wide write bucket
        ("message_write", "thread", 8),
        ("message_write",),  # deleted, so forgotten
    ]


def test_the_remembered_messages_are_bounded() -> None:
    pachca, seen = keyed(FakeAPI(), RateLimits(remembered_messages=3, probe_bursts=False))

    async def scenario() -> list[int]:
        sent = [await pachca.messages.create_message(entity_id=c, content="x") for c in range(5)]
        seen.clear()
        for message in sent:
            await pachca.messages.delete_message(message.id)
        await pachca.close()
        return [m.entity_id for m in sent]

    chats = run_virtual(scenario())
    assert seen == [("message_write",)] * 2 + [
        ("message_write", "discussion", chat) for chat in chats[2:]
    ]


def test_other_classes_have_one_key_per_token() -> None:
    pachca, seen = keyed(FakeAPI())

    async def scenario() -> None:
        await asyncio.gather(
            pachca.messages.get_message(1),
            pachca.messages.list_chat_messages(chat_id=2),
            pachca.bots.get_webhook_events(),
            pachca.messages.pin_message(3),
        )
        await pachca.close()

    run_virtual(scenario())
    assert seen == [
        ("message_read",),
        ("message_read",),
        ("webhook_events",),
        ("other",),
    ]


def test_every_generated_operation_has_a_rate() -> None:
    limits = RateLimits()
    for operation in OPERATIONS.values():
        assert isinstance(limits.rate(operation.rate_class), Rate), operation.name
    assert {op.rate_class for op in OPERATIONS.values()} == set(RateClass)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Rate(0), "per_second"),
        (lambda: Rate(4, burst=0), "burst"),
        (lambda: Rate(4, slowdown=0), "slowdown"),
        (lambda: Rate(4, recovery=-1), "recovery"),
        (lambda: RateLimits(max_in_flight=0), "max_in_flight"),
        (lambda: RateLimits(max_wait=-1), "max_wait"),
    ],
)
def test_bad_numbers_are_refused_by_name(build: Any, field: str) -> None:
    with pytest.raises(InvalidRequestError, match=f"`{field}`"):
        build()


def test_a_limiter_can_be_shared_and_shown() -> None:
    limiter = RateLimiter(RateLimits(max_in_flight=None))
    first = PachcaClient("a-token", rate_limits=limiter)
    second = PachcaClient("a-token", rate_limits=limiter)
    assert first.rate_limiter is second.rate_limiter is limiter
    assert "max_in_flight=None" in repr(limiter)
    assert "a-token" not in repr(limiter)


def test_requests_without_the_token_count_against_nothing() -> None:
    """Uploads and downloads go to the file storage, not the API: Pachca's limits do not apply."""
    api = FakeAPI()

    async def scenario() -> None:
        async with client(api, RateLimits(other=Rate(1), probe_bursts=False)) as pachca:
            upload = storage_request(pachca, STORE_FILE, "https://storage.example/upload")
            await asyncio.gather(*(pachca._send(upload) for _ in range(3)))
            await asyncio.gather(pachca.messages.pin_message(1), pachca.messages.pin_message(2))

    run_virtual(scenario())
    assert api.times() == [0.0, 0.0, 0.0, 0.0, 1.0]


def test_the_docs_rate_limit_examples_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACHCA_TOKEN", "a-token")
    names: dict[str, Any] = {}
    exec(python_blocks("# Rate limits")[0], names)
    assert names["pachca"].rate_limiter.limits.message_write == Rate(2, burst=10)
    assert names["unlimited"].rate_limiter is None
    assert names["first"].rate_limiter is names["second"].rate_limiter


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Rate(math.inf), "per_second"),
        (lambda: Rate(4, burst=math.inf), "burst"),  # type: ignore[arg-type]
        (lambda: Rate(4, recovery=math.nan), "recovery"),
        (lambda: Rate(4, slowdown=True), "slowdown"),
        (lambda: RateLimits(max_wait=math.nan), "max_wait"),
        (lambda: RateLimits(default_pause=math.inf), "default_pause"),
        (lambda: RateLimits(round_timeout=math.nan), "round_timeout"),
        (lambda: RateLimits(max_in_flight=math.inf), "max_in_flight"),  # type: ignore[arg-type]
    ],
)
def test_endless_or_non_numbers_are_refused_by_name(build: Any, field: str) -> None:
    with pytest.raises(InvalidRequestError, match=f"`{field}`"):
        build()
