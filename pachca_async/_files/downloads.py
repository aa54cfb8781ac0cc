"""Binary results: a file's bytes streamed to a path, to a `Sink`, or into memory on request.

An operation whose answer is a file (`ResultKind.BINARY`, `files.download_file`) is sent with the
token like any call, and its body is poured into a sink as it arrives, never read whole by the
transport. Pachca may answer with a redirect to the file storage instead: that URL is fetched as
a storage request, without the token, the cookies or the session's default headers, following
the storage's own redirects the same way. A storage link that expired on the way (403) is asked
for again once; any other refusal of the storage raises `DownloadError`.
"""

from __future__ import annotations

import asyncio
import enum
import os
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from yarl import URL

from .._decode import storage_error
from .._exceptions import DownloadError, InvalidRequestError
from .._operation import Operation
from .._transport import Response, Sink
from .._types import UNSET
from .content import Progress, report
from .storage import Client, storage_operation, storage_request, succeeded, unbounded

MAX_REDIRECTS = 5
"""Storage redirects followed after Pachca's own, before the download is given up."""

REDIRECTS = frozenset({301, 302, 303, 307, 308})


async def download(
    client: Client,
    operation: Operation[Any],
    arguments: dict[str, Any],
    *,
    to: str | os.PathLike[str] | Sink | None,
    progress: Progress | None,
) -> tuple[bytes | Path | None, Response]:
    """Run `operation` and put the file it answers with where `to` says; see the module doc.

    Returns what the call returns (the bytes, the path, or `None` for a `Sink`) and the answer
    the file came in (its body empty: the bytes went to the sink).
    """
    if to is None:
        memory = MemorySink(progress)
        response = await fetch(client, operation, arguments, memory)
        return bytes(memory.buffer), response
    if isinstance(to, str | os.PathLike):
        target = Path(to)
        with FileSink(target, progress) as sink:
            response = await fetch(client, operation, arguments, sink)
            await sink.commit()
        return target, response
    if not (callable(getattr(to, "start", None)) and callable(getattr(to, "write", None))):
        raise InvalidRequestError(
            f"{operation.name}: `to` must be a path or a Sink (async start(size) and "
            f"write(chunk)), got {type(to).__name__}"
        )
    return None, await fetch(client, operation, arguments, ForwardSink(to, progress))


async def fetch(
    client: Client, operation: Operation[Any], arguments: dict[str, Any], sink: Sink
) -> Response:
    """Pour the file `operation` answers with into `sink`, following a storage redirect."""
    what = _describe(operation, arguments)
    refreshed = False
    while True:
        request = unbounded(client._build(operation, arguments), sink=sink)
        response = await client._send(request)
        if succeeded(response):
            return response
        location = response.headers.get("Location")
        if response.status not in REDIRECTS or not location:
            client._decode(request, response)  # an error status: raises its typed error
            raise AssertionError(f"{what}: {response.status} decoded without an error")
        stored = str(URL(request.url).join(URL(location)))
        fetch_stored = storage_operation(operation.name, "GET")
        response = await from_storage(client, fetch_stored, stored, sink, what)
        if succeeded(response):
            return response
        if response.status != 403 or refreshed:
            raise storage_error(response, DownloadError, f"the download of {what}")
        refreshed = True  # the link expired on the way: a fresh one from Pachca, and once more


async def from_storage(
    client: Client, fetch_stored: Operation[None], url: str, sink: Sink, what: str
) -> Response:
    """The storage's answer for `url`, its own redirects followed (tokenless, like the first)."""
    for _ in range(MAX_REDIRECTS + 1):
        response = await client._send(storage_request(client, fetch_stored, url, sink=sink))
        location = response.headers.get("Location") or ""
        if response.status not in REDIRECTS or not location:
            return response
        url = str(URL(url).join(URL(location)))
    raise DownloadError(
        f"the download of {what} was redirected more than {MAX_REDIRECTS} times by the storage",
        status=response.status,
    )


def _describe(operation: Operation[Any], arguments: dict[str, Any]) -> str:
    """`files.download_file(id=3560)`: the call, for error messages."""
    given = ", ".join(
        f"{k}={v.value if isinstance(v, enum.Enum) else v!r}"
        for k, v in arguments.items()
        if v is not UNSET
    )
    return f"{operation.name}({given})"


class _Tally:
    """How much of an answer's body a sink took, told to `progress`."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.received = 0
        self.size: int | None = None

    async def begin(self, size: int | None) -> None:
        self.received, self.size = 0, size
        await report(self.progress, self.received, self.size)

    async def add(self, count: int) -> None:
        self.received += count
        await report(self.progress, self.received, self.size)


class MemorySink:
    """Collects the body in memory: for a caller who asked for the bytes."""

    def __init__(self, progress: Progress | None) -> None:
        self.buffer = bytearray()
        self.tally = _Tally(progress)

    async def start(self, size: int | None) -> None:
        self.buffer.clear()
        await self.tally.begin(size)

    async def write(self, chunk: bytes) -> None:
        self.buffer += chunk
        await self.tally.add(len(chunk))


class ForwardSink:
    """Hands the body on to the caller's `Sink`, reporting progress on the way."""

    def __init__(self, sink: Sink, progress: Progress | None) -> None:
        self.sink = sink
        self.tally = _Tally(progress)

    async def start(self, size: int | None) -> None:
        await self.sink.start(size)
        await self.tally.begin(size)

    async def write(self, chunk: bytes) -> None:
        await self.sink.write(chunk)
        await self.tally.add(len(chunk))


class FileSink:
    """Writes a download into a hidden file beside `target`, renamed over it once complete.

    A failed or interrupted download leaves `target` as it was.
    """

    def __init__(self, target: Path, progress: Progress | None) -> None:
        if target.is_dir():
            raise InvalidRequestError(f"cannot write {target}: it is a folder")
        self.target = target
        self.tally = _Tally(progress)
        try:
            fd, temporary = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=".part"
            )
        except OSError as error:
            raise InvalidRequestError(f"cannot write {target}: {error.strerror}") from None
        self.temporary = Path(temporary)
        self.handle = os.fdopen(fd, "wb")

    def __enter__(self) -> FileSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.handle.close()
        self.temporary.unlink(missing_ok=True)

    async def start(self, size: int | None) -> None:
        self.handle.seek(0)
        self.handle.truncate()
        await self.tally.begin(size)

    async def write(self, chunk: bytes) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.handle.write, chunk)
        await self.tally.add(len(chunk))

    async def commit(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.handle.close)
        os.replace(self.temporary, self.target)
