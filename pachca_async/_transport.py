"""The transport: the narrow interface between the session layer and the network.

A `Transport` sends one `Request` and returns one `Response` (status, headers, body), or
raises `ConnectError` / `APITimeoutError` / `APIConnectionError`. Everything else (auth, retries,
rate limits, logging, decoding) lives above it, so tests and users can swap it out.

Two kinds of request need more than bytes in, bytes out: a `MultipartBody` is streamed (with
its Content-Type and, when known, Content-Length), and a request with a `sink` hands a success
answer's body to the sink chunk by chunk instead of holding it in memory (downloads).
"""

from __future__ import annotations

import asyncio
import functools
import math
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp
import attrs
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from ._config import MAX_ERROR_SIZE, MAX_RESPONSE_SIZE, Timeout, check_value
from ._exceptions import (
    APIConnectionError,
    APITimeoutError,
    ClientClosedError,
    ConnectError,
    ConnectTimeoutError,
    InvalidRequestError,
    ResponseTooLargeError,
)
from ._files.content import CHUNK, MultipartBody

if TYPE_CHECKING:
    from ._operation import Operation

Body = bytes | MultipartBody | AsyncIterable[bytes] | None
"""JSON bytes, a streamed form, or any other stream of bytes (never sent twice)."""


class Sink(Protocol):
    """Takes the body of a success answer in chunks, instead of `Response.body`."""

    async def start(self, size: int | None) -> None:
        """An answer's body begins (`size` from Content-Length): drop what an earlier try wrote."""

    async def write(self, chunk: bytes) -> None: ...


def redacted(headers: Mapping[str, str]) -> str:
    """A repr of `headers` with the token hidden."""
    shown = {k: ("<redacted>" if k.lower() == "authorization" else v) for k, v in headers.items()}
    return repr(shown)


@attrs.define(eq=False)
class Request:
    """One HTTP request, ready to send. Its repr never shows the token."""

    method: str
    url: str
    operation: Operation[Any]
    arguments: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    """The caller's arguments by keyword (rate limiting reads the chat from them)."""
    params: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=redacted)
    body: Body = attrs.field(default=None, repr=False)
    timeout: Timeout = attrs.field(factory=Timeout)
    sink: Sink | None = attrs.field(default=None, repr=False)
    """Where a 2xx answer's body goes; `Response.body` is then empty."""
    attempt: int = 1
    """1 for the first try, 2 for the first retry, ..."""

    @property
    def path(self) -> str:
        """The URL without scheme, host and query: what logs show."""
        return str(URL(self.url).path)


@attrs.define(eq=False)
class Response:
    """A complete HTTP response."""

    status: int
    headers: CIMultiDictProxy[str] | CIMultiDict[str]
    body: bytes = attrs.field(repr=False)
    reason: str = ""


class Transport(Protocol):
    """Sends requests. `close()` releases what the transport owns."""

    async def send(self, request: Request) -> Response: ...

    async def close(self) -> None: ...


class AiohttpTransport:
    """The default transport: one aiohttp `ClientSession`, created inside the running loop.

    Pass `session` to use your own (it is left open on `close()`); otherwise extra keyword
    arguments (`connector`, `trust_env`, ...) go to the `ClientSession` this transport creates.
    `proxy` and `ssl` apply to every request, as in aiohttp. Once closed, it sends nothing more.

    An answer is read up to `max_response_size` bytes after decompression (an error answer up
    to `MAX_ERROR_SIZE`, or less): past that, reading stops, the connection is dropped and
    `ResponseTooLargeError` is raised. A body handed to a `Sink` (a download) has no limit.

    Requests of operations without auth (the file storage) go out on the same connections but
    through a second session with no cookie jar and no default headers, so no cookie or header
    meant for Pachca reaches another host.
    """

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession | None = None,
        proxy: str | None = None,
        ssl: Any = True,
        max_response_size: int = MAX_RESPONSE_SIZE,
        **session_options: Any,
    ) -> None:
        check_value("max_response_size", max_response_size, _whole_bytes, "a number of bytes")
        self._limits = (max_response_size, min(max_response_size, MAX_ERROR_SIZE))
        self._closed = False
        self._session = session
        self._owns_session = session is None
        self._session_options = session_options
        self._anonymous_session: aiohttp.ClientSession | None = None
        self._proxy = proxy
        self._ssl = ssl

    @property
    def session(self) -> aiohttp.ClientSession:
        """The session, created on first use (inside the running event loop)."""
        if self._session is None:
            if self._closed:
                raise _closed()
            self._session = aiohttp.ClientSession(**self._session_options)
        return self._session

    def _session_for(self, request: Request) -> aiohttp.ClientSession:
        main = self.session
        if request.operation.auth:
            return main
        anonymous = self._anonymous_session
        if anonymous is None or anonymous.closed or anonymous.connector is not main.connector:
            anonymous = self._anonymous_session = aiohttp.ClientSession(
                connector=main.connector,
                connector_owner=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=main.trust_env,
            )
        return anonymous

    async def send(self, request: Request) -> Response:
        if self._closed:
            raise _closed()
        if self.session.closed:  # ours is only closed with the transport: a caller's session
            raise InvalidRequestError("the aiohttp session given to PachcaClient is closed")
        headers, data = request.headers, request.body  # aiohttp copies headers: none here
        feed = _Feed(data) if isinstance(data, MultipartBody) else None
        if feed is not None:
            form = {"Content-Type": feed.body.content_type}
            if (size := feed.body.size) is not None:
                form["Content-Length"] = str(size)
            headers, data = {**headers, **form}, feed.chunks()
        sink = _Drain(request.sink) if request.sink is not None else None
        try:
            async with self._session_for(request).request(
                request.method,
                request.url,
                params=request.params,
                headers=headers,
                data=data,
                allow_redirects=False,
                timeout=_client_timeout(request.timeout),
                proxy=self._proxy,
                ssl=self._ssl,
            ) as response:
                ok = 200 <= response.status < 300
                if sink is not None and ok:
                    await sink.fill(response)
                    body = b""
                else:
                    limit = self._limits[0] if ok else self._limits[1]
                    size = response.content_length
                    if size is None or size > limit or "Content-Encoding" in response.headers:
                        body = await _read_up_to(limit, request, response)
                    else:
                        body = await response.read()  # exactly `size` bytes: the usual answer
                return Response(response.status, response.headers, body, response.reason or "")
        except (aiohttp.ClientError, OSError) as error:
            local = (feed.error if feed else None) or (sink.error if sink else None)
            failure = local or _connection_error(request, error)  # the caller's file, or the net
        finally:
            if feed is not None:
                await feed.close()
        # Raised outside the `except`: aiohttp's exception, whose attributes may hold the
        # request's headers (the token), is neither chained nor kept as context.
        raise failure

    async def close(self) -> None:
        """Close what this transport made; every later `send` raises `ClientClosedError`."""
        self._closed = True
        anonymous, self._anonymous_session = self._anonymous_session, None
        if anonymous is not None:
            await anonymous.close()
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()


