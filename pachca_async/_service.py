"""The base of the generated service classes, and what they need from a client."""

from __future__ import annotations

import os
import warnings
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from ._exceptions import OperationUnavailableError
from ._files.content import Progress
from ._operation import Operation
from ._pagination import Page, Paginator
from ._raw import RawRequester, RawResponse
from ._transport import Sink

T = TypeVar("T")
M = TypeVar("M")


class Requester(Protocol):
    """What executes operations: `PachcaClient`, or a test double."""

    async def _execute(self, operation: Operation[T], arguments: dict[str, Any]) -> T: ...

    async def _execute_raw(
        self, operation: Operation[T], arguments: dict[str, Any]
    ) -> RawResponse[T]: ...

    def _paginate(
        self,
        operation: Operation[Page[T, M]],
        arguments: dict[str, Any],
        *,
        max_items: int | None = None,
    ) -> Paginator[T, M]: ...

    def _download(
        self,
        operation: Operation[Any],
        arguments: dict[str, Any],
        *,
        to: str | os.PathLike[str] | Sink | None,
        progress: Progress | None,
    ) -> Awaitable[bytes | Path | None]: ...

    async def _download_raw(
        self,
        operation: Operation[Any],
        arguments: dict[str, Any],
        *,
        to: str | os.PathLike[str] | Sink | None,
        progress: Progress | None,
    ) -> RawResponse[Any]: ...


class Service:
    """A namespace of calls (`pachca.messages`); each method describes itself to the requester.

    Arguments travel by keyword name, `UNSET` for those the caller did not pass: the session
    layer decides what goes to the path, the query and the body.
    """

    __slots__ = ("_requester",)

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def _call(self, operation: Operation[T], arguments: dict[str, Any]) -> Awaitable[T]:
        # Hands back the requester's coroutine rather than wrapping it in one more.
        return self._requester._execute(operation, arguments)

    def _paginate(
        self,
        operation: Operation[Page[T, M]],
        arguments: dict[str, Any],
        *,
        max_items: int | None = None,
    ) -> Paginator[T, M]:
        return self._requester._paginate(operation, arguments, max_items=max_items)

    def _download(
        self,
        operation: Operation[Any],
        arguments: dict[str, Any],
        *,
        to: str | os.PathLike[str] | Sink | None,
        progress: Progress | None,
    ) -> Awaitable[bytes | Path | None]:
        return self._requester._download(operation, arguments, to=to, progress=progress)

    def _raw_requester(self) -> Requester:
        """What this service's `with_raw_response` twin is bound to."""
        return RawRequester.around(self._requester)

    def _moved(self, old: str, new: str) -> Any:
        """The method `new` (`service.method`) for the deprecated name `old`, with a warning."""
        warnings.warn(f"`{old}` is deprecated: use `{new}`", DeprecationWarning, stacklevel=3)
        service, _, method = new.partition(".")
        return getattr(getattr(self._requester, service), method)


def operation(operation_id: str) -> Operation[Any]:
    """The generated operation `operation_id`, for hand-written helpers built on it.

    Looked up when called, not imported: a helper whose operation a spec no longer has fails
    with this clear error when used, and `import pachca_async` still works.
    """
    from ._generated.services import OPERATIONS_BY_ID  # the services import the helpers

    found = OPERATIONS_BY_ID.get(operation_id)
    if found is None:
        raise OperationUnavailableError(
            f"{operation_id} is not in the openapi.yaml this SDK was generated from"
        )
    return found
