"""The error tree: everything this SDK raises is a `PachcaError`.

    PachcaError
    ├── APIStatusError                 the API answered with an error status
    │   ├── ValidationError            400, 422 (field-level `errors`)
    │   │   └── SubmitExpiredError     422 `submit_expired`: a form answer Pachca no longer takes
    │   ├── AuthenticationError        401
    │   ├── PaymentRequiredError       402 (not on the workspace's plan)
    │   ├── PermissionDeniedError      403 (`missing_scope` when the token lacks one)
    │   ├── NotFoundError              404
    │   ├── ConflictError              409
    │   ├── GoneError                  410 (an expired `trigger_id`)
    │   ├── RateLimitError             429 (`retry_after`)
    │   └── ServerError                5xx
    ├── APIConnectionError             no answer: the request may or may not have arrived
    │   ├── ConnectError               the connection failed before anything was sent
    │   ├── APITimeoutError            no complete answer in time
    │   └── ConnectTimeoutError        no connection in time (both of the above)
    ├── ResponseDecodeError            a success answer that is not what the spec says
    ├── ResponseTooLargeError          an answer longer than the client reads
    ├── StorageError                   the file storage refused a transfer
    │   ├── UploadError                an upload (`files.upload`)
    │   └── DownloadError              a download (`chats.save_export`)
    ├── InvalidRequestError            the arguments cannot make a valid request (also a
    │                                  ValueError); nothing was sent
    ├── ClientClosedError              the client was closed before or during the call
    └── EventLoopError                 a client used from an event loop not its own (also a
                                       RuntimeError)

Messages name the call and what went wrong; they never contain the token. Errors survive
`pickle` with their attributes (multiprocessing, Celery, pytest-xdist).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy

from ._retry_after import sane_retry_after

Headers = CIMultiDictProxy[str] | CIMultiDict[str] | Mapping[str, str]

_SCOPE = re.compile(r"\b[a-z_]+(?::[a-z_]+)+\b")


class PachcaError(Exception):
    """The root of every error this SDK raises."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's own pickling calls `cls(*args)`, which our keyword-only attributes
        # break; rebuild from the message and the attributes instead.
        state = {
            name: CIMultiDict(value) if isinstance(value, CIMultiDictProxy) else value
            for name, value in vars(self).items()
        }
        return _restore, (type(self), self.args, state)


def _restore(cls: type[PachcaError], args: tuple[Any, ...], state: dict[str, Any]) -> PachcaError:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class APIStatusError(PachcaError):
    """The API answered with an error status.

    Attributes:
        status: The HTTP status code.
        headers: The response headers.
        body: The raw response body (empty if there was none).
        errors: The parsed `errors` items (`ApiErrorItem`), if the body had them.
        error: The OAuth error code (`invalid_token`, `insufficient_scope`), if any.
        error_description: The OAuth error text, if any.
        request_id: The server's request id, when it sent one.
        operation: The `service.method` that was called.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        headers: Headers,
        body: bytes = b"",
        errors: Sequence[Any] = (),
        error: str | None = None,
        error_description: str | None = None,
        operation: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers
        self.body = body
        self.errors = list(errors)
        self.error = error
        self.error_description = error_description
        self.operation = operation
        self.request_id: str | None = headers.get("x-request-id")


class ValidationError(APIStatusError):
    """400 or 422: the request is malformed or breaks a rule; see `errors` per field."""


class SubmitExpiredError(ValidationError):
    """422 with the code `submit_expired`: the form submission can no longer be answered
    (`views.submit_view_response` came too late for Pachca)."""


class AuthenticationError(APIStatusError):
    """401: the token is missing, invalid or revoked."""


class PaymentRequiredError(APIStatusError):
    """402: the call is not available on the workspace's plan."""


class PermissionDeniedError(APIStatusError):
    """403: the token lacks a scope (`missing_scope`), or the user lacks the right."""

    def __init__(self, message: str, *, required_scope: str | None = None, **details: Any) -> None:
        super().__init__(message, **details)
        self.required_scope = required_scope
        """The scope the call needs (from the spec)."""

    @property
    def missing_scope(self) -> str | None:
        """The scope the token lacks, when the API said a scope was the problem."""
        if self.error != "insufficient_scope":
            return None
        found = _SCOPE.search(self.error_description or "")
        return found.group(0) if found else self.required_scope


