"""File content for request bodies, and multipart/form-data bodies streamed from it.

A `FileContent` reads its source (a path, `bytes`, a binary file object or an async iterator of
`bytes`) in chunks, never whole. Paths, `bytes` and seekable file objects can be read again, from
the same first byte, so a retry sends the whole file; a pipe or an async iterator is read once, and
reading it a second time fails instead of sending a truncated body. A file the SDK opens is closed
by it; a file object the caller passes stays open.

`MultipartBody` streams text fields and files in the order given, with its exact size whenever
every file's size is known: storage servers refuse uploads sent in chunked encoding.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import io
import mimetypes
import os
import secrets
import tempfile
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Mapping,
)
from pathlib import Path
from typing import IO, Any, TypeAlias

import attrs

from .._exceptions import InvalidRequestError
from .._operation import Operation
from .._types import UNSET, FileInput, FileSource, InputFile

CHUNK = 512 * 1024
SPOOL_IN_MEMORY = 1024 * 1024
DEFAULT_CONTENT_TYPE = "application/octet-stream"

Progress: TypeAlias = Callable[[int, int | None], Awaitable[None] | None]
"""Called with the bytes sent so far and the total (`None` when unknown); may be async."""


async def report(progress: Progress | None, done: int, total: int | None) -> None:
    """Tell `progress` (if any) how far a transfer got, awaiting it if it is async."""
    if progress is not None:
        outcome = progress(done, total)
        if inspect.isawaitable(outcome):
            await outcome


class FileContent:
    """One file to send: its name, MIME type, size (if known) and a way to read it in chunks.

    Build it with `describe()`.
    """

    __slots__ = ("_read", "_read_once", "content_type", "name", "rereadable", "size")

    def __init__(
        self,
        name: str,
        content_type: str,
        size: int | None,
        read: Callable[[], AsyncIterator[bytes]],
        *,
        rereadable: bool,
    ) -> None:
        self.name = name
        self.content_type = content_type
        self.size = size
        self.rereadable = rereadable
        self._read = read
        self._read_once = False

    def __repr__(self) -> str:
        return f"FileContent({self.name!r}, {self.content_type!r}, size={self.size})"

    def chunks(self) -> AsyncIterator[bytes]:
        """The content from its first byte; exactly `size` bytes when the size is known."""
        if self._read_once and not self.rereadable:
            raise InvalidRequestError(
                f"{self.name}: a stream read as it is sent cannot be sent twice; pass a path, "
                "bytes, a seekable file, or (for an upload) the stream without `size`"
            )
        self._read_once = True
        return self._checked(self._read())

    async def _checked(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """Chunks as `bytes`, failing (never truncating) if the source changed size meanwhile."""
        read = 0
        async with closing(chunks):  # a failure here closes the source at once
            async for chunk in chunks:
                if not isinstance(chunk, bytes | bytearray | memoryview):
                    raise InvalidRequestError(
                        f"{self.name}: the source gave {type(chunk).__name__}, expected bytes"
                    )
                read += len(chunk)
                if self.size is not None and read > self.size:
                    raise InvalidRequestError(f"{self.name} grew while it was being sent")
                if chunk:
                    yield chunk if isinstance(chunk, bytes) else bytes(chunk)
        if self.size is not None and read < self.size:
            raise InvalidRequestError(
                f"{self.name} shrank while it was being sent ({read} of {self.size} bytes)"
            )


@contextlib.asynccontextmanager
async def closing(chunks: AsyncIterator[bytes]) -> AsyncIterator[AsyncIterator[bytes]]:
    """`chunks`, closed on the way out (if it can be): a generator left half-read keeps its
    file open until the garbage collector finds it, and a failed transfer leaves one so."""
    try:
        yield chunks
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()


def describe(
    value: FileInput,
    *,
    name: str | None = None,
    content_type: str | None = None,
    size: int | None = None,
) -> FileContent:
    """The file with its name, MIME type and size settled; a missing file fails here.

    The name comes from `name`, the `InputFile`, the path or the file object's name; the MIME
    type from `content_type`, the `InputFile` or the name. `size` (or the `InputFile`'s) is
    the length of a stream whose length cannot be found out; other sources know their own.
    """
    file = value if isinstance(value, InputFile) else InputFile(value)
    source = file.source
    content_type = content_type or file.content_type
    name = name or file.name or _source_name(source)
    size = file.size if size is None else size
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise InvalidRequestError(f"size must be a whole number of bytes, got {size!r}")
    if not name:
        name = "file" + ((content_type and mimetypes.guess_extension(content_type)) or "")
    content_type = content_type or mimetypes.guess_type(name)[0] or DEFAULT_CONTENT_TYPE
    if has_control_characters(content_type):
        raise InvalidRequestError(f"content_type {content_type!r} has control characters")
    if isinstance(source, bytes | bytearray | memoryview):
        return _from_bytes(memoryview(source).cast("B"), name, content_type)
    if isinstance(source, str | os.PathLike):
        return _from_path(Path(source), name, content_type)
    if isinstance(source, AsyncIterable):
        return FileContent(name, content_type, size, source.__aiter__, rereadable=False)
    if callable(getattr(source, "read", None)):
        return _from_file(source, name, content_type, size)
    raise InvalidRequestError(
        f"cannot send {type(source).__name__} as a file: pass a path, bytes, a binary file "
        "object or an async iterator of bytes"
    )


def has_control_characters(text: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in text)


def _source_name(source: FileSource) -> str | None:
    if isinstance(source, str | os.PathLike):
        return Path(source).name
    name = getattr(source, "name", None)  # open files know their path
    return Path(name).name if isinstance(name, str) else None


def _from_bytes(data: memoryview, name: str, content_type: str) -> FileContent:
    async def read() -> AsyncIterator[bytes]:
        for start in range(0, len(data), CHUNK):
            yield bytes(data[start : start + CHUNK])  # a chunk's copy, never the whole

    return FileContent(name, content_type, len(data), read, rereadable=True)


def _from_path(path: Path, name: str, content_type: str) -> FileContent:
    try:
        size = path.stat().st_size
    except OSError as error:
        raise InvalidRequestError(f"cannot read {path}: {error.strerror}") from None
    if not path.is_file():
        raise InvalidRequestError(f"cannot send {path}: not a regular file")

    async def read() -> AsyncIterator[bytes]:
        with path.open("rb") as handle:
            async for chunk in _read_file(handle):
                yield chunk

    return FileContent(name, content_type, size, read, rereadable=True)


def _from_file(handle: IO[bytes], name: str, content_type: str, size: int | None) -> FileContent:
    if isinstance(handle, io.TextIOBase):
        raise InvalidRequestError(f"{name}: open the file in binary mode ('rb') to send it")
    seekable = getattr(handle, "seekable", None)
    if not (callable(seekable) and seekable()):
        return FileContent(name, content_type, size, lambda: _read_file(handle), rereadable=False)
    start = handle.tell()
    size = handle.seek(0, os.SEEK_END) - start
    handle.seek(start)

    async def read() -> AsyncIterator[bytes]:
        handle.seek(start)
        async for chunk in _read_file(handle):
            yield chunk

    return FileContent(name, content_type, size, read, rereadable=True)


async def _read_file(handle: IO[bytes]) -> AsyncIterator[bytes]:
    """Chunks read in a worker thread: disk reads never block the event loop."""
    loop = asyncio.get_running_loop()
    while chunk := await loop.run_in_executor(None, handle.read, CHUNK):
        yield chunk


@contextlib.asynccontextmanager
async def with_size(content: FileContent) -> AsyncIterator[FileContent]:
    """The content with a known size: a stream of unknown length is first copied to a
    temporary file (in memory while small), which is deleted afterwards.

    Storage servers refuse an upload without a Content-Length; the copy also makes the stream
    readable again.
    """
    if content.size is not None:
        yield content
        return
    loop = asyncio.get_running_loop()
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        async for chunk in content.chunks():
            await loop.run_in_executor(None, spool.write, chunk)
        size = spool.tell()

        async def read() -> AsyncIterator[bytes]:
            spool.seek(0)
            async for chunk in _read_file(spool):
                yield chunk

        yield FileContent(content.name, content.content_type, size, read, rereadable=True)


@attrs.frozen(eq=False)
class MultipartBody:
    """A multipart/form-data body: text fields and files, streamed in the order given.

    `progress` is told the file bytes sent so far (and their total, when known) as the body goes
    out; each attempt starts again from zero.
    """

    fields: tuple[tuple[str, str | FileContent], ...]
    progress: Progress | None = None
    boundary: str = attrs.field(factory=lambda: secrets.token_hex(16))

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def files(self) -> list[FileContent]:
        return [value for _, value in self.fields if isinstance(value, FileContent)]

    @property
    def rereadable(self) -> bool:
        """Whether every file can be read again, so the whole body can be sent again."""
        return all(file.rereadable for file in self.files)

    @property
    def size(self) -> int | None:
        """The exact length of the body, or `None` when a file's size is unknown."""
        total = len(self._closing)
        for name, value in self.fields:
            if isinstance(value, str):
                total += len(self._head(name, value)) + len(value.encode()) + 2
            elif value.size is None:
                return None
            else:
                total += len(self._head(name, value)) + value.size + 2
        return total

    async def open(self) -> AsyncGenerator[bytes, None]:
        """The body from its first byte (fails for a one-shot file already sent)."""
        sizes = [file.size for file in self.files]
        total = None if None in sizes else sum(s for s in sizes if s is not None)
        sent = 0
        await report(self.progress, sent, total)
        pending = b""  # text parts and part boundaries go out with the next chunk
        for name, value in self.fields:
            if isinstance(value, str):
                pending += self._head(name, value) + value.encode() + b"\r\n"
                continue
            yield pending + self._head(name, value)
            async with closing(value.chunks()) as chunks:
                async for chunk in chunks:
                    yield chunk
                    sent += len(chunk)  # resumed: the writer took the chunk
                    await report(self.progress, sent, total)
            pending = b"\r\n"
        yield pending + self._closing

    def _head(self, name: str, value: str | FileContent) -> bytes:
        disposition = f'form-data; name="{_quote(name)}"'
        lines = [f"--{self.boundary}"]
        if isinstance(value, FileContent):
            disposition += f'; filename="{_quote(value.name)}"'
            lines += [f"Content-Disposition: {disposition}", f"Content-Type: {value.content_type}"]
        else:
            lines.append(f"Content-Disposition: {disposition}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    @property
    def _closing(self) -> bytes:
        return f"--{self.boundary}--\r\n".encode()


def _quote(value: str) -> str:
    """A name or file name inside a quoted header parameter, escaped as browsers do."""
    return value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def multipart_body(operation: Operation[Any], values: Mapping[str, Any]) -> MultipartBody:
    """The form for a multipart operation: fields in the spec's order, files as file parts."""
    assert operation.body is not None
    fields: list[tuple[str, str | FileContent]] = []
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
            fields.append((wire, str(value)))
        else:
            fields.append((wire, describe(value)))
    return MultipartBody(tuple(fields))
