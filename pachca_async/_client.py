"""`PachcaClient`: the one object users hold. It owns configuration and the connection, and
executes every operation through one pipeline (see `_middleware`)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import aiohttp
from yarl import URL

from ._calls import Calls
from ._config import (
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_TIMEOUT,
    MAX_RESPONSE_SIZE,
    TOKEN_ENV,
    Timeout,
)
from ._decode import decode
from ._encode import Target, build_request
from ._exceptions import InvalidRequestError
from ._files.content import Progress
from ._files.downloads import download
from ._generated.services import Services
from ._middleware import Handler, Middleware, chain, log_requests, retry_requests
from ._operation import Operation
from ._pagination import Page, Paginator
from ._ratelimit import RateLimiter, RateLimits
from ._raw import RawResponse
from ._retry import RetryPolicy
from ._transport import AiohttpTransport, Request, Response, Sink, Transport
from ._types import UNSET, Unset
from ._version import __version__

T = TypeVar("T")
M = TypeVar("M")

USER_AGENT = f"pachca-async/{__version__}"
DEFAULT_RATE_LIMITS = RateLimits()


class PachcaClient(Services):
    """An asyncio client for the Pachca API.

    `files` and `chats` add hand-written helpers to the generated calls: `files.upload`,
    `files.send_message` and `chats.save_export`.

    ```python
    async with PachcaClient("TOKEN") as pachca:
        msg = await pachca.messages.create_message(entity_id=198, content="Hello")
    ```

    Args:
        token: The access token; `PACHCA_TOKEN` from the environment when omitted.
        base_url: Where the API lives (a local server, in tests); `PACHCA_BASE_URL` from the
            environment when omitted or `None`, else Pachca's.
        timeout: Seconds per attempt, or a `Timeout`; `None` waits forever.
        max_retries: Shortcut for `retry=RetryPolicy(max_retries=...)`.
        retry: When and how failed requests are repeated.
        rate_limits: How fast requests may go (`RateLimits`; Pachca's documented limits by
            default), a `RateLimiter` to share between clients of one token, or `None` to
            turn client-side rate limiting off.
        session: An aiohttp `ClientSession` to use (and leave open); one is made otherwise.
        max_response_size: Bytes of an answer (decompressed) read at most: 32 MiB by default,
            1 MiB for an error answer. Past that, `ResponseTooLargeError`. Downloads
            (`chats.save_export`, `files.download_file`) are streamed and not limited.
        transport: Sends requests instead of aiohttp (tests, custom stacks).
        middlewares: Run around every request, outermost first.
        proxy: Passed to aiohttp for every request.
        ssl: Passed to aiohttp for every request.
        **session_options: Passed to the `ClientSession` the client makes (`connector`, ...).
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        rate_limits: RateLimits | RateLimiter | None = DEFAULT_RATE_LIMITS,
        session: aiohttp.ClientSession | None = None,
        transport: Transport | None = None,
        middlewares: Sequence[Middleware] = (),
        proxy: str | None = None,
        ssl: Any = True,
        max_response_size: int = MAX_RESPONSE_SIZE,
        **session_options: Any,
    ) -> None:
        token = _token(token)
        aiohttp_settings = session is not None or session_options
        if transport is not None and (aiohttp_settings or max_response_size != MAX_RESPONSE_SIZE):
            raise InvalidRequestError("pass either `transport` or aiohttp session settings")
        base_url = _base_url(base_url)
        public = {"User-Agent": USER_AGENT}
        self._target = Target(
            base_url=base_url,
            headers={**public, "Authorization": f"Bearer {token}"},
            public_headers=public,
        )
        self._transport: Transport = transport or AiohttpTransport(
            session=session,
            proxy=proxy,
            ssl=ssl,
            max_response_size=max_response_size,
            **session_options,
        )
        self._owns_transport = True
        self._calls = Calls()  # shared with `with_options` copies: closed with the original
        self._middlewares = tuple(middlewares)
        self._limiter = (
            rate_limits
            if rate_limits is None or isinstance(rate_limits, RateLimiter)
            else RateLimiter(rate_limits)
        )
        self._configure(Timeout.of(timeout), _policy(retry, max_retries))

    def _configure(self, timeout: Timeout, retry: RetryPolicy) -> None:
        self._timeout = timeout
        self._retry = retry
        pacing = [] if self._limiter is None else [self._limiter]
        self._handler: Handler = chain(
            [*self._middlewares, retry_requests(retry), *pacing, log_requests], self._transport
        )
        Services.__init__(self, self)

    def with_options(
        self,
        *,
        timeout: float | Timeout | Unset | None = UNSET,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
    ) -> PachcaClient:
        """A copy with other timeouts or retries, sharing this client's connection.

        ```python
        patient = pachca.with_options(timeout=120, max_retries=5)
        ```

        Closing the copy does nothing; close the original (which closes the copies too).
        """
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._owns_transport = False
        clone._configure(
            self._timeout if timeout is UNSET else Timeout.of(timeout),
            _policy(retry or self._retry, max_retries),
        )
        return clone

    @property
    def base_url(self) -> str:
        return self._target.base_url

    @property
    def timeout(self) -> Timeout:
        return self._timeout

    @property
    def retry(self) -> RetryPolicy:
        return self._retry

    @property
    def rate_limiter(self) -> RateLimiter | None:
        """The client-side rate limiter (shared with `with_options` copies); `None` when off."""
        return self._limiter

    def __repr__(self) -> str:
        return f"PachcaClient(base_url={self.base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the client and the connection it opened (not a session you passed in).

        Calls still queued, waiting to retry or waiting for an answer raise
        `ClientClosedError`, as does any call made later; nothing more is sent.
        """
        if self._owns_transport:
            self._calls.close()
            await self._transport.close()

    async def _execute(self, operation: Operation[T], arguments: dict[str, Any]) -> T:
        request = build_request(operation, arguments, self._target, self._timeout)
        # `_send`, inlined: this is the path every call takes.
        calls = self._calls
        task = calls.enter(request)
        try:
            response = await self._handler(request)
        except asyncio.CancelledError:
            calls.interrupted(task, request)
            raise
        finally:
            calls.leave(task)
        return self._decode(request, response)  # type: ignore[no-any-return]

    async def _execute_raw(
        self, operation: Operation[T], arguments: dict[str, Any]
    ) -> RawResponse[T]:
        request = self._build(operation, arguments)
        response = await self._send(request)
        result = self._decode(request, response)
        return RawResponse(response.status, response.headers, result, operation.name, response.body)

    def _build(self, operation: Operation[Any], arguments: dict[str, Any]) -> Request:
        return build_request(operation, arguments, self._target, self._timeout)

    def _send(self, request: Request) -> Awaitable[Response]:
        """One request through the middlewares, retries and the transport."""
        return self._calls.send(self._handler, request)

    def _decode(self, request: Request, response: Response) -> Any:
        result = decode(request, response, now=self._retry.wall_clock())
        if self._limiter is not None:
            self._limiter.observe(request, result)  # where messages live, to key their edits
        return result

    async def _download(
        self,
        operation: Operation[Any],
        arguments: dict[str, Any],
        *,
        to: str | os.PathLike[str] | Sink | None,
        progress: Progress | None,
    ) -> bytes | Path | None:
        """A binary result, streamed (`files.download_file`); see `_files.downloads`."""
        result, _ = await download(self, operation, arguments, to=to, progress=progress)
        return result

    async def _download_raw(
        self,
        operation: Operation[Any],
        arguments: dict[str, Any],
        *,
        to: str | os.PathLike[str] | Sink | None,
        progress: Progress | None,
    ) -> RawResponse[Any]:
        """`_download`, with the answer the file came in (the bytes as `content` if returned)."""
        result, response = await download(self, operation, arguments, to=to, progress=progress)
        content = result if isinstance(result, bytes) else b""
        return RawResponse(response.status, response.headers, result, operation.name, content)

    def _paginate(
        self,
        operation: Operation[Page[T, M]],
        arguments: dict[str, Any],
        *,
        max_items: int | None = None,
    ) -> Paginator[T, M]:
        def fetch(cursor: str | None) -> Awaitable[Page[T, M]]:
            return self._execute(operation, {**arguments, "cursor": cursor or UNSET})

        start = arguments.get("cursor", UNSET)
        return Paginator(fetch, cursor=None if start is UNSET else start, max_items=max_items)


def _token(given: str | None) -> str:
    """The token to send: given or from the environment, without the newline a file leaves."""
    token = (given if given is not None else os.environ.get(TOKEN_ENV, "")).strip()
    if not token:
        raise InvalidRequestError(f"PachcaClient needs a token: pass one or set {TOKEN_ENV}")
    if not token.isprintable() or any(c.isspace() for c in token):
        raise InvalidRequestError("the token contains spaces or control characters")
    return token


def _base_url(given: str | None) -> str:
    """Where to send requests: given, else from the environment, else Pachca's API."""
    name, base_url = "base_url", given
    if base_url is None:
        name, base_url = BASE_URL_ENV, os.environ.get(BASE_URL_ENV, "").strip()
        if not base_url:
            return DEFAULT_BASE_URL
    try:
        url = URL(base_url)
    except (TypeError, ValueError):
        url = URL()
    if url.scheme not in ("http", "https") or not url.host:
        raise InvalidRequestError(f"{name} must be an absolute http(s) URL, got {base_url!r}")
    return base_url


def _policy(retry: RetryPolicy | None, max_retries: int | None) -> RetryPolicy:
    policy = retry or RetryPolicy()
    return policy if max_retries is None else policy.with_changes(max_retries=max_retries)
