"""Routers and the dispatcher: which handler an event goes to, and what runs around it.

```python
dp = Dispatcher()

@dp.message(Command("start"))
async def start(message: MessageWebhookPayload, pachca: PachcaClient) -> None:
    await pachca.messages.create_message(entity_id=message.chat_id, content="Hi!")
```

Each kind of event has an observer (`dp.message`, `dp.button_click`, ...). An event goes to
the first handler, in registration order (the router's own, then its sub-routers'), whose
filters all pass. Handlers receive the typed payload first, then by parameter name anything
from the context: `pachca` (the client), `update` (the `Update` envelope), `trigger` (button
clicks), `answer` (form submissions), `command` / `match` (from filters), the dispatcher's
own data, and whatever middlewares add (declared with a default). A name nothing provides
fails at registration.

Middlewares are `async def mw(handler, event, data)` and call `await handler(event, data)`:
`dp.middleware(mw)` wraps every update before routing; `router.<observer>.middleware(mw)`
wraps that observer's handlers once their filters passed.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, TypeAlias, TypeVar

import attrs

from .._exceptions import InvalidRequestError
from .._generated.routes import OBSERVERS, ROUTES, WebhookObservers
from ..forms import TRIGGER_LIFETIME, FormAnswer, FormErrors, Trigger, answer_form
from ..webhooks import (
    ButtonWebhookPayload,
    MessageWebhookPayload,
    UnknownWebhookPayload,
    Update,
    ViewSubmitWebhookPayload,
    WebhookPayload,
)
from ._callable import CallableObject
from ._filters import FilterLike, check_all, provided
from ._lifecycle import stop_on_signals, until

if TYPE_CHECKING:
    from .._client import PachcaClient
    from ._lease import PollingLease
    from ._polling import EventPoller

logger = logging.getLogger("pachca_async.bot")

F = TypeVar("F", bound=Callable[..., Any])

EventHandler: TypeAlias = Callable[[Any, dict[str, Any]], Awaitable[Any]]
"""What a middleware calls next: `await handler(event, data)`."""
EventMiddleware: TypeAlias = Callable[[EventHandler, Any, dict[str, Any]], Awaitable[Any]]
"""`async def middleware(handler, event, data)`: runs code around the rest of the chain."""


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


UNHANDLED: Final = _Marker("UNHANDLED")
"""What `feed_update` returns when no handler took the event."""
FAILED: Final = _Marker("FAILED")
"""What `process` returns when the handler raised (the error is logged)."""


_CONTEXT = frozenset({"pachca", "update", "dispatcher"})
"""What every handler may ask for by name (besides filters' and the dispatcher's data)."""
_OBSERVER_CONTEXT: Mapping[str, frozenset[str]] = {
    "button_click": frozenset({"trigger"}),
    "view_submit": frozenset({"answer"}),
}


def observer_name(payload: WebhookPayload) -> str:
    """Which observer handles `payload` (`unknown` for kinds this SDK does not know).

    The routes are generated from `codegen/overlay.yaml`, by the payload's (`type`, `event`).
    """
    if isinstance(payload, UnknownWebhookPayload):
        return "unknown"
    kind, event = _wire(payload, "type"), _wire(payload, "event")
    return ROUTES.get((kind, event)) or ROUTES.get((kind, "*")) or "unknown"


def _wire(payload: Any, key: str) -> str:
    """The value a payload carries under JSON key `key` (`type` is the attribute `type_`)."""
    value = getattr(payload, key + "_", None) or getattr(payload, key, "")
    return str(getattr(value, "value", value))


def _received(update: Update) -> float:
    """When `update` reached the bot, on the loop's clock; now, when its source did not say."""
    if update.received_at is None:
        return asyncio.get_running_loop().time()
    return update.received_at


def api_answer(pachca: PachcaClient, payload: ViewSubmitWebhookPayload) -> FormAnswer:
    """A `FormAnswer` given through `views.submit_view_response` (a submission read by polling).

    No deadline is kept here: Pachca does not say one, and refuses a late answer itself.
    """

    async def deliver(errors: FormErrors | None) -> None:
        await answer_form(pachca, payload, errors)

    return FormAnswer(payload.view_id, payload.submit_id, deliver)


def _chain(middlewares: list[EventMiddleware], handler: EventHandler) -> EventHandler:
    for middleware in reversed(middlewares):
        handler = functools.partial(middleware, handler)
    return handler


@attrs.frozen
class HandlerObject:
    """A registered handler and its filters."""

    callback: CallableObject
    filters: tuple[CallableObject, ...]

    async def match(self, event: Any, data: Mapping[str, Any]) -> dict[str, Any] | None:
        """The context the filters add, or `None` when one of them says no."""
        return await check_all(self.filters, event, data)


