"""Unfurl bot: shows a preview under links to a tracked domain (here, an issue tracker).

    PACHCA_TOKEN=... PACHCA_WEBHOOK_SECRET=... python examples/unfurl_bot.py

Create the bot as an "Unfurl bot", list the tracker's domain, and enable link events.
"""

from __future__ import annotations

import re

from _runner import run

from pachca_async import PachcaClient
from pachca_async.bot import Dispatcher
from pachca_async.models import LinkPreview
from pachca_async.webhooks import LinkSharedWebhookPayload

ISSUE = re.compile(r"/issues/(\d+)")
ISSUES = {"101": "Login fails on Safari", "102": "Export is slow"}  # your service goes here

dp = Dispatcher()


@dp.link_shared()
async def preview(event: LinkSharedWebhookPayload, pachca: PachcaClient) -> None:
    previews = {}
    for link in event.links:
        found = ISSUE.search(link.url)
        if link.skip or not found or found.group(1) not in ISSUES:
            continue  # `skip`: the author hid this link's preview
        number = found.group(1)
        previews[link.url] = LinkPreview(title=f"Issue #{number}", description=ISSUES[number])
    if previews:
        await pachca.messages.unfurl(event.message_id, link_previews=previews)


if __name__ == "__main__":
    run(dp)
