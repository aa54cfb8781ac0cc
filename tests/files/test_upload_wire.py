"""What goes on the wire to the storage, and how its answers are handled (a recording server)."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from pachca_async import (
    APIConnectionError,
    InputFile,
    InvalidRequestError,
    PachcaClient,
    PermissionDeniedError,
    UploadError,
)
from pachca_async.testing import FakePachca

from .fakes import TOKEN, Handler, answer, form, message_answer, requests, s3_error, upload_params

STORAGE = "/storage/direct_upload"


def _storage(server: FakePachca, *handlers: Handler, **extra: str) -> dict[str, str]:
    """Point `/uploads` at the server's own storage route, which answers with `handlers`."""
    params = upload_params(server.base_url + STORAGE, **extra)
    server.reply("POST", "/uploads", answer(201, params))
    server.reply("POST", STORAGE, *(handlers or [answer(204)]))
    return params


async def _stream(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def test_fields_in_order_file_last_and_key_replaced(
    server: FakePachca, pachca: PachcaClient
) -> None:
    params = _storage(server, **{"x-amz-security-token": "session-token"})
    uploaded = await pachca.files.upload(b"%PDF-1.7", name="Q3 report.pdf")

    parts = form(requests(server, "POST", STORAGE)[0])
    expected = [name for name in params if name != "direct_url"]
    assert [part.name for part in parts] == [*expected, "file"]  # unknown fields too, in order
    key = params["key"].replace("${filename}", "Q3 report.pdf")
    assert uploaded.key == key
    for part in parts[:-1]:
        assert part.data.decode() == (key if part.name == "key" else params[part.name])
        assert part.filename is None
    file = parts[-1]
    assert (file.filename, file.content_type, file.data) == (
        "Q3 report.pdf",
        "application/pdf",
        b"%PDF-1.7",
    )


async def test_nothing_of_the_caller_reaches_the_storage(server: FakePachca) -> None:
    """No token, no cookie and no session default header goes to the storage host."""
    params = _storage(server)
    server.reply("POST", "/uploads", answer(201, params, **{"Set-Cookie": "pachca_session=s3cr3t"}))
    jar = aiohttp.CookieJar(unsafe=True)  # keeps cookies of 127.0.0.1, as a real host's would be
    async with aiohttp.ClientSession(cookie_jar=jar, headers={"X-Team": "ops"}) as session:
        pachca = PachcaClient(TOKEN, base_url=server.base_url, session=session)
        await pachca.files.upload(b"one", name="a.txt")
        await pachca.files.upload(b"two", name="b.txt")
        await pachca.close()

    second_api_call = requests(server, "POST", "/uploads")[1]
    assert second_api_call.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "pachca_session=s3cr3t" in second_api_call.headers["Cookie"]  # the jar works
    for seen in requests(server, "POST", STORAGE):
        wire = seen.raw_headers + seen.raw
        assert b"Authorization" not in seen.raw_headers
        assert b"Cookie" not in seen.raw_headers
        assert b"X-Team" not in seen.raw_headers
        assert TOKEN.encode() not in wire
        assert b"s3cr3t" not in wire


async def test_copies_with_other_options_upload_too(
    server: FakePachca, pachca: PachcaClient
) -> None:
    _storage(server)
    uploaded = await pachca.with_options(timeout=5).files.upload(b"abc", name="a.txt")
    assert uploaded.size == 3


async def test_known_sizes_send_content_length(server: FakePachca, pachca: PachcaClient) -> None:
    _storage(server)
    name = 'Отчёт "Q3".pdf'
    uploaded = await pachca.files.upload(b"x" * 1000, name=name)
    seen = requests(server, "POST", STORAGE)[0]
    assert int(seen.headers["Content-Length"]) == len(seen.raw)
    assert "Transfer-Encoding" not in seen.headers
    assert form(seen)[-1].filename == "Отчёт %22Q3%22.pdf"  # quoted as browsers do
    assert uploaded.key.endswith("/" + name)


async def test_stream_of_unknown_size_is_measured_first(
    server: FakePachca, pachca: PachcaClient
) -> None:
    _storage(server)
    chunks = [os.urandom(700_000) for _ in range(3)]  # beyond the in-memory part of the copy
    uploaded = await pachca.files.upload(_stream(*chunks), name="stream.bin")
    seen = requests(server, "POST", STORAGE)[0]
    assert int(seen.headers["Content-Length"]) == len(seen.raw)
    assert form(seen)[-1].data == b"".join(chunks)
    assert uploaded.size == 2_100_000


@pytest.mark.parametrize(
    ("name", "content_type", "expected_type", "kind"),
    [
        ("photo.JPG", None, "image/jpeg", "image"),
        ("notes.txt", None, "text/plain", "file"),
        ("blob", None, "application/octet-stream", "file"),
        ("render", "image/webp", "image/webp", "image"),
        ("clip.mp4", None, "video/mp4", "video"),
        ("screen", "Video/WebM", "Video/WebM", "video"),
        ("data.png", "application/x-custom", "application/x-custom", "file"),
    ],
)
async def test_mime_type_and_file_type(
    server: FakePachca,
    pachca: PachcaClient,
    name: str,
    content_type: str | None,
    expected_type: str,
    kind: str,
) -> None:
    _storage(server)
    uploaded = await pachca.files.upload(b"...", name=name, content_type=content_type)
    assert form(requests(server, "POST", STORAGE)[0])[-1].content_type == expected_type
    assert uploaded.file_type == kind


async def test_a_nameless_source_gets_a_name_from_its_type(
    server: FakePachca, pachca: PachcaClient
) -> None:
    _storage(server)
    uploaded = await pachca.files.upload(b"\x89PNG", content_type="image/png")
    assert uploaded.name == "file.png"
    assert uploaded.key.endswith("/file.png")
    assert form(requests(server, "POST", STORAGE)[0])[-1].filename == "file.png"


@pytest.mark.parametrize("status", [200, 201, 204])
async def test_any_2xx_is_success(status: int, server: FakePachca, pachca: PachcaClient) -> None:
    _storage(server, answer(status, b"<PostResponse/>" if status == 201 else None))
    uploaded = await pachca.files.upload(b"abc", name="a.txt")
    assert uploaded.size == 3


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"),
        (403, "AccessDenied", "Invalid according to Policy: Policy Condition failed"),
        (500, "InternalError", "We encountered an internal error &amp; will fix it"),
    ],
)
async def test_storage_errors_are_typed(
    status: int, code: str, message: str, server: FakePachca, pachca: PachcaClient
) -> None:
    _storage(server, s3_error(status, code, message))
    server.reply("POST", "/uploads", answer(201, upload_params(server.base_url + STORAGE)))
    with pytest.raises(UploadError) as caught:
        await pachca.files.upload(b"abc", name="a.txt")
    error = caught.value
    assert (error.status, error.code) == (status, code)
    assert error.storage_message == message.replace("&amp;", "&")
    assert f"{code}: {error.storage_message}" in str(error)
    assert TOKEN not in str(error)


