"""Pacing on the virtual clock: bursts, steady rates, probing, and the held clock."""

from __future__ import annotations

import asyncio

from multidict import CIMultiDict

from pachca_async import PachcaClient, Rate, RateLimits, Request, Response
from pachca_async.testing import run_virtual

from .fake import FakeAPI, StrictServer, client, conforms, exactly, send


def test_a_chat_takes_its_burst_at_once_then_four_a_second() -> None:
    api = FakeAPI()

    async def scenario() -> None:
        async with client(api) as pachca:
            await send(pachca, chat=1, count=25)

    run_virtual(scenario())
    assert api.times() == exactly([0.0] * 20 + [0.25, 0.5, 0.75, 1.0, 1.25])
    assert conforms(api.times(), per_second=4, burst=20)


def test_a_full_bucket_refills_while_the_chat_is_quiet() -> None:
    api = FakeAPI()

    async def scenario() -> None:
        async with client(api) as pachca:
            await send(pachca, chat=1, count=20)
            await asyncio.sleep(5)
            await send(pachca, chat=1, count=21)

    run_virtual(scenario())
    assert api.times() == exactly([0.0] * 20 + [5.0] * 20 + [5.25])


def test_refill_counts_from_the_first_answer_not_the_first_send() -> None:
    """The server may see the first request as late as its answer comes back (0.2 s here), and
    its refill starts only then: the 21st request waits 0.25 s from that point."""
    api = FakeAPI(latency=0.2)

    async def scenario() -> None:
        async with client(api) as pachca:
            await send(pachca, chat=1, count=22)

    run_virtual(scenario())
    assert api.times() == exactly([0.0] * 20 + [0.45, 0.7])
    seen_by_server = [0.2, *api.times()[1:]]  # the first request arrived as late as possible
    assert conforms(seen_by_server, per_second=4, burst=20)


def test_a_quiet_chat_probes_its_burst_in_growing_rounds() -> None:
    api = FakeAPI(latency=0.1)

    async def scenario() -> None:
        async with client(api, RateLimits()) as pachca:
            await send(pachca, chat=1, count=25)

    run_virtual(scenario())
    rounds = [0.0] + [0.1] * 2 + [0.2] * 3 + [0.3] * 4 + [0.4] * 5 + [0.5] * 5
    assert api.times() == exactly([*rounds, 0.5, 0.6, 0.85, 1.1, 1.35])
    assert conforms(api.times(), per_second=4, burst=20)


def test_probing_meets_a_stricter_server_with_a_single_429() -> None:
    """The server allows half the configured rate and a burst of 5: probing finds that out with
    one refused request, where sending the configured burst at once would get fifteen."""
    server = StrictServer(per_second=2, burst=5)
    api = FakeAPI(latency=0.05, override=server)

    async def scenario() -> list[str]:
        async with client(api, RateLimits()) as pachca:
            return [m.content for m in await send(pachca, chat=1, count=10)]

    assert run_virtual(scenario()) == [str(i) for i in range(10)]
    assert server.refused == 1
    assert len(api.arrivals) == 11


class Straggling:
    """A transport whose first request takes `first` seconds to answer, the others none."""

    def __init__(self, first: float) -> None:
        self.first = first
        self.answered: list[float] = []

    async def send(self, request: Request) -> Response:
        loop = asyncio.get_running_loop()
        if not self.answered and self.first:
            self.first, delay = 0.0, self.first
            await asyncio.sleep(delay)
        self.answered.append(loop.time())
        return Response(204, CIMultiDict(), b"")

    async def close(self) -> None:
        pass


def test_one_slow_call_holds_its_rate_class_for_at_most_the_round_timeout() -> None:
    """The first call on a quiet key takes 8 s; three unrelated calls of its class go after one
    `round_timeout`, not when the straggler is answered."""
    api = Straggling(first=8.0)

    async def scenario() -> None:
        async with PachcaClient("t", transport=api) as pachca:  # the default limits
            slow = asyncio.create_task(pachca.bots.delete_webhook_event("1"))
            await asyncio.sleep(0)
            await asyncio.gather(*(pachca.bots.delete_webhook_event(i) for i in "234"))
            await slow

    run_virtual(scenario())
    assert api.answered == exactly([1.0, 1.0, 2.0, 8.0])  # rounds of 2 and 3 open on time


def test_reads_webhook_polls_and_other_calls_have_token_wide_buckets() -> None:
    api = FakeAPI()

    async def scenario() -> None:
        async with client(api) as pachca:
            await asyncio.gather(
                *(pachca.messages.get_message(i) for i in range(1, 13)),
                *(pachca.bots.get_webhook_events() for _ in range(7)),
                *(pachca.messages.pin_message(i) for i in range(1, 53)),
            )

    run_virtual(scenario())
    assert api.times("messages.get_message") == exactly([0.0] * 10 + [0.1, 0.2])
    assert api.times("bots.get_webhook_events") == exactly([0.0] * 5 + [0.4, 0.8])
    assert api.times("messages.pin_message") == exactly([0.0] * 50 + [0.02, 0.04])


def test_every_number_is_configurable() -> None:
    api = FakeAPI()
    limits = RateLimits(message_write=Rate(2, burst=3), probe_bursts=False)

    async def scenario() -> None:
        async with client(api, limits) as pachca:
            await send(pachca, chat=1, count=5)

    run_virtual(scenario())
    assert api.times() == exactly([0.0, 0.0, 0.0, 0.5, 1.0])


def test_none_turns_rate_limiting_off() -> None:
    api = FakeAPI()

    async def scenario() -> None:
        async with client(api, None) as pachca:
            assert pachca.rate_limiter is None
            await send(pachca, chat=1, count=30)

    run_virtual(scenario())
    assert api.times() == [0.0] * 30


def test_copies_from_with_options_share_the_buckets() -> None:
    api = FakeAPI()

    async def scenario() -> None:
        async with client(api) as pachca:
            patient = pachca.with_options(timeout=120)
            assert patient.rate_limiter is pachca.rate_limiter
            await asyncio.gather(send(pachca, 1, 12), send(patient, 1, 12, start=12))

    run_virtual(scenario())
    assert api.times() == exactly([0.0] * 20 + [0.25, 0.5, 0.75, 1.0])
