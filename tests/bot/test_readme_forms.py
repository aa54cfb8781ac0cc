"""The README's form answered early runs as written: by webhook, and by polling on the virtual
clock, where the answer goes through `views.submit_view_response`."""

from __future__ import annotations

import asyncio
from typing import Any

from pachca_async import PachcaClient
from pachca_async.bot import Dispatcher
from pachca_async.testing import FakePachca
from tests.readme import modules

from .fake_api import NOW, running
from .test_polling import EPOCH, at, poll_for, with_api


def bot() -> Dispatcher:
    """The README's bot (`my_bot`), with its form answered early."""
    namespace: dict[str, Any] = {"__name__": "my_bot"}
    exec(modules()["my_bot"], namespace)
    dp: Dispatcher = namespace["dp"]
    return dp


def _order(fake: FakePachca, address: str) -> dict[str, Any]:
    return fake.view_submit_event({"address": address}, user_id=7, callback_id="order")


async def test_the_webhook_gets_the_early_answer() -> None:
    async with running(bot()) as served:
        missing = {**_order(served.fake, ""), "webhook_timestamp": NOW}
        assert await served.send(missing) == (
            400,
            '{"errors": {"address": "Where should we deliver?"}}',
        )
        assert await served.send({**_order(served.fake, "Lenina 1"), "webhook_timestamp": NOW}) == (
            200,
            "ok",
        )
        await served.receiver.join()
    [sent] = served.fake.calls_to("POST", "/messages")
    assert sent == {
        "message": {"entity_type": "user", "entity_id": 7, "content": "Order for Lenina 1"}
    }


def test_a_polling_bot_answers_through_the_api() -> None:
    async def scenario(fake: FakePachca, pachca: PachcaClient) -> list[Any]:
        events = [_order(fake, ""), _order(fake, "Lenina 1")]
        for event in events:
            fake.add_event(event, created_at=at(0))
        dp = bot()
        dp.bot_id = 1
        await poll_for(dp, pachca, 2, wall_clock=lambda: EPOCH.timestamp() + 1)
        await asyncio.sleep(0)
        return [fake.submissions[e["submit_id"]]["answer"] for e in events]

    assert with_api(scenario) == [
        {"via": "api", "errors": {"address": "Where should we deliver?"}},
        {"via": "api", "errors": None},
    ]
