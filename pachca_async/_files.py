"""File content for multipart requests: paths, bytes, file objects and async streams.

Content is streamed, never read whole into memory; a file the SDK opens is closed by it,
and a file object the caller passes stays open.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from pathlib import Path
from typing import IO, Any

import aiohttp
from aiohttp import payload

from ._exceptions import InvalidRequestError
from ._operation import Operation
from ._types import UNSET, FileInput, InputFile

CHUNK = 256 * 1024


def describe(value: FileInput) -> tuple[InputFile, str]:
    """The file with its name and content type settled."""
    file = value if isinstance(value, InputFile) else InputFile(value)
    name = file.name
    if name is None and isinstance(file.source, str | os.PathLike):
        name = Path(file.source).name
    if name is None:
        name = getattr(file.source, "name", None)
        name = Path(name).name if isinstance(name, str) else "file"
    content_type = file.content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return InputFile(file.source, name, content_type), content_type


def file_payload(value: FileInput) -> payload.Payload:
    """An aiohttp payload that streams the file's content."""
    file, content_type = describe(value)
    source = file.source
    if isinstance(source, bytes | bytearray | memoryview):
        return payload.BytesPayload(bytes(source), content_type=content_type)
    if isinstance(source, str | os.PathLike):
        return payload.AsyncIterablePayload(_read_path(Path(source)), content_type=content_type)
    if isinstance(source, AsyncIterable):
        return payload.AsyncIterablePayload(source, content_type=content_type)
    if hasattr(source, "read"):
        return payload.AsyncIterablePayload(_read_io(source), content_type=content_type)
    raise InvalidRequestError(f"cannot send {type(source).__name__} as a file")


async def _read_path(path: Path) -> AsyncIterator[bytes]:
    try:
        handle = path.open("rb")
    except OSError as error:
        raise InvalidRequestError(f"cannot read {path}: {error.strerror}") from None
    with handle:
        async for chunk in _read_io(handle):
            yield chunk


async def _read_io(handle: IO[bytes]) -> AsyncIterator[bytes]:
    while chunk := handle.read(CHUNK):
        yield chunk


def multipart_body(operation: Operation[Any], values: Mapping[str, Any]) -> aiohttp.MultipartWriter:
    """The form for a multipart operation: fields in the spec's order, files as file parts."""
    assert operation.body is not None
    form = aiohttp.MultipartWriter("form-data")
    for field in operation.body.fields:
        value = values.get(field.name, UNSET)
        if value is UNSET:
            if field.required:
                raise InvalidRequestError(
                    f"{operation.name}: missing required argument {field.name}"
                )
            continue
        wire = field.path[-1]
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            part = form.append(str(value))
            part.set_content_disposition("form-data", name=wire)
        else:
            file, _ = describe(value)
            part = form.append_payload(file_payload(file))
            part.set_content_disposition("form-data", name=wire, filename=file.name)
    return form
