"""The README's bot quick start runs as written (its handlers, against a local fake API), and so
does its example of testing that bot with `FakePachca`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .fake_api import click, message, running, submit

README = Path(__file__).resolve().parents[2] / "README.md"


def quick_start() -> dict[str, Any]:
    section = README.read_text(encoding="utf-8").split("## Bots", 1)[1]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    namespace: dict[str, Any] = {}
    for block in blocks[:2]:  # the bot, then buttons and forms
        exec(block.replace("asyncio.run(main())", ""), namespace)
    return namespace


async def test_the_readme_bot_answers_commands_buttons_and_forms() -> None:
    dp = quick_start()["dp"]
    async with running(dp) as bot:
        for text in ("/start there", "echo me", "/feedback"):
            assert (await bot.send(message(text)))[0] == 200
            await bot.receiver.join()
        assert (await bot.send(click("feedback")))[0] == 200
        await bot.receiver.join()
        assert (await bot.send(submit("feedback", {"score": "1"})))[0] == 400
        assert (await bot.send(submit("feedback", {"score": "4"})))[0] == 200
    sent = [call["message"]["content"] for call in bot.fake.calls_to("POST", "/messages")]
    assert sent == ["Hi! there", "echo me", "How was your week?"]
    assert len(bot.fake.calls_to("POST", "/views/open")) == 1


async def test_the_readme_test_of_the_bot_passes() -> None:
    section = README.read_text(encoding="utf-8").split("## Testing without Pachca", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "README.md has no Python example under 'Testing without Pachca'"
    namespace = quick_start()  # the bot it tests: `from my_bot import dp`
    exec(found.group(1).replace("from my_bot import dp\n", ""), namespace)
    await namespace["test_the_bot_echoes"]()