class _Feed:
    """Streams a `MultipartBody`, keeping apart an error of the file from one of the network.

    `close()` closes the files the body opened, wherever the network left off reading it.
    """

    def __init__(self, body: MultipartBody) -> None:
        self.body = body
        self.error: Exception | None = None
        self._parts = body.open()
        self._idle = asyncio.Event()  # no read of the body in progress
        self._idle.set()

    async def chunks(self) -> AsyncIterator[bytes]:
        parts = self._parts
        try:
            while True:
                self._idle.clear()
                try:
                    chunk = await anext(parts)
                except StopAsyncIteration:
                    return
                finally:
                    self._idle.set()
                yield chunk
        except Exception as error:
            self.error = error
            raise

    async def close(self) -> None:
        # aiohttp's writer may be inside a read (in a worker thread) as the request fails;
        # that read ends first, or the body cannot be closed.
        await self._idle.wait()
        await self._parts.aclose()


class _Drain:
    """Pours an answer's body into a `Sink`, keeping apart an error of the sink (a full disk)."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.error: Exception | None = None

    async def fill(self, response: aiohttp.ClientResponse) -> None:
        await self._call(self.sink.start(response.content_length))
        async for chunk in response.content.iter_chunked(CHUNK):
            await self._call(self.sink.write(chunk))

    async def _call(self, step: Awaitable[None]) -> None:
        try:
            await step
        except Exception as error:
            self.error = error
            raise


@functools.lru_cache(maxsize=64)
def _client_timeout(timeout: Timeout) -> aiohttp.ClientTimeout:
    """aiohttp's form of `timeout`, built once per distinct value rather than per request.

    Limits hold to the fraction of a second: aiohttp would round those past 5 s up to the next
    whole second. Then a read limit no shorter than `total` can never end an attempt first (the
    total timer starts before the read timer does), so it is left out, sparing aiohttp a timer
    cancelled and re-armed for every chunk received; both would raise `APITimeoutError`.
    """
    read = timeout.read
    if timeout.total is not None and read is not None and read >= timeout.total:
        read = None
    return aiohttp.ClientTimeout(
        total=timeout.total, connect=timeout.connect, sock_read=read, ceil_threshold=math.inf
    )


async def _read_up_to(limit: int, request: Request, response: aiohttp.ClientResponse) -> bytes:
    """The body of an answer whose length is unknown until read (chunked, or compressed), or
    `ResponseTooLargeError` as soon as it proves longer than `limit`."""
    if response.content_length is None or response.content_length <= limit:
        body = bytearray()
        async for chunk in response.content.iter_any():
            body += chunk
            if len(body) > limit:
                break
        else:
            return bytes(body)
    response.close()  # the rest is never read: the connection cannot be reused
    raise ResponseTooLargeError(
        f"{request.operation.name} ({request.method} {request.path}) answered "
        f"{response.status} with a body over {limit} bytes; reading stopped there "
        "(see max_response_size)",
        status=response.status,
        limit=limit,
        operation=request.operation.name,
    )


def _whole_bytes(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _closed() -> ClientClosedError:
    return ClientClosedError("the client is closed: nothing more is sent")


def _connection_error(request: Request, error: Exception) -> Exception:
    """The typed error for an exchange that failed on the network."""
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return ConnectTimeoutError(f"timed out connecting to {_host(request)}")
    if isinstance(error, TimeoutError):
        return APITimeoutError(f"no complete answer to {request.method} {request.path} in time")
    if isinstance(error, aiohttp.InvalidURL):
        return InvalidRequestError(f"cannot send to {request.url!r}: not a valid URL")
    if isinstance(error, aiohttp.ClientConnectorError):
        return ConnectError(f"cannot connect to {_host(request)}: {error.strerror}")
    return APIConnectionError(
        f"connection failed during {request.method} {request.path}: {type(error).__name__}"
    )


def _host(request: Request) -> str:
    url = URL(request.url)
    return f"{url.host}:{url.port}"
