"""`LocalBot`: a bot's dispatcher served on 127.0.0.1, fed signed webhooks by a `FakePachca`."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

from aiohttp import web

from .._client import PachcaClient
from .._exceptions import InvalidRequestError
from ..bot import Dispatcher, WebhookReceiver
from .fake import FakePachca

DEFAULT_SECRET = "test-webhook-secret"


class LocalBot:
    """A bot under test: its `Dispatcher` behind a real `WebhookReceiver` on 127.0.0.1.

    `deliver(payload)` has `api` send a webhook signed with `secret`, as Pachca does, and
    returns once the handlers it started have finished. A handler that raised makes
    `deliver` raise the same exception (the receiver itself only logs it), so a broken
    handler fails the test.

    Args:
        dispatcher: The bot's dispatcher.
        api: The stand-in Pachca that delivers the webhooks.
        pachca: The client the handlers get (one bound to `api`).
        secret: The signing secret shared by the receiver and the deliveries.
        path: Where the receiver listens.
        **receiver_options: Passed to `WebhookReceiver` (`max_pending`, `tolerance`, ...).
    """

    def __init__(
        self,
        dispatcher: Dispatcher,
        api: FakePachca,
        pachca: PachcaClient,
        *,
        secret: str = DEFAULT_SECRET,
        path: str = "/pachca",
        **receiver_options: Any,
    ) -> None:
        self.api = api
        self.receiver = WebhookReceiver(dispatcher, pachca, secret=secret, **receiver_options)
        self.path = path
        self.url = ""
        """`http://127.0.0.1:PORT/path` once started."""
        self._secret = secret
        self._errors: list[Exception] = []
        self._runner: web.AppRunner | None = None

    def __repr__(self) -> str:
        return f"<LocalBot {self.url or 'not started'}>"

    async def start(self) -> None:
        self.receiver.dispatcher.middlewares.insert(0, self._record_errors)
        self._runner = web.AppRunner(
            self.receiver.application(self.path), handle_signals=False, access_log=None
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}{self.path}"

    async def close(self) -> None:
        """Stop serving (running handlers finish first); the dispatcher is left as it was."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        middlewares = self.receiver.dispatcher.middlewares
        if self._record_errors in middlewares:
            middlewares.remove(self._record_errors)

    async def __aenter__(self) -> LocalBot:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def deliver(
        self, payload: Mapping[str, Any] | bytes, *, headers: Mapping[str, str] | None = None
    ) -> tuple[int, str]:
        """Send a signed webhook, wait for its handlers; the receiver's status and text.

        A payload is sent as JSON, bytes as they are; `headers` go on top (a bad signature).
        """
        if not self.url:
            raise InvalidRequestError("start the LocalBot (async with) before delivering to it")
        answer = await self.api.deliver(self.url, payload, secret=self._secret, headers=headers)
        await self.receiver.join()
        if self._errors:
            error, self._errors[:] = self._errors[0], []
            raise error
        return answer

    async def send_message(
        self, content: str, *, chat_id: int, user_id: int, **fields: Any
    ) -> tuple[int, str]:
        """Someone writes `content` in a chat: stored in `api`, then delivered as a webhook."""
        message = self.api.add_message(content, chat_id=chat_id, user_id=user_id, **fields)
        return await self.deliver(self.api.message_event(message))

    async def _record_errors(self, handler: Any, event: Any, data: dict[str, Any]) -> Any:
        # Outermost of the dispatcher's middlewares: sees what no middleware of the bot caught.
        try:
            return await handler(event, data)
        except Exception as error:
            self._errors.append(error)
            raise
