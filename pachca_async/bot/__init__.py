"""Bots on Pachca: a dispatcher with filters and middlewares, fed by webhooks or by polling.

```python
from pachca_async import PachcaClient
from pachca_async.bot import Command, Dispatcher, WebhookReceiver
from pachca_async.webhooks import MessageWebhookPayload

dp = Dispatcher()

@dp.message(Command("start"))
async def start(message: MessageWebhookPayload, pachca: PachcaClient) -> None:
    await pachca.messages.create_message(entity_id=message.chat_id, content="Hello!")

async def main() -> None:
    async with PachcaClient() as pachca:
        await WebhookReceiver(dp, pachca, secret="...").serve(port=8080)  # a public URL
        # or: await dp.start_polling(pachca)                              # no URL needed
```
"""

from ._dispatcher import (
    FAILED,
    UNHANDLED,
    Dispatcher,
    EventHandler,
    EventMiddleware,
    HandlerObject,
    Observer,
    Router,
    observer_name,
)
from ._filters import (
    CallbackId,
    Command,
    CommandObject,
    Filter,
    FilterLike,
    FromChat,
    FromUser,
    Regex,
    text_of,
)
from ._lease import PollingLease
from ._polling import EventPoller, LeaseLost, Pacer, Watermark
from ._receiver import Dedupe, MemoryDedupe, WebhookReceiver, delivery_key

__all__ = [
    "FAILED",
    "UNHANDLED",
    "CallbackId",
    "Command",
    "CommandObject",
    "Dedupe",
    "Dispatcher",
    "EventHandler",
    "EventMiddleware",
    "EventPoller",
    "Filter",
    "FilterLike",
    "FromChat",
    "FromUser",
    "HandlerObject",
    "LeaseLost",
    "MemoryDedupe",
    "Observer",
    "Pacer",
    "PollingLease",
    "Regex",
    "Router",
    "Watermark",
    "WebhookReceiver",
    "delivery_key",
    "observer_name",
    "text_of",
]
