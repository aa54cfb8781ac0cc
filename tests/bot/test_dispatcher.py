"""The dispatcher: routing by event kind, filters, context injection, routers, middlewares."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest

from pachca_async import InvalidRequestError
from pachca_async.bot import (
    FAILED,
    UNHANDLED,
    CallbackId,
    Command,
    CommandObject,
    Dispatcher,
    EventHandler,
    FromChat,
    FromUser,
    Regex,
    Router,
)
from pachca_async.forms import Trigger
from pachca_async.webhooks import (
    ButtonWebhookPayload,
    MessageWebhookPayload,
    UnknownWebhookPayload,
    Update,
    parse_payload,
)

from .fake_api import BOT_ID, SAMPLES, click, message, submit

PACHCA: Any = SimpleNamespace(name="client")


def update(payload: dict[str, Any], **extra: Any) -> Update:
    return Update(payload=parse_payload(payload), raw=payload, **extra)


async def feed(dp: Dispatcher, payload: dict[str, Any], **extra: Any) -> Any:
    return await dp.feed_update(PACHCA, update(payload, **extra))


async def test_each_kind_goes_to_its_observer() -> None:
    dp = Dispatcher(bot_id=BOT_ID)
    seen: list[str] = []
    for name in dp.observers:
        dp.observers[name].register(lambda event, name=name: seen.append(name) or name)
    expected = [
        "message",
        "message_edited",
        "message_deleted",
        "reaction",
        "button_click",
        "view_submit",
        "chat_member",
        "company_member",
        "link_shared",
        "video_call",
        "export_ready",
    ]
    for (payload, _), name in zip(SAMPLES, expected, strict=True):
        assert await feed(dp, payload) == name
    assert await feed(dp, {"type": "poll", "event": "vote"}) == "unknown"
    assert await feed(dp, {**message(), "event": "pin"}) == "unknown"
    assert seen == [*expected, "unknown", "unknown"]
    assert sorted(dp.observers) == sorted([*expected, "unknown"])


async def test_first_matching_handler_wins_and_filters_add_context() -> None:
    dp = Dispatcher(bot_id=BOT_ID)
    calls: list[Any] = []

    @dp.message(Command("start", "help"))
    async def start(msg: MessageWebhookPayload, command: CommandObject) -> str:
        calls.append((command.name, command.args))
        return "start"

    @dp.message(Regex(r"order #(\d+)"))
    async def order(msg: MessageWebhookPayload, match: re.Match[str]) -> str:
        calls.append(match.group(1))
        return "order"

    @dp.message()
    def fallback(msg: MessageWebhookPayload) -> str:  # plain functions work too
        return "fallback"

    assert await feed(dp, message("/start  now please")) == "start"
    assert await feed(dp, message("/HELP")) == "start"
    assert await feed(dp, message("see order #42 and /start")) == "order"
    assert await feed(dp, message("/startle")) == "fallback"
    assert await feed(dp, message("start")) == "fallback"
    assert await feed(dp, message("   ")) == "fallback"
    assert calls == [("start", "now please"), ("HELP", ""), "42"]


async def test_chat_user_callback_and_custom_filters_combine() -> None:
    dp = Dispatcher(bot_id=BOT_ID)

    async def is_vip(event: Any, vips: set[int]) -> bool:  # async, and asks for context
        return event.user_id in vips

    dp.message.register(lambda m: "vip", is_vip)
    dp.message.register(lambda m: "team", FromChat(1, 2) & ~FromUser(9))
    dp.message.register(lambda m: "either", FromUser(9) | Regex("^hey"))
    dp.button_click.register(lambda c: "vote", lambda c: c.data.startswith("vote:"))
    dp.view_submit.register(lambda s: "feedback", CallbackId("feedback"))
    dp.data["vips"] = {5}

    assert await feed(dp, message(user_id=5, chat_id=1)) == "vip"
    assert await feed(dp, message(user_id=6, chat_id=2)) == "team"
    assert await feed(dp, message(user_id=9, chat_id=2)) == "either"
    assert await feed(dp, message("hey", user_id=6, chat_id=3)) == "either"
    assert await feed(dp, message("yo", user_id=6, chat_id=3)) is UNHANDLED
    assert await feed(dp, click("vote:yes")) == "vote"
    assert await feed(dp, click("other")) is UNHANDLED
    assert await feed(dp, submit("feedback", {})) == "feedback"
    assert await feed(dp, submit("survey", {})) is UNHANDLED


async def test_handlers_get_the_context_they_name() -> None:
    dp = Dispatcher(bot_id=BOT_ID, db="database")
    got: dict[str, Any] = {}

    @dp.button_click()
    async def clicked(
        event: ButtonWebhookPayload, pachca: Any, update: Update, trigger: Trigger, db: str
    ) -> None:
        got.update(event=event, pachca=pachca, update=update, trigger=trigger, db=db)

    @dp.unknown()
    async def anything(event: UnknownWebhookPayload, **context: Any) -> None:
        got["context"] = sorted(context)

    await feed(dp, click("x", trigger_id="t-9"), received_at=100.0)
    assert got["pachca"] is PACHCA
    assert got["db"] == "database"
    assert isinstance(got["event"], ButtonWebhookPayload)
    assert got["update"].payload is got["event"]
    assert got["trigger"] == Trigger("t-9", 103.0)
    await feed(dp, {"type": "new", "event": "thing"})
    assert got["context"] == ["db", "dispatcher", "pachca", "update"]


async def test_routers_nest_and_are_tried_in_order() -> None:
    dp = Dispatcher(bot_id=BOT_ID)
    admin, users = Router(name="admin"), Router(name="users")
    dp.include_routers(admin, users)
    inner = users.include_router(Router(name="inner"))
    admin.message.register(lambda m: "admin", FromUser(1))
    users.message.register(lambda m: "users", FromChat(3))
    inner.message.register(lambda m: "inner")
    dp.message.register(lambda m: "root", Command("root"))

    assert await feed(dp, message("/root", user_id=1)) == "root"
    assert await feed(dp, message(user_id=1)) == "admin"
    assert await feed(dp, message(user_id=2, chat_id=3)) == "users"
    assert await feed(dp, message(user_id=2, chat_id=4)) == "inner"
    with pytest.raises(ValueError, match="already included"):
        dp.include_router(inner)
    with pytest.raises(ValueError, match="makes a loop"):
        inner.include_router(dp)


async def test_middlewares_wrap_updates_and_handlers() -> None:
    dp = Dispatcher(bot_id=BOT_ID, user=None)  # declared: a middleware fills it in
    order: list[str] = []

    @dp.middleware
    async def outer(handler: EventHandler, event: Any, data: dict[str, Any]) -> Any:
        order.append("outer in")
        data["user"] = f"user-{event.user_id}"
        result = await handler(event, data)
        order.append("outer out")
        return result

    @dp.message.middleware
    async def inner(handler: EventHandler, event: Any, data: dict[str, Any]) -> Any:
        order.append(f"inner sees {data['command'].name}")
        return f"<{await handler(event, data)}>"

    @dp.message(Command("go"))
    async def go(msg: MessageWebhookPayload, user: str) -> str:
        order.append("handler")
        return user

    assert await feed(dp, message("/go", user_id=3)) == "<user-3>"
    assert order == ["outer in", "inner sees go", "handler", "outer out"]

    order.clear()
    assert await feed(dp, message("no command")) is UNHANDLED
    assert order == ["outer in", "outer out"]  # inner middlewares run only for a match


async def test_a_middleware_can_stop_an_update() -> None:
    dp = Dispatcher(bot_id=BOT_ID)

    @dp.middleware
    async def only_chat_1(handler: EventHandler, event: Any, data: dict[str, Any]) -> Any:
        if getattr(event, "chat_id", None) != 1:
            return "blocked"
        return await handler(event, data)

    dp.message.register(lambda m: "handled")
    assert await feed(dp, message(chat_id=2)) == "blocked"
    assert await feed(dp, message(chat_id=1)) == "handled"


async def test_own_messages_are_ignored_with_the_id_looked_up_once() -> None:
    lookups: list[int] = []

    async def get_token_info() -> Any:
        lookups.append(1)
        return SimpleNamespace(user_id=BOT_ID)

    pachca: Any = SimpleNamespace(oauth=SimpleNamespace(get_token_info=get_token_info))
    dp = Dispatcher()
    dp.message.register(lambda m: "handled")
    dp.button_click.register(lambda c: "clicked")
    own = update(message(user_id=BOT_ID))
    assert await dp.feed_update(pachca, own) is UNHANDLED
    assert await dp.feed_update(pachca, update(message(user_id=7))) == "handled"
    assert await dp.feed_update(pachca, update(click("x", user_id=BOT_ID))) == "clicked"
    assert lookups == [1]

    keep_own = Dispatcher(ignore_own_messages=False)
    keep_own.message.register(lambda m: "handled")
    assert await keep_own.feed_update(PACHCA, own) == "handled"  # no lookup needed


async def test_handler_errors_raise_from_feed_update_and_are_logged_by_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    dp = Dispatcher(bot_id=BOT_ID)

    @dp.message()
    async def broken(msg: MessageWebhookPayload) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await feed(dp, message())
    assert await dp.process(PACHCA, update(message())) is FAILED
    assert "handler failed on a message/new event" in caplog.text
    assert "boom" in caplog.text


# -- what a handler asks for is checked when it is registered ----------------------------------


def test_a_handler_asking_for_what_nothing_provides_fails_at_registration() -> None:
    dp = Dispatcher(bot_id=BOT_ID, db="database")
    with pytest.raises(InvalidRequestError) as caught:

        @dp.message()
        async def echo(message: MessageWebhookPayload, client: Any) -> None: ...

    text = str(caught.value)
    assert "message handler <" in text
    assert "echo> asks for 'client'" in text
    assert "it can ask for db, dispatcher, pachca, update." in text
    assert dp.message.handlers == []


@pytest.mark.parametrize(
    ("observer", "handler", "filters"),
    [
        ("message", lambda m, trigger: None, ()),  # only clicks have a trigger
        ("message", lambda m, command: None, ()),
        ("message", lambda m, command: None, (Command("a") | Regex("b"),)),  # Regex has none
        ("button_click", lambda c, match: None, (FromUser(1) & ~Regex("x"),)),
        ("message", lambda m, extra: None, (lambda m: {"extra": 1},)),  # functions: unknown
    ],
)
def test_each_observer_and_filter_provides_only_its_own_names(
    observer: str, handler: Any, filters: tuple[Any, ...]
) -> None:
    with pytest.raises(InvalidRequestError, match="nothing provides"):
        Dispatcher().observers[observer].register(handler, *filters)


@pytest.mark.parametrize(
    ("observer", "handler", "filters"),
    [
        ("button_click", lambda c, pachca, update, dispatcher, trigger: None, ()),
        ("message", lambda m, command: None, (Command("a"),)),
        ("message", lambda m, command, match: None, (Command("a") & Regex("b"),)),
        ("message", lambda m, match: None, (Regex("a") | Regex("b"),)),
        ("message", lambda m, db: None, ()),  # the dispatcher's data
        ("message", lambda m, user=None: None, ()),  # a default: filled when present
        ("message", lambda m, **context: None, ()),
    ],
)
def test_handlers_asking_for_what_is_provided_register(
    observer: str, handler: Any, filters: tuple[Any, ...]
) -> None:
    dp = Dispatcher(db="database")
    dp.observers[observer].register(handler, *filters)
    assert len(dp.observers[observer].handlers) == 1


def test_router_handlers_are_checked_once_a_dispatcher_is_known() -> None:
    dp = Dispatcher(db="database")
    outer, inner = Router(name="outer"), Router(name="inner")
    inner.message.register(lambda m, client: None)  # no dispatcher yet: cannot tell
    inner.message.register(lambda m, db: None)
    outer.include_router(inner)
    with pytest.raises(InvalidRequestError, match="'client'"):
        dp.include_router(outer)
    assert outer.parent is None  # nothing half-included
    assert dp.sub_routers == []
    inner.message.handlers.pop(0)
    dp.include_router(outer)
    with pytest.raises(InvalidRequestError, match="'client'"):
        inner.message.register(lambda m, client: None)  # now the dispatcher is known