class Observer:
    """The handlers of one kind of event in one router; use it as a decorator."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.handlers: list[HandlerObject] = []
        self.middlewares: list[EventMiddleware] = []
        self.router: Router | None = None

    def __call__(self, *filters: FilterLike) -> Callable[[F], F]:
        """`@router.message(Command("start"))`: register the decorated function."""

        def decorate(callback: F) -> F:
            return self.register(callback, *filters)

        return decorate

    def register(self, callback: F, *filters: FilterLike) -> F:
        """Register `callback` for events passing all `filters`."""
        wrapped = tuple(CallableObject(f) for f in filters)
        handler = HandlerObject(CallableObject(callback), wrapped)
        if self.router is not None:
            self.router.check_handler(self.name, handler)
        self.handlers.append(handler)
        return callback

    def middleware(self, middleware: EventMiddleware) -> EventMiddleware:
        """Wrap this observer's handlers (after their filters passed); usable as a decorator."""
        self.middlewares.append(middleware)
        return middleware

    async def trigger(self, event: Any, data: dict[str, Any]) -> Any:
        """Run the first handler whose filters pass; `UNHANDLED` if none does."""
        for handler in self.handlers:
            extra = await handler.match(event, data)
            if extra is not None:
                return await _chain(self.middlewares, handler.callback)(event, {**data, **extra})
        return UNHANDLED

    def __repr__(self) -> str:
        return f"<Observer {self.name}: {len(self.handlers)} handler(s)>"


class Router(WebhookObservers):
    """A group of handlers; include routers in one another to split a bot into modules."""

    def __init__(self, *, name: str | None = None) -> None:
        self.name = name or f"router-{id(self):x}"
        self.parent: Router | None = None
        self.sub_routers: list[Router] = []
        for name in OBSERVERS:  # one per kind of event, from codegen/overlay.yaml
            setattr(self, name, Observer(name))
        for observer in self.observers.values():
            observer.router = self

    @property
    def observers(self) -> dict[str, Observer]:
        return {name: o for name, o in vars(self).items() if isinstance(o, Observer)}

    def include_router(self, router: Router) -> Router:
        """Route events to `router`'s handlers after this router's own; returns `router`."""
        if router.parent is not None:
            raise InvalidRequestError(f"{router.name} is already included in {router.parent.name}")
        ancestor: Router | None = self
        while ancestor is not None:
            if ancestor is router:
                raise InvalidRequestError(f"including {router.name} in {self.name} makes a loop")
            ancestor = ancestor.parent
        for sub in router.routers():  # now a dispatcher may be known: check what it must fill
            for kind, observer in sub.observers.items():
                for handler in observer.handlers:
                    self.check_handler(kind, handler)
        router.parent = self
        self.sub_routers.append(router)
        return router

    def routers(self) -> list[Router]:
        """This router and every router included in it, at any depth."""
        return [self, *(r for sub in self.sub_routers for r in sub.routers())]

    def check_handler(self, kind: str, handler: HandlerObject) -> None:
        """Refuse a handler asking for a name its dispatcher cannot fill (once there is one),
        at registration rather than when an event comes."""
        root = self
        while root.parent is not None:
            root = root.parent
        if isinstance(root, Dispatcher):
            root.check_context(kind, handler)

    def include_routers(self, *routers: Router) -> None:
        for router in routers:
            self.include_router(router)

    async def propagate(self, kind: str, event: Any, data: dict[str, Any]) -> Any:
        """Offer `event` to this router's `kind` observer, then to the sub-routers'."""
        observer: Observer = getattr(self, kind)
        result = await observer.trigger(event, data)
        if result is not UNHANDLED:
            return result
        for router in self.sub_routers:
            result = await router.propagate(kind, event, data)
            if result is not UNHANDLED:
                return result
        return UNHANDLED

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


