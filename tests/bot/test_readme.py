"""The README's bot quick start runs as written (its handlers, against a local fake API)."""

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
