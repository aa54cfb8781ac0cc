"""`pachca.chats`: the generated calls, plus `save_export` to stream an export archive to disk.

`chats.download_export` answers with the archive's storage URL (the API's 302, not followed);
`save_export` fetches that URL without the token and writes the archive chunk by chunk.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from types import TracebackType
from typing import cast

from ._decode import storage_error
from ._exceptions import DownloadError, InvalidRequestError
from ._files import Progress, report
from ._service import Service, operation
from ._storage import Client, storage_operation, storage_request, succeeded

FETCH_EXPORT = storage_operation("chats.save_export", "GET")


class ExportHelpers(Service):
    """`save_export`, in the service of `ExportOperations_downloadExport` (see
    `codegen/overlay.yaml`): `pachca.chats` today."""

    __slots__ = ()

    @property
    def _client(self) -> Client:
        return cast(Client, self._requester)

    async def save_export(
        self, id: int, path: str | os.PathLike[str], *, progress: Progress | None = None
    ) -> Path:
        """Download a finished export (see `request_export`) into the file at `path`.

        ```python
        await pachca.chats.save_export(22322, "export.zip")
        ```

        The archive is streamed to disk, never held in memory, and appears at `path` only when
        it is complete. A storage link that expired on the way (403) is asked for again once.
        `progress` is called (or awaited) with the bytes received and the total, if known.

        Requires the `chat_exports:read` scope and the "corporation" plan.

        Raises:
            InvalidRequestError: `path` cannot be written; nothing was asked for.
            DownloadError: The storage refused the download.
        """
        target = Path(path)
        refreshed = False
        with _FileSink(target, progress) as sink:
            while True:
                url: str = await self._call(
                    operation("ExportOperations_downloadExport"), {"id": id}
                )
                request = storage_request(self._client, FETCH_EXPORT, url, sink=sink)
                response = await self._client._send(request)
                if succeeded(response):
                    await sink.commit()
                    return target
                if response.status != 403 or refreshed:
                    raise storage_error(response, DownloadError, f"the download of export {id}")
                refreshed = True  # the link expired on the way: a fresh one, and once more


class _FileSink:
    """Writes a download into a hidden file beside `target`, renamed over it once complete.

    A failed or interrupted download leaves `target` as it was.
    """

    def __init__(self, target: Path, progress: Progress | None) -> None:
        if target.is_dir():
            raise InvalidRequestError(f"cannot write {target}: it is a folder")
        self.target = target
        self.progress = progress
        self.received = 0
        self.size: int | None = None
        try:
            fd, temporary = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=".part"
            )
        except OSError as error:
            raise InvalidRequestError(f"cannot write {target}: {error.strerror}") from None
        self.temporary = Path(temporary)
        self.handle = os.fdopen(fd, "wb")

    def __enter__(self) -> _FileSink:
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
        self.received, self.size = 0, size
        await report(self.progress, self.received, self.size)

    async def write(self, chunk: bytes) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.handle.write, chunk)
        self.received += len(chunk)
        await report(self.progress, self.received, self.size)

    async def commit(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.handle.close)
        os.replace(self.temporary, self.target)
