"""Every Python example on the documentation site runs, against `FakePachca` on 127.0.0.1.

A page's examples run in order in one namespace, as a reader pastes them into an async REPL:
top-level `await` works, `pachca` is a client of a seeded `FakePachca` (`api`), any
`PachcaClient(...)` an example makes talks to that server, and `my_bot` is the bot of the
Bots page. `asyncio.run(main())` is left out (the test already runs in a loop); the checks
below call what an example only defines, where `FakePachca` serves the calls it makes.
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
import types
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import pachca_async
from pachca_async import PachcaClient, Rate
from pachca_async.testing import FakePachca, signed_delivery

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def examples(page: Path) -> list[tuple[int, str]]:
    """`(line, code)` of each Python block on `page`; `line` is where its code starts."""
    text = page.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start(1)), m.group(1)) for m in BLOCK.finditer(text)]


PAGES = sorted(page for page in DOCS.rglob("*.md") if examples(page))


async def run(page: Path, namespace: dict[str, Any]) -> None:
    for line, code in examples(page):
        # Padded so a traceback names the line of the page.
        source = "\n" * line + code.replace("asyncio.run(main())", "")
        compiled = compile(source, str(page), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        result = eval(compiled, namespace)
        if inspect.iscoroutine(result):
            await result


@pytest.fixture
async def api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[FakePachca]:
    async with FakePachca() as fake:
        fake.add_chat("General", id=198)
        for text in ("first", "second", "third"):
            fake.add_message(text, chat_id=334, user_id=7)

        class LocalClient(PachcaClient):
            """Any client an example makes, sent to the fake instead of api.pachca.com."""

            def __init__(self, *args: Any, **kwargs: Any) -> None:
                kwargs.setdefault("base_url", fake.base_url)
                super().__init__(*args, **kwargs)

        monkeypatch.setattr(pachca_async, "PachcaClient", LocalClient)
        monkeypatch.setenv("PACHCA_TOKEN", "docs-token")
        monkeypatch.chdir(tmp_path)  # files the examples read or write
        (tmp_path / "q3-report.pdf").write_bytes(b"%PDF-1.7 report")
        bot = types.ModuleType("my_bot")
        await run(DOCS / "bots.md", vars(bot))
        monkeypatch.setitem(sys.modules, "my_bot", bot)
        yield fake


Printed = Callable[[], list[str]]
"""The lines printed since the last call."""
Check = Callable[[dict[str, Any], FakePachca, Printed], Awaitable[None]]


async def check_quickstart(names: dict[str, Any], api: FakePachca, out: Printed) -> None:
    await names["main"]()
    hello, page, *chats = out()
    assert hello.startswith("Hello 20")  # content and date of the message read back
    assert page.startswith("2 False ")  # a page of both chats, the last one
    assert chats == ["334 chat 334", "198 General"]
    assert [r["code"] for r in api.reactions[1004]] == ["👍"]


async def check_calls_and_models(names: dict[str, Any], api: FakePachca, out: Printed) -> None:
    assert out() == ["True 198 Hello", "Hello again"]


async def check_pagination(names: dict[str, Any], api: FakePachca, out: Printed) -> None:
    one_page, *walked = out()
    assert one_page.startswith("3 False ")
    assert walked == ["1003 third", "1002 second", "1001 first", "[1003, 1002]", "[1001]"]


async def check_errors(names: dict[str, Any], api: FakePachca, out: Printed) -> None:
    assert out() == ["404 messages.get_message"]


async def check_files(names: dict[str, Any], api: FakePachca, out: Printed) -> None:
    # Avatars and exports are not served by FakePachca; tests/files covers those calls.
    # The report the example sends is in the working directory (the `api` fixture's).
    async with api.client() as pachca:
        await names["share_report"](pachca)
    assert sorted(api.stored) == ["chart.png", "q3-report.pdf"]
    sent = api.calls_to("POST", "/messages")
    assert [[f["name"] for f in body["message"]["files"]] for body in sent] == [
        ["q3-report.pdf"],
        ["q3-report.pdf", "chart.png", "q3-report.pdf"],
    ]


async def check_bots(names: dict[str, Any], api: FakePachca, out: Printed) -> None:
    payload = api.message_event(api.messages[1001])
    body, headers = signed_delivery(payload, "secret")
    update = names["read_delivery"](body, headers, "secret")
    assert update.payload.content == "first"
    assert names["read_delivery"](body, headers, "another secret") is None
    assert out() == ["refused: WRONG_SIGNATURE"]


async def check_testing(names: dict[str, Any], api: FakePachca, out: Printed) -> None:
    await names["test_the_bot_echoes"]()


async def check_replicas(names: dict[str, Any], api: FakePachca, out: Printed) -> None:
    limits = names["pachca"].rate_limiter.limits
    assert limits.message_write == Rate(4 / 3, burst=6)
    assert limits.other == Rate(50 / 3, burst=16)


CHECKS: dict[str, Check] = {
    "quickstart.md": check_quickstart,
    "calls-and-models.md": check_calls_and_models,
    "pagination.md": check_pagination,
    "errors.md": check_errors,
    "files.md": check_files,
    "bots.md": check_bots,
    "testing.md": check_testing,
    "replicas.md": check_replicas,
}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(DOCS)))
async def test_the_examples_run(
    page: Path, api: FakePachca, capsys: pytest.CaptureFixture[str]
) -> None:
    async with api.client() as pachca:
        names: dict[str, Any] = {"__name__": "docs", "pachca": pachca, "api": api}
        await run(page, names)
        if page.name in CHECKS:
            await CHECKS[page.name](names, api, lambda: capsys.readouterr().out.splitlines())


def test_every_check_names_a_page_with_examples() -> None:
    assert set(CHECKS) <= {page.name for page in PAGES}