class Dispatcher(Router):
    """The root router: takes updates from a source (webhook receiver, poller) to handlers.

    Args:
        bot_id: The bot's user id; looked up with the client's token when needed.
        ignore_own_messages: Skip message events the bot itself caused (no echo loops).
        **data: Handed to every handler and middleware that asks for it by name.
    """

    def __init__(
        self,
        *,
        bot_id: int | None = None,
        ignore_own_messages: bool = True,
        name: str | None = None,
        **data: Any,
    ) -> None:
        super().__init__(name=name or "dispatcher")
        self.bot_id = bot_id
        self.ignore_own_messages = ignore_own_messages
        self.data: dict[str, Any] = data
        self.middlewares: list[EventMiddleware] = []
        self._bot_id_lock = asyncio.Lock()
        self._stop: asyncio.Event | None = None

    def check_context(self, kind: str, handler: HandlerObject) -> None:
        """Raise `InvalidRequestError` naming what `handler` asks for that nothing provides."""
        callback = handler.callback
        if callback.accepts_all:
            return
        available = _CONTEXT.union(
            _OBSERVER_CONTEXT.get(kind, ()), self.data, *provided(handler.filters)
        )
        missing = sorted(callback.required - available)
        if missing:
            raise InvalidRequestError(
                f"{kind} handler {callback!r} asks for {', '.join(map(repr, missing))}, which "
                f"nothing provides; it can ask for {', '.join(sorted(available))}. A value a "
                f"middleware adds needs a default, on the parameter or as "
                f"Dispatcher({missing[0]}=...)"
            )

    def middleware(self, middleware: EventMiddleware) -> EventMiddleware:
        """Wrap the routing of every update (before filters); usable as a decorator."""
        self.middlewares.append(middleware)
        return middleware

    async def resolve_bot_id(self, pachca: PachcaClient) -> int | None:
        """The bot's own user id (asked once from the token), when own messages are ignored."""
        if self.bot_id is None and self.ignore_own_messages:
            async with self._bot_id_lock:
                if self.bot_id is None:
                    self.bot_id = (await pachca.oauth.get_token_info()).user_id
        return self.bot_id

    async def feed_update(self, pachca: PachcaClient, update: Update, **data: Any) -> Any:
        """Route one update to its handler; returns what the handler returned.

        Raises whatever the handler raises. `UNHANDLED` when no handler took it, or when it is
        the bot's own message.
        """
        payload = update.payload
        if (
            self.ignore_own_messages
            and isinstance(payload, MessageWebhookPayload)
            and payload.user_id == await self.resolve_bot_id(pachca)
        ):
            logger.debug("ignoring the bot's own message %s", payload.id)
            return UNHANDLED
        kind = observer_name(payload)
        context = {**self.data, **data, "pachca": pachca, "update": update, "dispatcher": self}
        if isinstance(payload, ButtonWebhookPayload):
            context["trigger"] = Trigger(payload.trigger_id, _received(update) + TRIGGER_LIFETIME)
        if isinstance(payload, ViewSubmitWebhookPayload) and "answer" not in context:
            context["answer"] = api_answer(pachca, payload)

        async def route(event: Any, data: dict[str, Any]) -> Any:
            return await self.propagate(kind, event, data)

        result = await _chain(self.middlewares, route)(payload, context)
        if result is UNHANDLED:
            logger.debug("no handler took %s/%s", update.type, update.event)
        return result

    async def process(
        self, pachca: PachcaClient, update: Update, *, answer: FormAnswer | None = None
    ) -> Any:
        """`feed_update`, but a handler's exception is logged, not raised (for sources).

        A form submission is answered once its handler returned without answering: with the
        `FormErrors` it returned, or closed (not when it raised: the user may send it again).
        `answer` says where the answer goes; through the API when not given.
        """
        payload = update.payload
        if answer is None and isinstance(payload, ViewSubmitWebhookPayload):
            answer = api_answer(pachca, payload)
        extra = {} if answer is None else {"answer": answer}
        try:
            result = await self.feed_update(pachca, update, **extra)
        except Exception:
            logger.exception("handler failed on a %s/%s event", update.type, update.event)
            return FAILED
        if answer is not None and not answer.answered:
            try:
                await answer(result if isinstance(result, FormErrors) else None)
            except Exception:
                logger.exception("could not answer form submission %s", answer.submit_id)
        return result

    async def start_polling(
        self,
        pachca: PachcaClient,
        *,
        poller: EventPoller | None = None,
        lease: PollingLease | None = None,
        handle_signals: bool = True,
        **options: Any,
    ) -> None:
        """Handle events read from the bot's event history until stopped; no public URL needed.

        Events run one at a time, oldest first; each is deleted from the history (unless
        `delete=False`) once its handler finished, also when it raised (the error is logged;
        like an answered webhook, the event is not repeated). `options` go to `EventPoller`
        (`interval`, `watermark`, `on_watermark`, ...). With a `lease`
        (`pachca_async.redis.RedisPollingLease`) several replicas may run this: one polls at a
        time, the others take over when it stops or dies. Stops on SIGINT/SIGTERM or
        `stop_polling()`, after the running handler finished.
        """
        from ._polling import EventPoller

        if lease is not None and poller is not None:
            raise InvalidRequestError("pass `poller` or `lease`, not both")
        await self.resolve_bot_id(pachca)
        self._stop = stop = asyncio.Event()
        with stop_on_signals(stop, enabled=handle_signals):
            logger.info("polling the event history of the bot")
            if lease is None:
                await self.poll(pachca, poller or EventPoller(pachca, **options), stop)
            else:
                from ._lease import poll_with_lease

                await poll_with_lease(self, pachca, lease, stop, options)
        logger.info("polling stopped")

    async def poll(self, pachca: PachcaClient, poller: EventPoller, stop: asyncio.Event) -> None:
        """Handle what `poller` reads until `stop` is set (the loop of `start_polling`)."""
        while not stop.is_set():
            updates = await until(stop, poller.poll())
            for update in updates or ():
                await poller.check_guard()
                await self.process(pachca, update)
                await poller.done(update)
                if stop.is_set():
                    break
            if not updates:
                await until(stop, asyncio.sleep(poller.interval))

    def stop_polling(self) -> None:
        """Make `start_polling` return once the running handler finished."""
        if self._stop is not None:
            self._stop.set()
