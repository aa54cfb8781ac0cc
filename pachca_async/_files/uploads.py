"""`pachca.files`: uploads in one call, streamed, and messages with local files.

Sending a file to Pachca takes three steps: `POST /uploads` hands out presigned form fields, the
file goes to the storage as multipart/form-data with those fields (the file last), and the key
goes into a message. `Files.upload` does the first two; what it returns is the third.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._convert import loads
from .._decode import storage_error
from .._exceptions import InvalidRequestError, UploadError
from .._generated.models import (
    Button,
    FileType,
    Message,
    MessageCreateRequestMessageFilesItem,
    MessageEntityType,
    UploadParams,
)
from .._service import operation
from .._types import UNSET, FileInput, Unset
from .content import (
    FileContent,
    MultipartBody,
    Progress,
    describe,
    has_control_characters,
    with_size,
)
from .storage import StorageHelpers, storage_operation, storage_request, succeeded

FILENAME = "${filename}"
"""The placeholder in the key that `/uploads` hands out."""

STORE_FILE = storage_operation("files.upload", "POST")
ONE_SHOT = (
    "the upload parameters may have expired, and a stream sent as it is read cannot be sent "
    "again: pass a path, bytes, a seekable file, or the stream without `size`, to let the SDK "
    "retry with fresh parameters"
)

Attachment = MessageCreateRequestMessageFilesItem


class FileHelpers(StorageHelpers):
    """`upload` and `send_message`, in the service of `UploadOperations_getUploadParams` (see
    `codegen/overlay.yaml`): `pachca.files` today."""

    __slots__ = ()

    async def upload(
        self,
        source: FileInput,
        *,
        name: str | None = None,
        content_type: str | None = None,
        size: int | None = None,
        progress: Progress | None = None,
    ) -> Attachment:
        """Upload a file to Pachca's storage; the result goes into a message's `files`.

        ```python
        uploaded = await pachca.files.upload("report.pdf")
        await pachca.messages.create_message(entity_id=198, content="Report", files=[uploaded])
        ```

        Args:
            source: A path, `bytes`, a binary file object, an async iterator of `bytes`, or an
                `InputFile`. It is streamed, never read whole into memory.
            name: The file name users see (and the key ends with); by default the path's or
                file object's name.
            content_type: The MIME type; guessed from the name by default. `image/*` files are
                attached as images, `video/*` ones as videos.
            size: The length of a stream (an async iterator, a pipe), if you know it: the
                stream is then sent as it is read. Otherwise it is first copied to a temporary
                file, since the storage needs the length up front.
            progress: Called (or awaited) with the bytes sent so far and the total size, `None`
                when unknown. A repeated attempt counts from zero again.

        Upload parameters that expired on the way (403 from the storage) are asked for again
        and the file is sent once more, when its source can be read again (a path, `bytes`, a
        seekable file, a stream copied to a temporary file); a stream sent as it is read
        raises `UploadError` instead.

        Raises:
            InvalidRequestError: The source cannot be read or the name cannot make a key;
                nothing was sent.
            UploadError: The storage refused the file (`code` and `storage_message` say why).
        """
        content = describe(source, name=name, content_type=content_type, size=size)
        return await self._upload(_key_safe(content), progress)

    async def send_message(
        self,
        *,
        entity_id: int,
        content: str,
        files: Sequence[FileInput | Attachment],
        entity_type: MessageEntityType | str | Unset = UNSET,
        buttons: list[list[Button]] | Unset = UNSET,
        parent_message_id: int | Unset = UNSET,
        display_avatar_url: str | Unset = UNSET,
        display_name: str | Unset = UNSET,
        skip_invite_mentions: bool | Unset = UNSET,
        link_preview: bool | Unset = UNSET,
    ) -> Message:
        """Upload local files and send them in one message; the other arguments are those of
        `messages.create_message`.

        ```python
        msg = await pachca.files.send_message(
            entity_id=198, content="Q3 numbers", files=["report.pdf", InputFile(data, "chart.png")]
        )
        ```

        Every file is checked before the first is uploaded; files already uploaded (what
        `upload` returns) are attached as they are.
        """
        contents = [f if isinstance(f, Attachment) else _key_safe(describe(f)) for f in files]
        attached = [c if isinstance(c, Attachment) else await self._upload(c) for c in contents]
        message: Message = await self._call(
            operation("MessageOperations_createMessage"),
            {
                "entity_type": entity_type,
                "entity_id": entity_id,
                "content": content,
                "files": attached,
                "buttons": buttons,
                "parent_message_id": parent_message_id,
                "display_avatar_url": display_avatar_url,
                "display_name": display_name,
                "skip_invite_mentions": skip_invite_mentions,
                "link_preview": link_preview,
            },
        )
        return message

    async def _upload(self, content: FileContent, progress: Progress | None = None) -> Attachment:
        async with with_size(content) as sized:
            return await self._send_file(sized, progress)

    async def _send_file(self, content: FileContent, progress: Progress | None) -> Attachment:
        size = content.size
        assert size is not None, "with_size() settles the size"
        refreshed = False
        while True:
            params, fields = await self._parameters()
            key = params.key.replace(FILENAME, content.name)
            form = [(name, key if name == "key" else value) for name, value in fields]
            body = MultipartBody((*form, ("file", content)), progress=progress)
            request = storage_request(self._client, STORE_FILE, params.direct_url, body=body)
            response = await self._client._send(request)
            if succeeded(response):
                return Attachment(key=key, name=content.name, file_type=_kind(content), size=size)
            what = f"the upload of {content.name}"
            if response.status != 403 or refreshed:
                raise storage_error(response, UploadError, what)
            if not content.rereadable:
                raise storage_error(response, UploadError, what, hint=ONE_SHOT)
            refreshed = True  # the parameters expired on the way: fresh ones, and once more

    async def _parameters(self) -> tuple[UploadParams, list[tuple[str, str]]]:
        """Fresh upload parameters, and the form fields they make in the order they came.

        Every field but `direct_url` is posted as it came, so fields this SDK does not know
        about yet still reach the storage and the policy holds.
        """
        request = self._client._build(operation("UploadOperations_getUploadParams"), {})
        response = await self._client._send(request)
        params: UploadParams = self._client._decode(request, response)
        document: dict[str, Any] = loads(response.body)
        fields = [
            (name, str(value))
            for name, value in document.items()
            if name != "direct_url" and isinstance(value, str | int) and not isinstance(value, bool)
        ]
        return params, fields


def _key_safe(content: FileContent) -> FileContent:
    """The file, if its name can stand in for `${filename}` in a storage key."""
    name = content.name
    if name in {".", ".."} or "/" in name or FILENAME in name or has_control_characters(name):
        raise InvalidRequestError(
            f"{name!r} cannot be a file name in Pachca: no '/', control characters or {FILENAME!r}"
        )
    return content


_KINDS = {kind: FileType(kind) for kind in ("image", "video")}
"""The file types an attachment takes from its MIME type's first part; anything else is a file.
By value, not member: a spec without `video` yet still imports (enums accept unknown values)."""


def _kind(content: FileContent) -> FileType:
    return _KINDS.get(content.content_type.partition("/")[0].lower(), FileType.FILE)