async def test_a_storage_error_without_xml_still_says_the_status(
    server: FakePachca, pachca: PachcaClient
) -> None:
    _storage(server, answer(502, "<html>Bad gateway</html>"))
    with pytest.raises(UploadError) as caught:
        await pachca.files.upload(b"abc", name="a.txt")
    assert (caught.value.status, caught.value.code) == (502, None)
    assert "502" in str(caught.value)


@pytest.mark.parametrize("kind", ["path", "bytes", "seekable file", "stream of unknown size"])
async def test_expired_parameters_are_refreshed_once(
    kind: str, tmp_path: Path, server: FakePachca, pachca: PachcaClient
) -> None:
    first = upload_params(server.base_url + STORAGE, key="attaches/files/1/old/${filename}")
    second = upload_params(server.base_url + STORAGE, key="attaches/files/1/new/${filename}")
    server.reply("POST", "/uploads", answer(201, first), answer(201, second))
    expired = s3_error(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    server.reply("POST", STORAGE, expired, answer(204))
    data = os.urandom(1_500_000)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    handle = io.BytesIO(b"header" + data)
    handle.seek(6)  # a file object is sent from where it stands
    source = {
        "path": path,
        "bytes": data,
        "seekable file": handle,
        "stream of unknown size": _stream(data[:1000], data[1000:]),  # copied, so re-readable
    }[kind]
    seen: list[tuple[int, int | None]] = []

    uploaded = await pachca.files.upload(
        source, name="big.bin", progress=lambda sent, total: seen.append((sent, total))
    )

    assert uploaded.key == "attaches/files/1/new/big.bin"
    attempts = requests(server, "POST", STORAGE)
    assert len(attempts) == 2
    assert [form(a)[-1].data for a in attempts] == [data, data]  # never a partial body
    assert [{p.name: p.data for p in form(a)}["key"] for a in attempts] == [
        b"attaches/files/1/old/big.bin",
        b"attaches/files/1/new/big.bin",
    ]
    restart = seen.index((0, len(data)), 1)
    assert seen[restart - 1] == (len(data), len(data))  # the second attempt counts from zero


async def test_expired_twice_is_an_error(server: FakePachca, pachca: PachcaClient) -> None:
    _storage(server, s3_error(403, "AccessDenied", "Request has expired"))
    with pytest.raises(UploadError) as caught:
        await pachca.files.upload(b"abc", name="a.txt")
    assert caught.value.code == "AccessDenied"
    assert len(requests(server, "POST", "/uploads")) == 2
    assert len(requests(server, "POST", STORAGE)) == 2


async def test_a_one_shot_stream_is_not_sent_again(
    server: FakePachca, pachca: PachcaClient
) -> None:
    _storage(server, s3_error(403, "AccessDenied", "Policy expired."), answer(204))
    stream = InputFile(_stream(b"abc", b"def"), name="a.bin", size=6)
    with pytest.raises(UploadError, match="cannot be sent again") as caught:
        await pachca.files.upload(stream)
    assert caught.value.code == "AccessDenied"
    assert len(requests(server, "POST", "/uploads")) == 1
    assert len(requests(server, "POST", STORAGE)) == 1


async def test_a_stream_shorter_than_declared_is_never_sent_complete(
    server: FakePachca, pachca: PachcaClient
) -> None:
    _storage(server)
    stream = InputFile(_stream(b"abc"), name="a.bin", size=10)
    with pytest.raises(InvalidRequestError, match=r"a\.bin shrank while it was being sent"):
        await pachca.files.upload(stream)
    assert requests(server, "POST", STORAGE) == []  # no body arrived whole


async def test_a_failing_source_raises_its_own_error(
    server: FakePachca, pachca: PachcaClient
) -> None:
    _storage(server)

    async def broken() -> AsyncIterator[bytes]:
        yield b"abc"
        raise RuntimeError("camera unplugged")

    with pytest.raises(RuntimeError, match="camera unplugged"):
        await pachca.files.upload(InputFile(broken(), "a.bin", size=100))


async def test_connection_dropped_mid_upload(
    tmp_path: Path, server: FakePachca, pachca: PachcaClient
) -> None:
    """The caller gets a typed error at once; the body is not sent again from the middle."""

    async def drop(request: web.Request) -> web.StreamResponse:
        await request.content.readexactly(200_000)
        assert request.transport is not None
        request.transport.close()
        await asyncio.sleep(0)
        return web.Response(status=204)

    params = upload_params(server.base_url + STORAGE)
    server.reply("POST", "/uploads", answer(201, params))
    server.reply("POST", STORAGE, drop)
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(5_000_000))
    with path.open("rb") as handle:
        with pytest.raises(APIConnectionError, match=r"POST /storage/direct_upload"):
            await pachca.files.upload(handle)
        assert not handle.closed  # the caller's file is the caller's to close
    with pytest.raises(APIConnectionError):
        await pachca.files.upload(path)  # the file the SDK opened is closed (no ResourceWarning)
    # one attempt per call: a POST is not repeated from the middle
    assert len(requests(server, "POST", STORAGE)) == 2


