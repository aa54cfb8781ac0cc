"""OpenTelemetry tracing: one client span per API call (`pip install 'pachca-async[otel]'`).

```python
from pachca_async import PachcaClient
from pachca_async.otel import tracing

pachca = PachcaClient(middlewares=[tracing()])
```

Each call is one span named after the operation (`pachca.messages.create_message`), around
all of its attempts, with the attributes of OpenTelemetry's HTTP semantic conventions:
`http.request.method`, `url.template` (the path template: `/messages/{id}`, not the URL),
`server.address`, `server.port`, `http.response.status_code`, `http.request.resend_count`
when it was retried, and `error.type` when it failed (the status code, or the error's class).
Neither the token nor the URL with its ids is recorded, nor an error's message (which names
the path). The span is current while the call runs, so the spans of the aiohttp client
instrumentation (one per attempt) nest under it.
"""

from __future__ import annotations

from yarl import URL

try:
    from opentelemetry import trace
except ImportError as missing:  # pragma: no cover - only without the extra
    raise ImportError(
        "pachca_async.otel needs OpenTelemetry: pip install 'pachca-async[otel]'"
    ) from missing

from ._middleware import Handler, Middleware
from ._transport import Request, Response
from ._version import __version__

SPAN_PREFIX = "pachca."


def tracing(*, tracer_provider: trace.TracerProvider | None = None) -> Middleware:
    """A middleware making one span per call; pass it first in `middlewares`.

    `tracer_provider` defaults to the global one (`opentelemetry.trace.set_tracer_provider`).
    """
    tracer = trace.get_tracer("pachca_async", __version__, tracer_provider=tracer_provider)

    async def trace_call(request: Request, call_next: Handler) -> Response:
        # No exception event: an error's message names the path with its ids.
        with tracer.start_as_current_span(
            SPAN_PREFIX + request.operation.name,
            kind=trace.SpanKind.CLIENT,
            attributes=_request_attributes(request),
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                response = await call_next(request)
            except Exception as error:  # a PachcaError, or a bug in a middleware or transport
                _finish(span, request, error_type=type(error).__qualname__)
                raise
            span.set_attribute("http.response.status_code", response.status)
            failed = response.status >= 400
            _finish(span, request, error_type=str(response.status) if failed else None)
            return response

    return trace_call


def _request_attributes(request: Request) -> dict[str, str | int]:
    url = URL(request.url)
    attributes: dict[str, str | int] = {"http.request.method": request.method}
    if request.operation.path:  # an absolute URL given by the caller (storage) has none
        attributes["url.template"] = request.operation.path
    if url.host is not None:
        attributes["server.address"] = url.host
    if url.port is not None:
        attributes["server.port"] = url.port
    return attributes


def _finish(span: trace.Span, request: Request, *, error_type: str | None) -> None:
    if request.attempt > 1:
        span.set_attribute("http.request.resend_count", request.attempt - 1)
    if error_type is not None:
        span.set_attribute("error.type", error_type)
        span.set_status(trace.StatusCode.ERROR)


__all__ = ["tracing"]
