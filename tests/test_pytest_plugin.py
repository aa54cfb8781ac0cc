"""The pytest plugin (`pachca_async.pytest_plugin`): a user's bot tests, written only with its
fixtures, run by pytest in pytest-asyncio's strict and auto modes."""

from __future__ import annotations

from typing import Any

import pytest

from pachca_async import InvalidRequestError
from pachca_async.bot import Dispatcher
from pachca_async.pytest_plugin import BotFactory
from pachca_async.testing import FakePachca, LocalBot
from pachca_async.webhooks import MessageWebhookPayload
from tests.readme import modules, python_blocks

BOT = """
from pachca_async import PachcaClient
from pachca_async.bot import Command, Dispatcher
from pachca_async.webhooks import MessageWebhookPayload

dp = Dispatcher()


@dp.message(Command("crash"))
async def crash(message: MessageWebhookPayload) -> None:
    raise LookupError("the handler broke")


@dp.message()
async def echo(message: MessageWebhookPayload, pachca: PachcaClient) -> None:
    await pachca.messages.create_message(entity_id=message.chat_id, content=message.content)
"""

USER_TESTS = """
from typing import Any

import pytest

from pachca_async.bot import Dispatcher
from pachca_async.pytest_plugin import BotFactory
from pachca_async.testing import FakePachca
from pachca_async.webhooks import MessageWebhookPayload
from tests.readme import python_blocks

from my_bot import dp


@pytest.mark.asyncio
async def test_the_bot_echoes(pachca_bot, fake_pachca) -> None:
    bot = await pachca_bot(dp)
    assert await bot.send_message("ping", chat_id=198, user_id=7) == (200, "ok")
    assert fake_pachca.calls_to("POST", "/messages") == [
        {"message": {"entity_id": 198, "content": "ping"}}
    ]


@pytest.mark.asyncio
async def test_a_forged_delivery_is_refused(pachca_bot, fake_pachca) -> None:
    bot = await pachca_bot(dp, secret="right")
    said = fake_pachca.add_message("hi", chat_id=198, user_id=7)
    status, _ = await bot.deliver(
        fake_pachca.message_event(said), headers={"Pachca-Signature": "0" * 64}
    )
    assert status == 401
    assert fake_pachca.calls_to("POST", "/messages") == []


@pytest.mark.asyncio
async def test_the_client_reaches_the_fake(pachca_client, fake_pachca) -> None:
    chat = fake_pachca.add_chat("General")
    sent = await pachca_client.messages.create_message(entity_id=chat["id"], content="hello")
    assert fake_pachca.messages[sent.id]["content"] == "hello"


@pytest.mark.asyncio
async def test_a_crashing_handler_fails_the_test(pachca_bot) -> None:
    bot = await pachca_bot(dp)
    await bot.send_message("/crash", chat_id=198, user_id=7)
"""


def configure(pytester: pytest.Pytester, mode: str) -> None:
    ini = f"[pytest]\nasyncio_mode = {mode}\nasyncio_default_fixture_loop_scope = function\n"
    pytester.makeini(ini)


def run(pytester: pytest.Pytester, mode: str, tests: str) -> pytest.RunResult:
    pytester.makepyfile(my_bot=BOT, test_user=tests)
    configure(pytester, mode)
    return pytester.runpytest("-p", "no:cacheprovider")


@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_a_users_bot_tests_pass_with_the_plugins_fixtures_only(
    pytester: pytest.Pytester, mode: str
) -> None:
    result = run(pytester, mode, USER_TESTS)
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        ["*test_a_crashing_handler_fails_the_test*", "*LookupError: the handler broke*"]
    )


def test_in_auto_mode_tests_need_no_marker(pytester: pytest.Pytester) -> None:
    unmarked = USER_TESTS.replace("@pytest.mark.asyncio\n", "")
    run(pytester, "auto", unmarked).assert_outcomes(passed=3, failed=1)


def test_the_plugin_can_be_turned_off(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user="def test_uses(fake_pachca):\n    pass\n")
    configure(pytester, "auto")
    result = pytester.runpytest("-p", "no:pachca_async")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'fake_pachca' not found*"])


def test_the_readme_example_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(my_bot=modules()["my_bot"])  # the README's bot, as written
    pytester.makepyfile(test_readme=python_blocks("### The pytest plugin")[0])
    configure(pytester, "strict")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_without_pytest_asyncio_a_fixture_says_what_it_needs(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = pytester.mkdir("blocked")  # first on the path: an import of it fails
    (blocked / "pytest_asyncio.py").write_text("raise ImportError('not installed')\n")
    monkeypatch.setenv("PYTHONPATH", str(blocked))
    pytester.makepyfile(test_user="def test_uses(fake_pachca):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:asyncio", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*the fake_pachca fixture needs pytest-asyncio installed*"])


# -- the fixtures in this suite, where the plugin is loaded too ----------------------------------


async def test_an_error_a_bot_middleware_handles_does_not_fail_the_delivery(
    pachca_bot: BotFactory, fake_pachca: FakePachca
) -> None:
    dp = Dispatcher()

    @dp.middleware
    async def apologise(handler: Any, event: Any, data: dict[str, Any]) -> Any:
        try:
            return await handler(event, data)
        except LookupError:
            await data["pachca"].messages.create_message(entity_id=event.chat_id, content="sorry")
            return None

    @dp.message()
    async def broken(message: MessageWebhookPayload) -> None:
        raise LookupError("the handler broke")

    bot = await pachca_bot(dp)
    assert await bot.send_message("hi", chat_id=198, user_id=7) == (200, "ok")
    assert fake_pachca.calls_to("POST", "/messages") == [
        {"message": {"entity_id": 198, "content": "sorry"}}
    ]
    await bot.close()
    assert dp.middlewares == [apologise]  # the dispatcher is left as it was


async def test_a_local_bot_not_started_says_so() -> None:
    async with FakePachca() as api, api.client() as pachca:
        bot = LocalBot(Dispatcher(), api, pachca)
        with pytest.raises(InvalidRequestError, match="start the LocalBot"):
            await bot.deliver({"type": "message"})