async def test_uploads_call_fails_with_the_api_error(
    server: FakePachca, pachca: PachcaClient
) -> None:
    server.reply(
        "POST",
        "/uploads",
        answer(403, {"error": "insufficient_scope", "error_description": "uploads:write"}),
    )
    with pytest.raises(PermissionDeniedError) as caught:
        await pachca.files.upload(b"abc", name="a.txt")
    assert caught.value.missing_scope == "uploads:write"
    assert not requests(server, "POST", STORAGE)


@pytest.mark.parametrize(
    ("source", "name", "message"),
    [
        (Path("/no/such/file.pdf"), None, "cannot read /no/such/file.pdf"),
        (Path("/"), None, "not a regular file"),
        (b"x", "../etc/passwd", "cannot be a file name"),
        (b"x", "a${filename}.txt", "cannot be a file name"),
        (b"x", "line\nbreak.txt", "cannot be a file name"),
        (12345, None, "cannot send int as a file"),
        (io.StringIO("text"), "a.txt", "binary mode"),
    ],
)
async def test_bad_input_fails_before_anything_is_sent(
    source: object, name: str | None, message: str, server: FakePachca, pachca: PachcaClient
) -> None:
    _storage(server)
    with pytest.raises(InvalidRequestError, match=message):
        await pachca.files.upload(source, name=name)
    assert server.calls == []


