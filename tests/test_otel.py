"""`pachca_async.otel.tracing`: one client span per call, read back from the OpenTelemetry SDK's
in-memory exporter, against `FakePachca` on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import pachca_async
from pachca_async import ConnectError, NotFoundError, PachcaClient, Request, Response
from pachca_async.otel import tracing
from pachca_async.testing import FakePachca, MockTransport, run_virtual
from tests.readme import python_blocks
from tests.scripting import free_port

TOKEN = "secret-token-123"


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    yield memory
    memory.shutdown()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def ours(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name.startswith("pachca.")]


def traced(api: FakePachca, provider: TracerProvider, **options: Any) -> PachcaClient:
    return api.client(TOKEN, middlewares=[tracing(tracer_provider=provider)], **options)


async def test_a_call_is_one_client_span_with_http_attributes(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async with FakePachca() as api, traced(api, provider) as pachca:
        await pachca.messages.create_message(entity_id=api.add_chat("x")["id"], content="hi")
        port = int(api.base_url.rsplit(":", 1)[1])
    [span] = exporter.get_finished_spans()
    assert (span.name, span.kind) == ("pachca.messages.create_message", trace.SpanKind.CLIENT)
    assert dict(span.attributes or {}) == {
        "http.request.method": "POST",
        "url.template": "/messages",
        "server.address": "127.0.0.1",
        "server.port": port,
        "http.response.status_code": 201,
    }
    assert span.status.status_code is trace.StatusCode.UNSET


def test_retries_are_counted_and_ids_and_token_stay_out(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async def scenario() -> None:
        async with FakePachca() as api, traced(api, provider) as pachca:
            said = api.add_message("hello", chat_id=5, user_id=7, id=987654)
            api.fail("GET", "/messages/987654", 503, 503)
            assert (await pachca.messages.get_message(said["id"])).content == "hello"

    run_virtual(scenario())  # the backoff waits take no real time
    [span] = exporter.get_finished_spans()
    attributes = dict(span.attributes or {})
    assert attributes["url.template"] == "/messages/{id}"
    assert attributes["http.request.resend_count"] == 2
    assert attributes["http.response.status_code"] == 200
    shown = repr(attributes) + span.name + repr(span.events)
    assert "987654" not in shown
    assert TOKEN not in shown


async def test_an_error_status_sets_error_type_and_status(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async with FakePachca() as api, traced(api, provider) as pachca:
        with pytest.raises(NotFoundError):
            await pachca.messages.get_message(404404)
    [span] = exporter.get_finished_spans()
    assert span.attributes is not None
    assert (span.attributes["error.type"], span.attributes["http.response.status_code"]) == (
        "404",
        404,
    )
    assert span.status.status_code is trace.StatusCode.ERROR
    assert "http.request.resend_count" not in span.attributes


async def test_a_network_failure_names_the_error_class_and_not_its_message(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async with PachcaClient(
        TOKEN,
        base_url=f"http://127.0.0.1:{free_port()}",  # a port nobody listens on
        max_retries=0,
        middlewares=[tracing(tracer_provider=provider)],
    ) as pachca:
        with pytest.raises(ConnectError):
            await pachca.messages.get_message(123456)
    [span] = exporter.get_finished_spans()
    assert span.attributes is not None
    assert span.attributes["error.type"] == "ConnectError"
    assert "http.response.status_code" not in span.attributes
    assert span.events == ()  # the error's message names the path with its id


async def test_a_walk_over_pages_is_a_span_per_page(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async with FakePachca() as api, traced(api, provider) as pachca:
        for n in range(5):
            api.add_message(f"m{n}", chat_id=5, user_id=7)
        walked = [m async for m in pachca.messages.list_chat_messages(chat_id=5, limit=2)]
    assert len(walked) == 5
    assert [s.name for s in ours(exporter)] == ["pachca.messages.list_chat_messages"] * 3


def test_the_readme_setup_nests_each_attempt_under_the_call(
    provider: TracerProvider, exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    monkeypatch.setenv("PACHCA_TOKEN", TOKEN)

    async def scenario() -> None:
        async with FakePachca() as api:

            class LocalClient(PachcaClient):
                def __init__(self, *args: Any, **kwargs: Any) -> None:
                    super().__init__(*args, base_url=api.base_url, **kwargs)

            monkeypatch.setattr(pachca_async, "PachcaClient", LocalClient)
            namespace: dict[str, Any] = {}
            exec(python_blocks("## Tracing")[0], namespace)
            async with namespace["pachca"] as pachca:
                said = api.add_message("hello", chat_id=5, user_id=7)
                api.fail("GET", f"/messages/{said['id']}", 503)
                await pachca.messages.get_message(said["id"])

    run_virtual(scenario())
    [call] = ours(exporter)
    attempts = [s for s in exporter.get_finished_spans() if s is not call]
    assert len(attempts) == 2  # one span per HTTP attempt, by the aiohttp instrumentation
    assert call.context is not None
    for attempt in attempts:
        assert attempt.parent is not None
        assert attempt.parent.span_id == call.context.span_id


async def test_an_error_outside_pachcas_is_named_too(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    def broken(request: Request) -> Response:
        raise KeyError("a bug in a test double")

    transport = MockTransport(broken)
    middlewares = [tracing(tracer_provider=provider)]
    async with PachcaClient(TOKEN, transport=transport, middlewares=middlewares) as pachca:
        with pytest.raises(KeyError):
            await pachca.messages.get_message(1)
    [span] = exporter.get_finished_spans()
    assert span.attributes is not None
    assert span.attributes["error.type"] == "KeyError"
    assert span.attributes["server.address"] == "api.pachca.com"
    assert span.attributes["server.port"] == 443
    assert span.status.status_code is trace.StatusCode.ERROR
