"""File bot: `/report` answers with a CSV made on the fly, `/source` with this script.

    PACHCA_TOKEN=... PACHCA_WEBHOOK_SECRET=... python examples/file_bot.py

Uses the file helpers of `pachca.files`: `upload()` to send any bytes, path or stream once
and attach it to a message, and `send_message()` to do both in one call.
"""

from __future__ import annotations

import csv
import io

from _runner import run

from pachca_async import PachcaClient
from pachca_async.bot import Command, Dispatcher
from pachca_async.webhooks import MessageWebhookPayload

dp = Dispatcher()


def weekly_report() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["day", "messages"])
    writer.writerows([("Mon", 120), ("Tue", 98), ("Wed", 143)])
    return out.getvalue().encode()


@dp.message(Command("report"))
async def report(message: MessageWebhookPayload, pachca: PachcaClient) -> None:
    uploaded = await pachca.files.upload(
        weekly_report(), name="report.csv", content_type="text/csv"
    )
    await pachca.messages.create_message(
        entity_type=message.entity_type,
        entity_id=message.entity_id,
        content="This week's report",
        files=[uploaded],
    )


@dp.message(Command("source"))
async def source(message: MessageWebhookPayload, pachca: PachcaClient) -> None:
    await pachca.files.send_message(
        entity_id=message.chat_id, content="My source code", files=[__file__]
    )


if __name__ == "__main__":
    run(dp)
