"""Runs an example bot as its environment says (shared by the examples in this folder).

PACHCA_TOKEN            the bot's access token (required)
PACHCA_WEBHOOK_SECRET   the bot's signing secret: receive webhooks; unset: poll the history
PACHCA_BASE_URL         where the API lives (default: Pachca's)
HOST, PORT, WEBHOOK_PATH   where webhooks are received (0.0.0.0, 8080, /pachca)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

from pachca_async import PachcaClient
from pachca_async.bot import Dispatcher, WebhookReceiver


async def serve(dp: Dispatcher) -> None:
    async with PachcaClient() as pachca:  # PACHCA_TOKEN, PACHCA_BASE_URL from the environment
        secret = os.environ.get("PACHCA_WEBHOOK_SECRET")
        if secret:
            receiver = WebhookReceiver(dp, pachca, secret=secret)
            await receiver.serve(
                host=os.environ.get("HOST", "0.0.0.0"),
                port=int(os.environ.get("PORT", "8080")),
                path=os.environ.get("WEBHOOK_PATH", "/pachca"),
            )
        else:
            await dp.start_polling(pachca)


def run(dp: Dispatcher) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(dp))
