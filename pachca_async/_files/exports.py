"""`pachca.chats`: the generated calls, plus `save_export` to stream an export archive to disk.

`chats.download_export` answers with the archive's storage URL (the API's 302, not followed);
`save_export` fetches that URL without the token (the storage's own redirects followed the same
way, as `files.download_file` does) and writes the archive chunk by chunk.
"""

from __future__ import annotations

import os
from pathlib import Path

from .._decode import storage_error
from .._exceptions import DownloadError
from .._service import operation
from .content import Progress
from .downloads import FileSink, from_storage
from .storage import StorageHelpers, storage_operation, succeeded

FETCH_EXPORT = storage_operation("chats.save_export", "GET")


class ExportHelpers(StorageHelpers):
    """`save_export`, in the service of `ExportOperations_downloadExport` (see
    `codegen/overlay.yaml`): `pachca.chats` today."""

    __slots__ = ()

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
        with FileSink(target, progress) as sink:
            while True:
                url: str = await self._call(
                    operation("ExportOperations_downloadExport"), {"id": id}
                )
                what = f"the download of export {id}"
                response = await from_storage(self._client, FETCH_EXPORT, url, sink, what)
                if succeeded(response):
                    await sink.commit()
                    return target
                if response.status != 403 or refreshed:
                    raise storage_error(response, DownloadError, what)
                refreshed = True  # the link expired on the way: a fresh one, and once more
