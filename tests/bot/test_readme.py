"""The README's bot (`my_bot.py`) runs as written, its handlers against a local fake API, and so
does its example of testing that bot with `FakePachca`: both are imported from files holding
the README's code word for word (`tests/readme.py`)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.readme import write

from .fake_api import click, message, running, submit


@pytest.fixture
def readme(tmp_path: Path) -> Iterator[Path]:
    """The README's modules, importable (`import my_bot`) while the test runs."""
    written = write(tmp_path)
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for path in written:
        sys.modules.pop(path.stem, None)


def load(name: str) -> ModuleType:
    return importlib.import_module(name)


async def test_the_readme_bot_answers_commands_buttons_and_forms(readme: Path) -> None:
    dp = load("my_bot").dp  # importing it starts nothing: `main()` runs only as a script
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


async def test_the_readme_test_of_the_bot_passes(readme: Path) -> None:
    await load("testing_without_pachca").test_the_bot_echoes()


def test_the_readme_reads_webhooks_for_other_frameworks(readme: Path) -> None:
    assert load("other_web_frameworks").read_delivery(b"{}", {}, "secret") is None
