"""An aiohttp.web endpoint that receives Pachca's webhooks and feeds them to a dispatcher.

```python
receiver = WebhookReceiver(dp, pachca, secret=os.environ["PACHCA_WEBHOOK_SECRET"])
receiver.mount(app, "/pachca")                     # in an existing aiohttp application
await receiver.serve(port=8080, path="/pachca")    # or on its own
```

Per delivery: check the sender's address (when an allowlist is given) and the body size,
verify the signature and timestamp, drop a repeated delivery (Pachca delivers at least once),
then answer 200 at once and run the handler in a background task. A form submission is the
exception: its handler's verdict is the answer (400 with field errors, or 200 to close the
form), so it is awaited, for at most `submit_timeout` seconds: the handler's `answer(...)`,
or else what it returns. When `max_pending` handlers are
already running the answer is 503, and Pachca delivers again later. On shutdown, running
handlers get `shutdown_timeout` seconds to finish.

| answer | when |
|--------|------|
| 200 | accepted (or a repeat, or the bot's own message: ignored) |
| 400 | body not JSON (or nested too deep); or field errors from a form handler |
| 401 | signature missing, malformed or wrong; timestamp stale or in the future |
| 403 | sender address not in `allowed_ips` |
| 408 | body not received within `body_timeout` (the connection is then closed) |
| 413 | body larger than `max_body_size` |
| 500 | a form submission handler raised |
| 503 | too many handlers running, or shutting down |
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import ipaddress
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, cast

from aiohttp import web

from .._exceptions import InvalidRequestError
from ..forms import FormAnswer, FormErrors
from ..webhooks import (
    DEFAULT_TOLERANCE,
    ExportWebhookPayload,
    Failure,
    Update,
    ViewSubmitWebhookPayload,
    WebhookVerificationError,
    parse_update,
    parse_webhook,
)
from ._dispatcher import Dispatcher
from ._lifecycle import stop_on_signals

if TYPE_CHECKING:
    from .._client import PachcaClient

logger = logging.getLogger("pachca_async.bot")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
FIRST = asyncio.FIRST_COMPLETED


class Dedupe(Protocol):
    """Remembers which deliveries were taken, so a repeat is not handled twice. A receiver has
    one in memory by default; `pachca_async.redis.RedisDedupe` shares one between replicas."""

    async def claim(self, key: bytes) -> bool:
        """True if `key` was not taken yet (it is now), False for a repeat."""
        ...

    async def forget(self, key: bytes) -> None:
        """Undo a claim: the delivery was refused (503) and Pachca will deliver it again."""
        ...


class MemoryDedupe:
    """Keys taken in the last `ttl` seconds (at most `size` of them), on the loop's clock."""

    def __init__(self, ttl: float, size: int = 100_000) -> None:
        self.ttl = ttl
        self.size = size
        self._expiry: collections.OrderedDict[bytes, float] = collections.OrderedDict()

    async def claim(self, key: bytes) -> bool:
        now = asyncio.get_running_loop().time()
        while self._expiry and next(iter(self._expiry.values())) <= now:
            self._expiry.popitem(last=False)
        if key in self._expiry:
            return False
        self._expiry[key] = now + self.ttl
        while len(self._expiry) > self.size:
            self._expiry.popitem(last=False)
        return True

    async def forget(self, key: bytes) -> None:
        self._expiry.pop(key, None)


def delivery_key(raw: Mapping[str, Any]) -> bytes:
    """What makes two deliveries the same event: the payload without its send time."""
    content = {k: v for k, v in raw.items() if k != "webhook_timestamp"}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).digest()


