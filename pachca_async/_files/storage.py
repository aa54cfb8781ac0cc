"""Requests to the file storage: the presigned URLs Pachca hands out for uploads and exports.

They pass through the client's middlewares, retries and transport like any call, but as
operations without auth: no token, and (with the default transport) no cookie or default
header of the session. A transfer has no limit on its total time, since a large file takes as
long as it takes; the client's connect and read timeouts still apply.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Protocol, cast

import attrs

from .._operation import Operation, Result, ResultKind
from .._service import Requester, Service
from .._transport import Body, Request, Response, Sink


class Client(Requester, Protocol):
    """What the storage flows need from `PachcaClient`: requests built and sent one at a time."""

    def _build(self, operation: Operation[Any], arguments: dict[str, Any]) -> Request: ...

    def _send(self, request: Request) -> Awaitable[Response]: ...

    def _decode(self, request: Request, response: Response) -> Any: ...


class StorageHelpers(Service):
    """The base of hand-written helpers on a service (see `codegen/overlay.yaml`): their
    storage flows need the client itself, not only the calls a `Requester` runs."""

    __slots__ = ()

    @property
    def _client(self) -> Client:
        return cast(Client, self._requester)


def storage_operation(name: str, method: str) -> Operation[None]:
    """An operation on a storage URL given as the `url` argument, sent without credentials."""
    return Operation(
        name=name,
        operation_id="",
        method=method,
        path="",
        result=Result(ResultKind.NONE),
        success_status=200,
        auth=False,
        url_param="url",
    )


def storage_request(
    client: Client,
    operation: Operation[None],
    url: str,
    *,
    body: Body = None,
    sink: Sink | None = None,
) -> Request:
    return unbounded(client._build(operation, {"url": url}), body=body, sink=sink)


def unbounded(request: Request, **changes: Any) -> Request:
    """`request` with `changes` and no limit on its total time: a file takes as long as it takes."""
    return attrs.evolve(request, timeout=attrs.evolve(request.timeout, total=None), **changes)


def succeeded(response: Response) -> bool:
    """Any 2xx: storages answer an upload with 200, 201 or 204, as configured."""
    return 200 <= response.status < 300
