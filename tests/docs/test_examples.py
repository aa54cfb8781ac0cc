"""Every Python example on the documentation site runs, against `FakePachca` on 127.0.0.1.

The examples are read as `tests/readme.py` reads them: each section's code one module, exactly
as written (`make lint` type-checks the same modules). Each module runs here as a reader would
run it, with `my_bot` importable, any `PachcaClient(...)` it makes talking to a seeded
`FakePachca`, and files in a scratch folder; the checks below call what a module only defines.
Modules with no check here are exercised by the tests of their subject (`my_bot` and the
testing examples in tests/bot/test_readme.py, tracing in tests/test_otel.py, the replicas
example in tests/redis/test_readme.py, ...).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import pachca_async
from pachca_async import PachcaClient
from pachca_async.testing import FakePachca
from tests.readme import DOCS, modules, write

PAGES = sorted(DOCS.rglob("*.md"))
EXAMPLES = modules(*PAGES)


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
        written = write(tmp_path, *PAGES)  # `import my_bot` finds the Bots page's bot
        monkeypatch.syspath_prepend(str(tmp_path))
        yield fake
        for path in written:
            sys.modules.pop(path.stem, None)


Printed = Callable[[], list[str]]
"""The lines printed since the last call."""
Check = Callable[[dict[str, Any], PachcaClient, Printed], Awaitable[None]]


async def check_calls_and_models(names: dict[str, Any], pachca: PachcaClient, out: Printed) -> None:
    again = await names["post_twice"](pachca)
    assert again.content == "Hello again"
    assert out() == ["True 198 Hello"]


async def check_errors(names: dict[str, Any], pachca: PachcaClient, out: Printed) -> None:
    assert await names["content_or_none"](pachca, 404404) is None
    assert out() == ["404 messages.get_message"]
    assert await names["content_or_none"](pachca, 1001) == "first"


async def check_pagination(names: dict[str, Any], pachca: PachcaClient, out: Printed) -> None:
    await names["walk"](pachca)
    _, *walked = out()
    assert walked[:3] == ["third", "second", "first"]


CHECKS: dict[str, Check] = {
    "calls_and_models": check_calls_and_models,
    "errors": check_errors,
    "pagination": check_pagination,
}


@pytest.mark.parametrize("name", EXAMPLES)
async def test_the_examples_run(
    name: str, api: FakePachca, capsys: pytest.CaptureFixture[str]
) -> None:
    names: dict[str, Any] = {"__name__": f"docs_{name}"}  # not "__main__": nothing is served
    exec(compile(EXAMPLES[name], f"docs: {name}", "exec"), names)
    if name in CHECKS:
        async with api.client() as pachca:
            await CHECKS[name](names, pachca, lambda: capsys.readouterr().out.splitlines())


def test_every_check_names_an_example() -> None:
    assert set(CHECKS) <= set(EXAMPLES)