class WebhookReceiver:
    """Receives Pachca's webhooks over HTTP and hands them to `dispatcher`.

    Args:
        dispatcher: Where updates go.
        pachca: The client handlers get as `pachca`.
        secret: The bot's signing secret (bot settings → outgoing webhook).
        tolerance: Seconds `webhook_timestamp` may be off from now.
        max_body_size: Bytes; larger bodies get 413 unread.
        body_timeout: Seconds a sender gets to deliver the whole body; a slower one gets 408
            and its connection is closed, so slow senders cannot hold connections. `None`
            waits forever (behind a proxy that enforces its own deadline).
        max_pending: Handlers running at once before deliveries get 503.
        allowed_ips: Addresses or networks allowed to deliver (`webhooks.PACHCA_IPS` is what
            Pachca documents); `None` allows any. Behind a reverse proxy, make aiohttp see
            the client's address (`request.remote`) first.
        dedup_ttl, dedup_size: How long and how many delivery keys are remembered.
        dedupe: Where they are remembered: in this process by default, or shared by several
            replicas (`pachca_async.redis.RedisDedupe`; then `dedup_*` are not used).
        submit_timeout: Seconds to wait for a form submission's verdict (Pachca waits 3).
        shutdown_timeout: Seconds running handlers get to finish on shutdown.
        wall_clock: Current Unix time, for the timestamp check.
    """

    def __init__(
        self,
        dispatcher: Dispatcher,
        pachca: PachcaClient,
        *,
        secret: str,
        tolerance: float = DEFAULT_TOLERANCE,
        max_body_size: int = 1 << 20,
        body_timeout: float | None = 10.0,
        max_pending: int = 100,
        allowed_ips: Iterable[str] | None = None,
        dedup_ttl: float = 3600.0,
        dedup_size: int = 100_000,
        dedupe: Dedupe | None = None,
        submit_timeout: float = 2.5,
        shutdown_timeout: float = 30.0,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if not secret:
            raise InvalidRequestError("WebhookReceiver needs the bot's signing secret")
        self.dispatcher = dispatcher
        self.pachca = pachca
        self._secret = secret
        self.tolerance = tolerance
        self.max_body_size = max_body_size
        self.body_timeout = body_timeout
        self.max_pending = max_pending
        self.allowed: tuple[IPNetwork, ...] | None = (
            None if allowed_ips is None else tuple(ipaddress.ip_network(ip) for ip in allowed_ips)
        )
        self.submit_timeout = submit_timeout
        self.shutdown_timeout = shutdown_timeout
        self._wall_clock = wall_clock
        self.dedupe: Dedupe = dedupe or MemoryDedupe(dedup_ttl, dedup_size)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False

    def __repr__(self) -> str:
        return f"<WebhookReceiver pending={len(self._tasks)} dispatcher={self.dispatcher!r}>"

    @property
    def pending(self) -> int:
        """Handlers running now."""
        return len(self._tasks)

    # -- wiring ----------------------------------------------------------------------------

    def mount(
        self, app: web.Application, path: str = "/", *, export_path: str | None = None
    ) -> None:
        """Add the webhook route (and its startup/shutdown hooks) to `app`.

        `export_path` adds a route for the export-ready callback, which Pachca does not sign:
        give `chats.request_export` a URL with a long random path there.
        """
        app.router.add_post(path, self.handle)
        if export_path is not None:
            app.router.add_post(export_path, self.handle_export)
        app.on_startup.append(self._on_startup)
        app.on_shutdown.append(self._on_shutdown)

    def application(self, path: str = "/", **options: Any) -> web.Application:
        """A new aiohttp application with only this receiver mounted."""
        app = web.Application(**options)
        self.mount(app, path)
        return app

    async def serve(
        self,
        host: str = "0.0.0.0",
        port: int = 8080,
        path: str = "/",
        *,
        handle_signals: bool = True,
    ) -> None:
        """Serve until cancelled or signalled (SIGINT/SIGTERM), then shut down gracefully."""
        runner = web.AppRunner(self.application(path), handle_signals=False)
        await runner.setup()
        stop = asyncio.Event()
        try:
            await web.TCPSite(runner, host, port).start()
            for bound in runner.addresses:
                logger.info("listening on http://%s:%s%s", bound[0], bound[1], path)
            with stop_on_signals(stop, enabled=handle_signals):
                await stop.wait()
        finally:
            await runner.cleanup()

    async def join(self) -> None:
        """Wait until no handler is running (deliveries are still accepted meanwhile)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def close(self) -> None:
        """Refuse new deliveries (503) and wait for running handlers (cancelled after the
        shutdown timeout)."""
        self._closing = True
        if self._tasks:
            logger.info("waiting for %d running handler(s)", len(self._tasks))
            _, late = await asyncio.wait(set(self._tasks), timeout=self.shutdown_timeout)
            for task in late:
                task.cancel()
            if late:
                logger.warning("cancelled %d handler(s) still running at shutdown", len(late))
                await asyncio.wait(late)

    async def _on_startup(self, app: web.Application) -> None:
        self._closing = False
        await self.dispatcher.resolve_bot_id(self.pachca)

    async def _on_shutdown(self, app: web.Application) -> None:
        await self.close()

    # -- deliveries ------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        """The aiohttp handler for signed webhook deliveries."""
        arrived = asyncio.get_running_loop().time()
        body = await self._admit(request)
        if isinstance(body, web.Response):
            return body
        try:
            update = parse_webhook(
                body,
                request.headers,
                self._secret,
                tolerance=self.tolerance,
                now=self._wall_clock(),
            )
        except WebhookVerificationError as error:
            logger.warning("rejected a delivery from %s: %s", request.remote, error)
            status = 400 if error.failure is Failure.NOT_JSON else 401
            return web.Response(status=status, text=str(error))
        return await self._accept(
            Update(payload=update.payload, raw=update.raw, received_at=arrived)
        )

    async def handle_export(self, request: web.Request) -> web.Response:
        """The aiohttp handler for the (unsigned) export-ready callback."""
        body = await self._admit(request)
        if isinstance(body, web.Response):
            return body
        try:
            update = parse_update(body)
        except WebhookVerificationError as error:
            return web.Response(status=400, text=str(error))
        if not isinstance(update.payload, ExportWebhookPayload):
            logger.warning("rejected a %s/%s event on the export route", update.type, update.event)
            return web.Response(status=400, text="only export/ready events are accepted here")
        return await self._accept(update)

    async def _admit(self, request: web.Request) -> bytes | web.Response:
        """The body, or the answer refusing the delivery before it is verified."""
        if self.allowed is not None and not _address_in(request.remote, self.allowed):
            logger.warning("rejected a delivery from %s: address not allowed", request.remote)
            return web.Response(status=403, text="address not allowed")
        too_large = web.Response(status=413, text=f"body over {self.max_body_size} bytes")
        if (request.content_length or 0) > self.max_body_size:
            return too_large
        body = bytearray()
        try:
            async with asyncio.timeout(self.body_timeout):
                async for chunk in request.content.iter_chunked(1 << 16):
                    body += chunk
                    if len(body) > self.max_body_size:
                        return too_large
        except TimeoutError:
            logger.warning("dropped a delivery from %s: body too slow", request.remote)
            return await _hang_up(request, 408, f"body not received in {self.body_timeout:g} s")
        return bytes(body)

    async def _accept(self, update: Update) -> web.Response:
        submit = isinstance(update.payload, ViewSubmitWebhookPayload)
        # A form is submitted again only by the user, on purpose (after errors or a failed
        # answer): that is not a repeated delivery, and it needs a fresh verdict.
        key = None if submit else delivery_key(update.raw)
        if key is not None and not await self.dedupe.claim(key):
            logger.debug("ignoring a repeated %s/%s delivery", update.type, update.event)
            return web.Response(text="duplicate")
        refusal = None
        if self._closing:
            refusal = _busy("shutting down")
        elif len(self._tasks) >= self.max_pending:
            logger.warning("%d handlers running: answering 503", len(self._tasks))
            refusal = _busy("too many events in progress")
        if refusal is not None:
            if key is not None:
                await self.dedupe.forget(key)  # it comes again: handle it then
            return refusal
        if submit:
            return await self._verdict(cast(ViewSubmitWebhookPayload, update.payload), update)
        self._spawn(update)
        return web.Response(text="ok")

    def _spawn(self, update: Update, answer: FormAnswer | None = None) -> asyncio.Task[Any]:
        task = asyncio.create_task(self.dispatcher.process(self.pachca, update, answer=answer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _verdict(self, submission: ViewSubmitWebhookPayload, update: Update) -> web.Response:
        """The answer to a form submission: what its handler decided, in time.

        The handler's `answer(...)` (or, once it returned, what it returned) resolves the HTTP
        answer; the handler may go on working after it.
        """
        loop = asyncio.get_running_loop()
        verdict: asyncio.Future[FormErrors | None] = loop.create_future()

        async def deliver(errors: FormErrors | None) -> None:
            verdict.set_result(errors)

        expires_at = loop.time() + self.submit_timeout
        answer = FormAnswer(
            submission.view_id, submission.submit_id, deliver, expires_at=expires_at
        )
        task = self._spawn(update, answer)
        await asyncio.wait({verdict, task}, timeout=self.submit_timeout, return_when=FIRST)
        if verdict.done():
            errors = verdict.result()
            if errors is not None:
                return web.json_response(errors.body(), status=400)
            return web.Response(text="ok")
        if task.done():  # the handler raised (or could not answer): Pachca lets the user retry
            return web.Response(status=500, text="handler failed")
        answer.close()
        logger.warning(
            "form handler gave no verdict in %.1f s: closing the form, the handler goes on",
            self.submit_timeout,
        )
        return web.Response(text="ok")


async def _hang_up(request: web.Request, status: int, reason: str) -> web.Response:
    """Answer, then close the connection without reading the rest of the body (aiohttp would
    otherwise go on reading it for a while, which is what a slow sender wants)."""
    response = web.Response(status=status, text=reason, headers={"Connection": "close"})
    await response.prepare(request)
    await response.write_eof()
    request.protocol.force_close()
    return response


def _busy(reason: str) -> web.Response:
    return web.Response(status=503, text=reason, headers={"Retry-After": "1"})


def _address_in(remote: str | None, networks: tuple[IPNetwork, ...]) -> bool:
    try:
        address = ipaddress.ip_address(remote or "")
    except ValueError:
        return False
    return any(address in network for network in networks)
