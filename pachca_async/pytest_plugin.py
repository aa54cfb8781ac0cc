"""pytest fixtures for code that uses pachca-async; pytest loads them on its own once installed.

- `fake_pachca`: a started `FakePachca` on 127.0.0.1, closed after the test.
- `pachca_client`: a `PachcaClient` bound to `fake_pachca`.
- `pachca_bot`: `await pachca_bot(dp)` serves a bot's dispatcher on 127.0.0.1 as a `LocalBot`,
  to which `fake_pachca` delivers signed webhooks.

```python
async def test_echo(pachca_bot, fake_pachca) -> None:
    bot = await pachca_bot(dp)
    assert await bot.send_message("ping", chat_id=198, user_id=7) == (200, "ok")
    assert fake_pachca.calls_to("POST", "/messages")[-1]["message"]["content"] == "ping"
```

The fixtures are pytest-asyncio fixtures, so they work in its `auto` and `strict` modes alike
(in strict mode, mark the tests `@pytest.mark.asyncio` as usual). Disable the plugin with
`-p no:pachca_async`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol, TypeVar

import pytest

from ._client import PachcaClient
from ._testing.fake import FakePachca
from ._testing.local_bot import LocalBot
from .bot import Dispatcher

F = TypeVar("F", bound=Callable[..., Any])

try:
    import pytest_asyncio
except ImportError:  # pytest-asyncio is a test tool of ours, not a dependency

    def _fixture(function: F) -> F:
        """Without pytest-asyncio an async fixture cannot run: say so when one is asked for."""

        def missing() -> None:
            pytest.fail(f"the {function.__name__} fixture needs pytest-asyncio installed")

        missing.__name__ = function.__name__
        return pytest.fixture(name=function.__name__)(missing)  # type: ignore[return-value]

else:
    _fixture = pytest_asyncio.fixture  # type: ignore[assignment]  # its overloads, narrowed


class BotFactory(Protocol):
    """What the `pachca_bot` fixture is: `await pachca_bot(dp, secret=..., ...)`."""

    def __call__(self, dispatcher: Dispatcher, **options: Any) -> Awaitable[LocalBot]: ...


@_fixture
async def fake_pachca() -> AsyncIterator[FakePachca]:
    """A started `FakePachca` on 127.0.0.1: seed it, and check what was asked of it."""
    async with FakePachca() as api:
        yield api


@_fixture
async def pachca_client(fake_pachca: FakePachca) -> AsyncIterator[PachcaClient]:
    """A `PachcaClient` bound to `fake_pachca`, closed after the test."""
    async with fake_pachca.client() as pachca:
        yield pachca


@_fixture
async def pachca_bot(
    fake_pachca: FakePachca, pachca_client: PachcaClient
) -> AsyncIterator[BotFactory]:
    """Serves a dispatcher on 127.0.0.1: `bot = await pachca_bot(dp)`, then
    `await bot.deliver(payload)` or `await bot.send_message(...)` (see `LocalBot`)."""
    started: list[LocalBot] = []

    async def serve(dispatcher: Dispatcher, **options: Any) -> LocalBot:
        bot = LocalBot(dispatcher, fake_pachca, pachca_client, **options)
        started.append(bot)  # closed even if it fails to start halfway
        await bot.start()
        return bot

    yield serve
    for bot in reversed(started):
        await bot.close()


__all__ = ["BotFactory", "fake_pachca", "pachca_bot", "pachca_client"]
