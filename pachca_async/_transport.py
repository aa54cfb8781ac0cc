"""The transport: the narrow interface between the session layer and the network.

A `Transport` sends one `Request` and returns one `Response` (status, headers, body), or
raises `ConnectError` / `APITimeoutError` / `APIConnectionError`. Everything else (auth, retries,
rate limits, logging, decoding) lives above it, so tests and users can swap it out.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp
import attrs
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from ._config import Timeout
from ._exceptions import APIConnectionError, APITimeoutError, ConnectError

if TYPE_CHECKING:
    from ._operation import Operation

Body = bytes | aiohttp.FormData | aiohttp.MultipartWriter | AsyncIterable[bytes] | None


def _redacted(headers: Mapping[str, str]) -> str:
    shown = {k: ("<redacted>" if k.lower() == "authorization" else v) for k, v in headers.items()}
    return repr(shown)


@attrs.frozen
class Request:
    """One HTTP request, ready to send. Its repr never shows the token."""

    method: str
    url: str
    operation: Operation[Any]
    arguments: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    """The caller's arguments by keyword (rate limiting reads the chat from them)."""
    params: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=_redacted)
    body: Body = attrs.field(default=None, repr=False)
    timeout: Timeout = attrs.field(factory=Timeout)
    attempt: int = 1
    """1 for the first try, 2 for the first retry, ..."""

    @property
    def path(self) -> str:
        """The URL without scheme, host and query: what logs show."""
        return str(URL(self.url).path)


@attrs.frozen
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
    `proxy` and `ssl` apply to every request, as in aiohttp.
    """

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession | None = None,
        proxy: str | None = None,
        ssl: Any = True,
        **session_options: Any,
    ) -> None:
        self._session = session
        self._owns_session = session is None
        self._session_options = session_options
        self._proxy = proxy
        self._ssl = ssl

    @property
    def session(self) -> aiohttp.ClientSession:
        """The session, created on first use (inside the running event loop)."""
        if self._session is None or (self._owns_session and self._session.closed):
            self._session = aiohttp.ClientSession(**self._session_options)
        return self._session

    async def send(self, request: Request) -> Response:
        timeout = request.timeout
        try:
            async with self.session.request(
                request.method,
                request.url,
                params=request.params,
                headers=dict(request.headers),
                data=request.body,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(
                    total=timeout.total, connect=timeout.connect, sock_read=timeout.read
                ),
                proxy=self._proxy,
                ssl=self._ssl,
            ) as response:
                body = await response.read()
                return Response(response.status, response.headers, body, response.reason or "")
        except aiohttp.ConnectionTimeoutError as error:
            raise ConnectError(f"timed out connecting to {_host(request)}") from error
        except TimeoutError as error:
            raise APITimeoutError(
                f"no complete answer to {request.method} {request.path} in time"
            ) from error
        except aiohttp.ClientConnectorError as error:
            raise ConnectError(f"cannot connect to {_host(request)}: {error.strerror}") from error
        except (aiohttp.ClientError, OSError) as error:
            raise APIConnectionError(
                f"connection failed during {request.method} {request.path}: {type(error).__name__}"
            ) from error

    async def close(self) -> None:
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()


def _host(request: Request) -> str:
    url = URL(request.url)
    return f"{url.host}:{url.port}"
