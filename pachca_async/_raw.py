"""Raw responses: `pachca.messages.with_raw_response.create_message(...)` answers the status,
headers and request id of the response along with the typed result.

Each generated service has a `with_raw_response` twin whose calls take the same arguments.
The twin is the same service class bound to a `RawRequester`, which executes operations like
the client does but answers `RawResponse`s; `raw_call` and `raw_page` give its methods the
return types that says (the arguments keep their types, overloads included).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, cast

import attrs
from multidict import CIMultiDict, CIMultiDictProxy

from ._config import REQUEST_ID_HEADER
from ._exceptions import InvalidRequestError
from ._operation import Operation
from ._pagination import Page, Paginator

if TYPE_CHECKING:
    from ._files.content import Progress
    from ._service import Requester
    from ._transport import Sink

P = ParamSpec("P")
T = TypeVar("T")
M = TypeVar("M")


@attrs.frozen
class RawResponse(Generic[T]):
    """A success answer as it came, with the typed result the plain call returns (`data`).

    An error status raises the usual `APIStatusError` subclass, as the plain call does.
    """

    status: int
    headers: CIMultiDictProxy[str] | CIMultiDict[str]
    data: T
    """What the plain call returns: a model, a `Page` for a list call, `None` for no body."""
    operation: str
    """The `service.method` that was called."""
    content: bytes = attrs.field(repr=False)
    """The body as received (empty for a download streamed to disk)."""

    @property
    def request_id(self) -> str | None:
        """The id Pachca gave the request (`X-Request-Id`), to quote to its support."""
        return self.headers.get(REQUEST_ID_HEADER)


class RawRequester:
    """Executes operations for a `with_raw_response` twin: each call answers a `RawResponse`."""

    __slots__ = ("_requester",)

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def _execute(self, operation: Operation[T], arguments: dict[str, Any]) -> Awaitable[Any]:
        return self._requester._execute_raw(operation, arguments)

    def _paginate(
        self,
        operation: Operation[Page[T, M]],
        arguments: dict[str, Any],
        *,
        max_items: int | None = None,
    ) -> Any:
        if max_items is not None:
            raise InvalidRequestError(
                f"{operation.name}: max_items bounds a walk over pages; a raw response is one page"
            )
        return self._requester._execute_raw(operation, arguments)  # from `cursor=`, if given

    def _download(
        self,
        operation: Operation[Any],
        arguments: dict[str, Any],
        *,
        to: str | os.PathLike[str] | Sink | None,
        progress: Progress | None,
    ) -> Awaitable[Any]:
        return self._requester._download_raw(operation, arguments, to=to, progress=progress)

    @classmethod
    def around(cls, requester: Requester) -> Requester:
        """A requester for the twin; typed as the plain one, which `raw_call` then corrects."""
        return cast("Requester", cls(requester))


def raw_call(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[RawResponse[T]]]:
    """`method` of a service bound to a `RawRequester`, typed as what it answers."""
    return cast("Callable[P, Awaitable[RawResponse[T]]]", method)


def raw_page(
    method: Callable[P, Paginator[T, M]],
) -> Callable[P, Awaitable[RawResponse[Page[T, M]]]]:
    """A list call of a service bound to a `RawRequester`: one page per call, raw."""
    return cast("Callable[P, Awaitable[RawResponse[Page[T, M]]]]", method)
