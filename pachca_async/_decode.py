"""From a `Response` to what the call returns, or to the error it raises.

Whatever the server sends (HTML from a proxy, an empty 429, a body of the wrong shape), the
caller gets a typed `PachcaError`, never a `JSONDecodeError`, `KeyError` or `TypeError`.
"""

from __future__ import annotations

import html
import re
from typing import Any

from yarl import URL

from ._convert import loads, structure, structure_parsed
from ._exceptions import (
    APIStatusError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    StorageError,
    error_class,
)
from ._generated.models import ApiErrorItem
from ._operation import Operation, ResultKind
from ._pagination import Page
from ._retry_after import parse_retry_after
from ._transport import Request, Response

_XML_FIELDS = {
    name: re.compile(rf"<{name}>(.*?)</{name}>".encode(), re.DOTALL) for name in ("Code", "Message")
}


def decode(request: Request, response: Response, *, now: float) -> Any:
    """The call's result for a success status; raises the matching error otherwise.

    `now` (wall-clock seconds) turns an HTTP-date `Retry-After` into seconds.
    """
    operation = request.operation
    result = operation.result
    if not 200 <= response.status < 400 or (
        response.status >= 300 and result.kind is not ResultKind.LOCATION
    ):
        raise status_error(request, response, now=now)
    if result.kind is ResultKind.NONE:
        return None
    if result.kind is ResultKind.LOCATION:
        location = response.headers.get("Location")
        if not location:
            raise _decode_error(request, response, "the answer has no Location header")
        return str(URL(request.url).join(URL(location)))  # a relative one is legal HTTP
    try:
        document = loads(response.body)
    except ValueError:
        raise _decode_error(request, response, "the body is not JSON") from None
    try:
        return _typed(operation, document)
    except Exception as error:  # any shape mismatch: KeyError, TypeError, ValueError, ...
        detail = f"the body does not match the spec ({type(error).__name__}: {error})"
        raise _decode_error(request, response, detail) from error


def _typed(operation: Operation[Any], document: Any) -> Any:
    result = operation.result
    if document is None and result.nullable:  # the spec's literal `null`
        return None
    value = document["data"] if result.envelope else document
    if value is None and result.nullable:  # `{"data": null}` means the same
        return None
    if operation.pagination is None:
        return structure_parsed(value, result.type)
    meta = document.get("meta") or {}
    paginate = meta.get("paginate") or {}
    has_next = paginate.get("has_next")
    total = meta.get("total")
    return Page(
        items=structure_parsed(value, result.type),
        meta=structure(meta, result.meta),
        next_cursor=paginate.get("next_page") or None,
        has_next=has_next if isinstance(has_next, bool) else None,
        total=total if isinstance(total, int) else None,
    )


def _decode_error(request: Request, response: Response, detail: str) -> ResponseDecodeError:
    operation = request.operation
    return ResponseDecodeError(
        f"{operation.name} ({request.method} {request.path}) answered {response.status}: {detail}",
        status=response.status,
        body=response.body,
        operation=operation.name,
    )


def status_error(request: Request, response: Response, *, now: float) -> APIStatusError:
    """The typed error for an error answer, with whatever its body says parsed out."""
    operation = request.operation
    errors: list[Any] = []
    error = description = None
    detail = "empty body" if not response.body else "undecodable body"
    try:
        document = loads(response.body) if response.body else None
    except ValueError:
        document = None
    if isinstance(document, dict):
        if isinstance(document.get("errors"), list):
            errors = [_error_item(item) for item in document["errors"]]
            detail = "; ".join(_describe_item(item) for item in errors) or "no details"
        if isinstance(document.get("error"), str):
            error = document["error"]
            description = str(document.get("error_description") or "")
            detail = f"{error}: {description}" if description else error
    cls = error_class(response.status, [i.code for i in errors if isinstance(i, ApiErrorItem)])
    message = (
        f"{operation.name} ({request.method} {request.path}) failed with "
        f"{response.status} {response.reason}".rstrip()
        + f": {detail}"
    )
    extra: dict[str, Any] = {}
    if cls is RateLimitError:
        extra["retry_after"] = parse_retry_after(response.headers.get("Retry-After"), now=now)
    if cls is PermissionDeniedError:
        extra["required_scope"] = operation.scope
    return cls(
        message,
        status=response.status,
        headers=response.headers,
        body=response.body,
        errors=errors,
        error=error,
        error_description=description,
        operation=operation.name,
        **extra,
    )


def _error_item(item: Any) -> Any:
    """An `ApiErrorItem`, or the raw value when it does not have that shape.

    `value` and `payload` are nullable, so an item that leaves them out still parses.
    """
    if not isinstance(item, dict):
        return item
    try:
        return structure({"value": None, "payload": None, **item}, ApiErrorItem)
    except Exception:
        return item


def _describe_item(item: Any) -> str:
    if isinstance(item, ApiErrorItem):
        return f"{item.key}: {item.message}" if item.key else item.message
    return str(item)


def storage_error(
    response: Response, cls: type[StorageError], what: str, *, hint: str | None = None
) -> StorageError:
    """The typed error for a refusal of the file storage, with the code and text of its XML.

    S3-compatible storages answer `<Error><Code>...</Code><Message>...</Message></Error>`;
    anything else still gives the status. `hint` says what the caller can do about it.
    """
    code, text = (_xml_field(response.body, name) for name in ("Code", "Message"))
    detail = ": ".join(part for part in (code, text) if part) or "no details"
    message = f"the file storage refused {what} with {response.status} {response.reason}"
    return cls(
        f"{message.rstrip()}: {detail}" + (f"; {hint}" if hint else ""),
        status=response.status,
        code=code,
        storage_message=text,
    )


def _xml_field(body: bytes, name: str) -> str | None:
    found = _XML_FIELDS[name].search(body[:65536])
    if found is None:
        return None
    return html.unescape(found.group(1).decode("utf-8", "replace")).strip() or None
