"""Middlewares: the cross-cutting concerns every request passes through, in one place.

A middleware takes the request and the next handler and returns the response:

    async def middleware(request: Request, call_next: Handler) -> Response: ...

The client chains: your middlewares → retries → rate limits → logging → the transport.
Retries sit outside the rate limiter, so every attempt is paced; logging sits inside it, so
each attempt that reaches the network logs one line. Your middlewares see one request per call:
once `call_next` has returned (or raised), `request.attempt` is the number of the last attempt.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence

from ._decode import status_error
from ._exceptions import PachcaError
from ._files.content import MultipartBody
from ._retry import RetryEvent, RetryPolicy
from ._transport import Request, Response, Transport

logger = logging.getLogger("pachca_async")

Handler = Callable[[Request], Awaitable[Response]]
Middleware = Callable[[Request, Handler], Awaitable[Response]]


def chain(middlewares: Sequence[Middleware], transport: Transport) -> Handler:
    """One handler running `middlewares` (outermost first) around `transport.send`."""
    handler: Handler = transport.send
    for middleware in reversed(middlewares):
        handler = _bind(middleware, handler)
    return handler


def _bind(middleware: Middleware, call_next: Handler) -> Handler:
    # A plain function handing back the middleware's awaitable: no coroutine of its own.
    def handle(request: Request) -> Awaitable[Response]:
        return middleware(request, call_next)

    return handle


def log_requests(request: Request, call_next: Handler) -> Awaitable[Response]:
    """One DEBUG line per attempt: method, path, status, milliseconds, attempt.

    With DEBUG off (the usual case) the request goes straight on: no clock reads, no
    formatting, no coroutine of its own.
    """
    if not logger.isEnabledFor(logging.DEBUG):
        return call_next(request)
    return _logged(request, call_next)


async def _logged(request: Request, call_next: Handler) -> Response:
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        response = await call_next(request)
    except PachcaError as error:
        logger.debug(
            "%s %s -> %s in %.0f ms (attempt %d)",
            request.method,
            request.path,
            type(error).__name__,
            (loop.time() - started) * 1000,
            request.attempt,
        )
        raise
    logger.debug(
        "%s %s -> %d in %.0f ms (attempt %d)",
        request.method,
        request.path,
        response.status,
        (loop.time() - started) * 1000,
        request.attempt,
    )
    return response


def retry_requests(policy: RetryPolicy) -> Middleware:
    """Repeat failed attempts as `policy` allows; give the last answer or error otherwise."""

    async def retry(request: Request, call_next: Handler) -> Response:
        loop = asyncio.get_running_loop()
        started = loop.time()
        attempt = 1
        while True:
            try:
                response = await call_next(request)
            except PachcaError as error:
                failure: PachcaError = error
                answer = None
            else:
                if response.status < 400:
                    return response
                failure = status_error(request, response, now=policy.wall_clock())
                answer = response
            delay = policy.delay(failure, method=request.method, attempt=attempt)
            if (
                delay is None
                or not _replayable(request)
                or (policy.deadline is not None and loop.time() + delay - started > policy.deadline)
            ):
                if answer is None:
                    raise failure
                return answer
            await _announce(policy, request, attempt, delay, failure)
            await asyncio.sleep(delay)
            attempt += 1
            # In place, so the middlewares outside see how many attempts the call took.
            request.attempt = attempt

    return retry


def _replayable(request: Request) -> bool:
    """Only a body that can be read again from its first byte is sent again; a stream is not."""
    body = request.body
    return (
        body is None
        or isinstance(body, bytes)
        or (isinstance(body, MultipartBody) and body.rereadable)
    )


async def _announce(
    policy: RetryPolicy, request: Request, attempt: int, delay: float, error: PachcaError
) -> None:
    logger.info(
        "retrying %s %s in %.2f s after attempt %d: %s",
        request.method,
        request.path,
        delay,
        attempt,
        error,
    )
    if policy.on_retry is not None:
        event = RetryEvent(request.operation.name, request.method, attempt, delay, error)
        outcome = policy.on_retry(event)
        if inspect.isawaitable(outcome):
            await outcome
