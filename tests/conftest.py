"""Fixtures every test package can use."""

from __future__ import annotations

import inspect
import types
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses
from aioresponses import core as aioresponses_core
from yarl import URL

pytest_plugins = ["pytester"]  # runs users' tests of the plugin (tests/test_pytest_plugin.py)

_NEEDS_STREAM_WRITER = "stream_writer" in inspect.signature(aiohttp.ClientResponse).parameters


class _MockedResponse(aiohttp.ClientResponse):
    """The `ClientResponse` aioresponses builds, made to fit aiohttp 3.14+.

    aioresponses 0.7.9 constructs `ClientResponse` without the `stream_writer` argument that
    aiohttp 3.14 made required. A mocked response has already "sent" its request, so aiohttp
    only reads `stream_writer.output_size` from it: a stand-in with a zero size is enough.
    Everything aioresponses does after construction (status, headers, body) works unchanged.
    """

    def __init__(self, method: str, url: URL, **kwargs: Any) -> None:
        if _NEEDS_STREAM_WRITER:
            kwargs.setdefault("stream_writer", types.SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


@pytest.fixture
def mocked(monkeypatch: pytest.MonkeyPatch) -> Iterator[aioresponses]:
    """aioresponses, working on aiohttp 3.14+ (see `_MockedResponse`).

    Use it for unit-level cases a real server cannot easily produce (a connect timeout, a
    DNS failure); behaviour on the wire is tested against `tests.fake_pachca.FakePachca`.
    """
    monkeypatch.setattr(aioresponses_core, "ClientResponse", _MockedResponse)
    with aioresponses() as mock:
        yield mock
