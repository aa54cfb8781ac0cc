"""`MockTransport`: answers requests in-process, from a function, in the spirit of httpx's."""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy

from .._exceptions import InvalidRequestError
from .._transport import Request, Response

MockHandler = Callable[[Request], Response | Awaitable[Response]]
"""Takes the request, returns the response (or an awaitable of it); may raise a transport error."""


class MockTransport:
    """A transport that calls `handler(request)` instead of the network.

    The handler gets the `Request` the session layer built (method, full URL, query `params`,
    headers, `body`; `request_json(request)` decodes it) and returns a `Response`, sync or
    async. To play a network
    failure it raises `ConnectError`, `APITimeoutError` or `APIConnectionError`. Everything
    above the transport runs as usual: middlewares, retries, rate limits, decoding.

    ```python
    def handler(request: Request) -> Response:
        return json_response({"data": {...}}, status=201)

    pachca = PachcaClient("token", transport=MockTransport(handler))
    ```

    A download's body (a request with a `sink`) is poured into its sink, as the real transport
    does, so `Response.body` may hold the file's bytes.
    """

    def __init__(self, handler: MockHandler) -> None:
        self.handler = handler

    def __repr__(self) -> str:
        return f"MockTransport({self.handler!r})"

    async def send(self, request: Request) -> Response:
        response = self.handler(request)
        if inspect.isawaitable(response):
            response = await response
        sink = request.sink
        if sink is not None and 200 <= response.status < 300:
            await sink.start(len(response.body))
            await sink.write(response.body)
            return Response(response.status, response.headers, b"", response.reason)
        return response

    async def close(self) -> None:
        """Nothing to release: no connection was opened."""


def request_json(request: Request) -> Any:
    """The JSON body of `request` as Python values (`None` when it has no body)."""
    if request.body is None:
        return None
    if not isinstance(request.body, bytes):
        raise InvalidRequestError(f"{request.operation.name} sends a form or a stream, not JSON")
    return json.loads(request.body)


def json_response(
    document: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A `Response` with `document` as its JSON body (`None` and status 204: no body)."""
    body = b"" if document is None else json.dumps(document, ensure_ascii=False).encode()
    fields = CIMultiDict({"Content-Type": "application/json"} if body else {})
    fields.update(headers or {})
    return Response(status, CIMultiDictProxy(fields), body)
