"""The benchmark's scenarios on the virtual clock, with a 20 ms round trip: exact and repeatable
where the real-time benchmark is noisy."""

from __future__ import annotations

import asyncio

import pytest

from pachca_async import RateLimits
from pachca_async.testing import run_virtual

from .fake import FakeAPI, StrictServer, client, send

CHATS, PER_CHAT = 20, 60


def announce(server: StrictServer, per_chat: int = PER_CHAT) -> float:
    """`per_chat` messages to each of 20 chats, all started at once; when the last one was
    answered."""
    api = FakeAPI(latency=0.02, override=server)

    async def scenario() -> float:
        async with client(api, RateLimits()) as pachca:
            await asyncio.gather(
                *(send(pachca, chat, per_chat, start=chat * per_chat) for chat in range(CHATS))
            )
            return asyncio.get_running_loop().time()

    return run_virtual(scenario())


def exactly_once(server: StrictServer, per_chat: int = PER_CHAT) -> bool:
    return len(server.accepted) == CHATS * per_chat and set(server.accepted.values()) == {1}


def test_a_goes_as_fast_as_the_documented_limits_allow() -> None:
    server = StrictServer(per_second=4, burst=20)
    finished = announce(server)
    assert server.refused == 0
    assert finished == pytest.approx(10.04)  # the least is 10 s: 20 at once, then 40 at 4/s
    assert exactly_once(server)


def test_b_a_stricter_server_gets_few_429s_and_sets_the_pace() -> None:
    server = StrictServer(per_second=2, burst=5)
    finished = announce(server)
    assert server.refused / (server.refused + sum(server.accepted.values())) <= 0.05
    assert finished <= 1.05 * 27.5  # the least is 27.5 s: 5 at once, then 55 at 2/s
    assert exactly_once(server)


def test_b_with_30_messages_a_chat_draws_one_429_per_chat() -> None:
    """The rate that drew the 429 is remembered and approached slowly: no second 429 while the
    key recovers (there used to be one per chat, 6.2% of requests)."""
    server = StrictServer(per_second=2, burst=5)
    finished = announce(server, per_chat=30)
    assert server.refused == CHATS
    assert finished <= 1.25 * 12.5  # the least is 12.5 s: 5 at once, then 25 at 2/s
    assert exactly_once(server, per_chat=30)
