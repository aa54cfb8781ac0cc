"""End to end against a real S3-compatible server (moto) on 127.0.0.1: the file lands whole."""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pachca_async import InputFile, PachcaClient, UploadError
from pachca_async.models import FileType, MessageCreateRequestMessageFilesItem
from pachca_async.testing import FakePachca

from .fakes import Moto, answer, message_answer, requests

DATA = os.urandom(3 * 1024 * 1024 + 17)  # several chunks, not a multiple of the chunk size


async def _chunks(data: bytes, size: int = 100_000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _params(server: FakePachca, moto: Moto, count: int = 1) -> None:
    server.reply("POST", "/uploads", *(answer(201, moto.upload_params()) for _ in range(count)))


@pytest.mark.parametrize(
    "kind", ["path", "str path", "bytes", "bytearray", "file", "pipe", "async iterator"]
)
async def test_every_source_kind_lands_whole(
    kind: str, tmp_path: Path, server: FakePachca, moto: Moto, pachca: PachcaClient
) -> None:
    _params(server, moto)
    path = tmp_path / "report.pdf"
    path.write_bytes(DATA)
    if kind == "path":
        uploaded = await pachca.files.upload(path)
    elif kind == "str path":
        uploaded = await pachca.files.upload(str(path))
    elif kind == "bytes":
        uploaded = await pachca.files.upload(DATA, name="report.pdf")
    elif kind == "bytearray":
        uploaded = await pachca.files.upload(bytearray(DATA), name="report.pdf")
    elif kind == "file":
        with path.open("rb") as handle:
            uploaded = await pachca.files.upload(handle)
            assert not handle.closed  # the caller's file stays open
    elif kind == "pipe":
        read, write = os.pipe()
        os.write(write, DATA[:60_000])  # a pipe's buffer holds 64 KiB
        os.close(write)
        with os.fdopen(read, "rb", buffering=0) as pipe:
            uploaded = await pachca.files.upload(pipe, name="report.pdf")
    else:
        uploaded = await pachca.files.upload(_chunks(DATA), name="report.pdf")

    expected = DATA[:60_000] if kind == "pipe" else DATA
    assert uploaded.name == "report.pdf"
    assert uploaded.key.endswith("/report.pdf")
    assert uploaded.size == len(expected)
    assert uploaded.file_type == FileType.FILE
    assert moto.read(uploaded.key) == expected


async def test_name_with_dollars_and_unicode_is_the_literal_key(
    server: FakePachca, moto: Moto, pachca: PachcaClient
) -> None:
    _params(server, moto)
    name = r"Отчёт $1 \1 $& ${x} за Q3.png"
    uploaded = await pachca.files.upload(b"\x89PNG...", name=name)
    assert uploaded.key.endswith("/" + name)
    assert uploaded.file_type == FileType.IMAGE
    assert moto.read(uploaded.key) == b"\x89PNG..."


async def test_declared_size_streams_without_a_copy(
    server: FakePachca, moto: Moto, pachca: PachcaClient
) -> None:
    _params(server, moto)
    stream = InputFile(_chunks(DATA), name="data.bin", size=len(DATA))
    uploaded = await pachca.files.upload(stream)
    assert moto.read(uploaded.key) == DATA


async def test_storage_xml_error_is_typed(
    server: FakePachca, moto: Moto, pachca: PachcaClient
) -> None:
    params = moto.upload_params()
    params["direct_url"] = f"{moto.url}/no-such-bucket"
    server.reply("POST", "/uploads", answer(201, params))
    with pytest.raises(UploadError) as caught:
        await pachca.files.upload(b"x", name="a.txt")
    assert caught.value.status == 404
    assert caught.value.code == "NoSuchBucket"
    assert "NoSuchBucket" in str(caught.value)


async def test_send_message_uploads_and_attaches(
    tmp_path: Path, server: FakePachca, moto: Moto, pachca: PachcaClient
) -> None:
    _params(server, moto, count=3)
    server.reply("POST", "/messages", message_answer())
    (tmp_path / "report.pdf").write_bytes(DATA)
    earlier = await pachca.files.upload(b"earlier", name="notes.txt")

    await pachca.files.send_message(
        entity_id=198,
        content="Q3",
        files=[tmp_path / "report.pdf", InputFile(io.BytesIO(b"GIF89a"), "chart.gif"), earlier],
    )

    sent = requests(server, "POST", "/messages")[0]
    message = sent.body["message"]
    assert message["entity_id"] == 198
    assert message["content"] == "Q3"
    report, chart, notes = message["files"]
    assert report == {
        "key": report["key"],
        "name": "report.pdf",
        "file_type": "file",
        "size": len(DATA),
    }
    assert chart["file_type"] == "image"
    assert chart["size"] == 6
    assert notes == {"key": earlier.key, "name": "notes.txt", "file_type": "file", "size": 7}
    assert moto.read(report["key"]) == DATA
    assert moto.read(chart["key"]) == b"GIF89a"


async def test_upload_result_fits_create_and_update(
    server: FakePachca, moto: Moto, pachca: PachcaClient
) -> None:
    _params(server, moto)
    server.reply("POST", "/messages", message_answer())
    server.reply("PUT", "/messages/7", message_answer(status=200))
    uploaded = await pachca.files.upload(b"abc", name="a.txt")
    assert isinstance(uploaded, MessageCreateRequestMessageFilesItem)
    await pachca.messages.create_message(entity_id=1, content="x", files=[uploaded])
    await pachca.messages.update_message(7, files=[uploaded])
    for method, path in [("POST", "/messages"), ("PUT", "/messages/7")]:
        files = requests(server, method, path)[0].body["message"]["files"]
        assert files == [{"key": uploaded.key, "name": "a.txt", "file_type": "file", "size": 3}]