class NotFoundError(APIStatusError):
    """404: no such object, or the token cannot see it."""


class ConflictError(APIStatusError):
    """409: the request conflicts with another one."""


class GoneError(APIStatusError):
    """410: the object is no longer available (an expired `trigger_id`, say)."""


class RateLimitError(APIStatusError):
    """429: too many requests; `retry_after` says how many seconds to wait (if known)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **details: Any) -> None:
        super().__init__(message, **details)
        self.retry_after = sane_retry_after(retry_after)


class ServerError(APIStatusError):
    """5xx: something failed on Pachca's side."""


class APIConnectionError(PachcaError):
    """No answer came: the request may or may not have reached the server."""


class ConnectError(APIConnectionError):
    """The connection could not be made; nothing was sent, so any call may be retried."""


class APITimeoutError(APIConnectionError):
    """No complete answer within the timeout."""


class ConnectTimeoutError(ConnectError, APITimeoutError):
    """No connection within the connect timeout: a timeout, and nothing was sent."""


class ResponseDecodeError(PachcaError):
    """A success answer that could not be read as the spec describes (not JSON, wrong shape).

    Attributes:
        status: The HTTP status code.
        body: The raw response body.
        operation: The `service.method` that was called.
    """

    def __init__(self, message: str, *, status: int, body: bytes, operation: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = body
        self.operation = operation


class ResponseTooLargeError(PachcaError):
    """An answer longer than the client reads (`max_response_size`, or less for an error
    status); reading stopped there and the connection was dropped.

    Attributes:
        status: The HTTP status code.
        limit: The most bytes that answer could have had.
        operation: The `service.method` that was called.
    """

    def __init__(self, message: str, *, status: int, limit: int, operation: str) -> None:
        super().__init__(message)
        self.status = status
        self.limit = limit
        self.operation = operation


class ClientClosedError(PachcaError):
    """The client was closed: a call made afterwards, or one still queued, waiting to retry or
    waiting for its answer when `close()` came. Nothing is sent after `close()`; a call that
    was waiting for its answer may have reached the server."""


class EventLoopError(PachcaError, RuntimeError):
    """A client or rate limiter used from an event loop other than the one it was first used
    in (another thread's, or a later `asyncio.run`'s): make one per event loop."""


class InvalidRequestError(PachcaError, ValueError):
    """The arguments cannot make a valid request (a required one missing, a value over a limit).

    Raised before anything is sent.
    """


class OperationUnavailableError(PachcaError):
    """A hand-written helper needs an API call that the spec this SDK was generated from lacks.

    Raised when the helper is called, before anything is sent.
    """


class StorageError(PachcaError):
    """The file storage (not the Pachca API) refused a transfer.

    Attributes:
        status: The storage's HTTP status code.
        code: The storage's error code (`AccessDenied`, `EntityTooLarge`, ...), if it sent one.
        storage_message: The storage's error text, if it sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        storage_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.storage_message = storage_message


class UploadError(StorageError):
    """The file storage refused an upload."""


class DownloadError(StorageError):
    """The file storage refused a download."""


STATUS_ERRORS: Mapping[int, type[APIStatusError]] = {
    400: ValidationError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    422: ValidationError,
    429: RateLimitError,
}


CODE_ERRORS: Mapping[str, type[ValidationError]] = {"submit_expired": SubmitExpiredError}
"""Validation codes that have an error type of their own."""


def error_class(status: int, codes: Collection[str] = ()) -> type[APIStatusError]:
    """The error type for an HTTP status, narrowed by the validation `codes` the body gave."""
    if status >= 500:
        return ServerError
    cls = STATUS_ERRORS.get(status, APIStatusError)
    if cls is ValidationError:
        cls = next((CODE_ERRORS[code] for code in CODE_ERRORS if code in codes), cls)
    return cls
