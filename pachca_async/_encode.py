"""From an `Operation` and the caller's arguments to a `Request`: URL, query, body.

Only what the caller passed is sent (`UNSET` arguments are left out; `None` is sent as
`null`), and nothing is read from or written to the caller's objects.
"""

from __future__ import annotations

import datetime
import enum
import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

import attrs

from ._config import Timeout
from ._convert import unstructure
from ._exceptions import InvalidRequestError
from ._files.content import multipart_body
from ._operation import BodyKind, Operation
from ._transport import Body, Request, redacted
from ._types import UNSET

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


@attrs.frozen
class Target:
    """Where and how requests go: what every request of a client shares."""

    base_url: str
    headers: Mapping[str, str] = attrs.field(repr=redacted)
    """Sent with every request that needs auth (the `Authorization` header among them)."""
    public_headers: Mapping[str, str]
    """Sent with requests that must not carry the token (uploads to the file storage)."""


def build_request(
    operation: Operation[Any], arguments: Mapping[str, Any], target: Target, timeout: Timeout
) -> Request:
    headers = dict(target.headers if operation.auth else target.public_headers)
    if operation.headers:
        headers.update(operation.headers)
    body = _body(operation, arguments)
    if isinstance(body, bytes):
        form = operation.body is not None and operation.body.kind is BodyKind.FORM
        headers["Content-Type"] = FORM_CONTENT_TYPE if form else JSON_CONTENT_TYPE
    return Request(
        method=operation.method,
        url=_url(operation, arguments, target),
        operation=operation,
        arguments=arguments,
        params=tuple(_query(operation, arguments)),
        headers=headers,
        body=body,
        timeout=timeout,
    )


def _url(operation: Operation[Any], arguments: Mapping[str, Any], target: Target) -> str:
    if operation.url_param is not None:
        url = arguments.get(operation.url_param)
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise InvalidRequestError(
                f"{operation.name}: `{operation.url_param}` must be an absolute http(s) URL"
            )
        return url
    path = operation.path
    for param in operation.params:
        if param.location != "path":
            continue
        value = arguments.get(param.name, UNSET)
        if value is UNSET or value is None or value == "":
            raise InvalidRequestError(f"{operation.name}: `{param.name}` is required")
        path = path.replace("{" + param.name + "}", _path_segment(value))
    return target.base_url.rstrip("/") + path


def _path_segment(value: Any) -> str:
    if type(value) is int:  # nearly every path parameter is an id: nothing to escape
        return str(value)
    return quote(_scalar(value), safe="")


def _query(operation: Operation[Any], arguments: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    for param in operation.params:
        if param.location != "query":
            continue
        value = arguments.get(param.name, UNSET)
        if value is UNSET or value is None:
            if param.required:
                raise InvalidRequestError(f"{operation.name}: `{param.name}` is required")
            continue
        if isinstance(value, list | tuple | set | frozenset):
            for item in value:
                yield param.wire_name, _scalar(item)
        else:
            yield param.wire_name, _scalar(value)


def _scalar(value: Any) -> str:
    """A query or path value as the API reads it: `true`/`false`, enum values, ISO dates."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, datetime.datetime | datetime.date):
        return str(unstructure(value))
    return str(value)


def _body(operation: Operation[Any], arguments: Mapping[str, Any]) -> Body:
    spec = operation.body
    if spec is None:
        return None
    model = arguments.get("body", UNSET)
    given = {
        f.name: arguments[f.name] for f in spec.fields if arguments.get(f.name, UNSET) is not UNSET
    }
    if model is not UNSET:
        if given:
            raise InvalidRequestError(
                f"{operation.name}: pass either `body=` or keyword fields, not both "
                f"(got body= and {', '.join(sorted(given))})"
            )
        if not isinstance(model, spec.model):
            raise InvalidRequestError(
                f"{operation.name}: `body` must be a {spec.model.__name__}, "
                f"got {type(model).__name__}"
            )
        if spec.kind is BodyKind.MULTIPART:
            return multipart_body(operation, {f.name: getattr(model, f.name) for f in spec.fields})
        whole = unstructure(model)
        if spec.kind is BodyKind.FORM:
            return _form(operation, whole)
        return _json(operation, whole, {"body": whole})
    missing = [f.name for f in spec.fields if f.required and f.name not in given]
    if missing:
        raise InvalidRequestError(
            f"{operation.name}: missing required argument(s): {', '.join(missing)}"
        )
    if spec.kind is BodyKind.MULTIPART:
        return multipart_body(operation, given)
    values = {name: unstructure(value) for name, value in given.items()}
    document: dict[str, Any] = {}
    for f in spec.fields:
        container = document
        for key in f.path[:-1]:  # the envelope (`message`) is sent even if empty, ...
            container = container.setdefault(key, {})
        if f.name in values:
            container[f.path[-1]] = values[f.name]
        elif f.default is not None:
            container[f.path[-1]] = f.default
    if len(document) > 1:  # ... unless something else is: `update_bot(7, promo=...)` alone
        document = {k: v for k, v in document.items() if v != {} or k in values}
    if spec.kind is BodyKind.FORM:
        return _form(operation, document)
    return _json(operation, document, values)


def _form(operation: Operation[Any], document: Mapping[str, Any]) -> bytes:
    """A flat document as `application/x-www-form-urlencoded`; a list repeats its key.

    A form has no `null` and no nesting, so those are the caller's error, named.
    """
    pairs: list[tuple[str, str]] = []
    for name, value in document.items():
        for item in value if isinstance(value, list) else [value]:
            if item is None or isinstance(item, Mapping | list):
                raise InvalidRequestError(
                    f"{operation.name}: `{name}` cannot be sent in a form ({type(item).__name__})"
                )
            pairs.append((name, _scalar(item)))
    return urlencode(pairs).encode()


def _json(operation: Operation[Any], document: Any, values: Mapping[str, Any]) -> bytes:
    """The body as UTF-8 JSON; a value JSON cannot carry is the caller's error, named."""
    try:
        return _dumps(document)
    except (TypeError, ValueError) as error:
        bad = [name for name, value in values.items() if not _encodable(value)]
        raise InvalidRequestError(
            f"{operation.name}: cannot send {', '.join(f'`{n}`' for n in bad)} as JSON: {error}"
        ) from None


def _dumps(document: Any) -> bytes:
    return json.dumps(
        document, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_as_list
    ).encode()


def _as_list(value: Any) -> list[Any]:
    """Sets travel as JSON arrays; anything else JSON has no form for is refused."""
    if isinstance(value, set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _encodable(value: Any) -> bool:
    try:
        _dumps(value)
    except (TypeError, ValueError):
        return False
    return True