async def test_bad_size_or_content_type(server: FakePachca, pachca: PachcaClient) -> None:
    with pytest.raises(InvalidRequestError, match="size must be a whole number"):
        await pachca.files.upload(_stream(b"a"), name="a.bin", size=-1)
    with pytest.raises(InvalidRequestError, match="control characters"):
        await pachca.files.upload(b"a", name="a.bin", content_type="text/plain\r\nX-Evil: 1")
    assert server.calls == []


async def test_progress_reports_bytes_and_total(server: FakePachca, pachca: PachcaClient) -> None:
    _storage(server)
    data = os.urandom(2_000_000)
    seen: list[tuple[int, int | None]] = []

    async def progress(sent: int, total: int | None) -> None:
        seen.append((sent, total))

    await pachca.files.upload(data, name="a.bin", progress=progress)
    assert seen[0] == (0, len(data))
    assert seen[-1] == (len(data), len(data))
    assert [s for s, _ in seen] == sorted(s for s, _ in seen)
    assert len(seen) > 2


async def test_progress_of_a_declared_stream(server: FakePachca, pachca: PachcaClient) -> None:
    _storage(server)
    seen: list[tuple[int, int | None]] = []
    stream = InputFile(_stream(b"ab", b"cd"), name="a.bin", size=4)
    await pachca.files.upload(stream, progress=lambda s, t: seen.append((s, t)))
    assert seen == [(0, 4), (2, 4), (4, 4)]


async def test_send_message_checks_every_file_first(
    tmp_path: Path, server: FakePachca, pachca: PachcaClient
) -> None:
    _storage(server)
    (tmp_path / "a.txt").write_text("a")
    with pytest.raises(InvalidRequestError, match=r"missing\.txt"):
        await pachca.files.send_message(
            entity_id=1, content="x", files=[tmp_path / "a.txt", tmp_path / "missing.txt"]
        )
    assert server.calls == []


async def test_send_message_passes_the_message_options(
    server: FakePachca, pachca: PachcaClient
) -> None:
    _storage(server)
    server.reply("POST", "/messages", message_answer())
    message = await pachca.files.send_message(
        entity_type="user",
        entity_id=12,
        content="see attached",
        files=[InputFile(b"a", "a.txt")],
        parent_message_id=5,
        link_preview=False,
    )
    assert message.id == 194275
    body = requests(server, "POST", "/messages")[0].body
    assert body["link_preview"] is False
    assert body["message"]["entity_type"] == "user"
    assert body["message"]["parent_message_id"] == 5
    assert body["message"]["files"][0]["name"] == "a.txt"
