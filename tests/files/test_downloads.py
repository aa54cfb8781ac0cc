"""`files.download_file`: a binary result, streamed; the storage redirect followed tokenless."""

from __future__ import annotations

import asyncio
import datetime
import os
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from pachca_async import (
    DownloadError,
    Handler,
    InvalidRequestError,
    NotFoundError,
    PachcaClient,
    PermissionDeniedError,
    RateLimitError,
    Request,
    Response,
    RetryPolicy,
)
from pachca_async.models import FileTarget
from pachca_async.testing import FakePachca

from .fakes import TOKEN, answer, requests, s3_error
from .fakes import Handler as FakeHandler

CONTENT = os.urandom(3 * 1024 * 1024 + 7)
DATE = "Wed, 01 Jan 2042 00:00:30 GMT"
WALL = datetime.datetime(2042, 1, 1, tzinfo=datetime.UTC).timestamp()
STORED = "/bucket/attaches/files/3560/report.pdf"


@pytest.fixture
async def storage() -> AsyncIterator[FakePachca]:
    """A second server, on another port: the file storage Pachca redirects to."""
    async with FakePachca() as fake:
        yield fake


def _file(data: bytes = CONTENT) -> FakeHandler:
    async def handle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Disposition": 'attachment; filename="report.pdf"'}
        )
        response.content_length = len(data)
        await response.prepare(request)
        for start in range(0, len(data), 256 * 1024):
            await response.write(data[start : start + 256 * 1024])
        await response.write_eof()
        return response

    return handle


def _redirect(storage: FakePachca, path: str = STORED, **headers: str) -> FakeHandler:
    return answer(302, None, Location=f"{storage.base_url}{path}?X-Amz-Signature=abc", **headers)


async def test_the_bytes_come_back_when_no_target_is_given(
    server: FakePachca, pachca: PachcaClient
) -> None:
    server.reply("GET", "/files/3560", _file())
    assert await pachca.files.download_file(3560) == CONTENT
    assert requests(server, "GET", "/files/3560")[0].headers["Authorization"] == f"Bearer {TOKEN}"


async def test_a_variant_is_asked_for_by_target(server: FakePachca, pachca: PachcaClient) -> None:
    asked: list[str] = []

    async def thumb(request: web.Request) -> web.StreamResponse:
        asked.append(request.query_string)
        return web.Response(body=b"small")

    server.reply("GET", "/files/3560", thumb)
    assert await pachca.files.download_file(3560, target=FileTarget.THUMB) == b"small"
    assert asked == ["target=thumb"]


async def test_the_storage_redirect_is_followed_without_anything_of_ours(
    server: FakePachca, storage: FakePachca
) -> None:
    # The API sets a cookie on the way: 127.0.0.1 is both hosts, so only a separate, cookieless
    # session keeps it (and the session's default header) from reaching the storage.
    server.reply("GET", "/files/3560", _redirect(storage, **{"Set-Cookie": "session=api-only"}))
    storage.reply("GET", STORED, _file())
    async with PachcaClient(
        TOKEN,
        base_url=server.base_url,
        headers={"X-Team-Secret": "team-7"},
        cookie_jar=aiohttp.CookieJar(unsafe=True),
    ) as pachca:
        assert await pachca.files.download_file(3560) == CONTENT
        server.reply("GET", "/files/3560", _redirect(storage))
        assert await pachca.files.download_file(3560) == CONTENT

    to_api = requests(server, "GET", "/files/3560")
    assert to_api[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert to_api[1].headers["Cookie"] == "session=api-only"  # the API's own cookie, kept for it
    for stored in requests(storage, "GET", STORED):
        assert b"authorization" not in stored.raw_headers.lower()
        assert TOKEN.encode() not in stored.raw_headers
        assert b"cookie" not in stored.raw_headers.lower()
        assert b"X-Team-Secret" not in stored.raw_headers


async def test_the_storages_own_redirects_are_followed_tokenless(
    server: FakePachca, storage: FakePachca, pachca: PachcaClient
) -> None:
    server.reply("GET", "/files/3560", _redirect(storage, "/moved"))
    storage.reply("GET", "/moved", answer(307, None, Location=STORED))  # relative, as HTTP allows
    storage.reply("GET", STORED, _file())
    assert await pachca.files.download_file(3560) == CONTENT
    assert len(requests(storage, "GET", STORED)) == 1
    assert all(b"Bearer" not in seen.raw_headers for seen in storage.calls)


async def test_a_redirect_loop_in_the_storage_ends(
    server: FakePachca, storage: FakePachca, pachca: PachcaClient
) -> None:
    server.reply("GET", "/files/3560", _redirect(storage, "/loop"))
    storage.reply("GET", "/loop", answer(302, None, Location="/loop"))
    with pytest.raises(DownloadError, match="redirected more than 5 times"):
        await pachca.files.download_file(3560)
    assert len(requests(storage, "GET", "/loop")) == 6


async def test_streams_to_a_path_never_holding_the_file(
    tmp_path: Path, server: FakePachca, storage: FakePachca
) -> None:
    server.reply("GET", "/files/3560", _redirect(storage))
    storage.reply("GET", STORED, _file())
    bodies: dict[str, int] = {}

    async def measure(request: Request, call_next: Handler) -> Response:
        response = await call_next(request)
        bodies[request.path] = len(response.body)
        return response

    seen: list[tuple[int, int | None]] = []
    async with PachcaClient(TOKEN, base_url=server.base_url, middlewares=[measure]) as pachca:
        saved = await pachca.files.download_file(
            3560, to=tmp_path / "report.pdf", progress=lambda got, total: seen.append((got, total))
        )
    assert saved == tmp_path / "report.pdf"
    assert saved.read_bytes() == CONTENT
    assert os.listdir(tmp_path) == ["report.pdf"]
    assert bodies[STORED] == 0  # poured into the file as it came
    assert seen[0] == (0, len(CONTENT))
    assert seen[-1] == (len(CONTENT), len(CONTENT))


async def test_streams_into_a_sink(server: FakePachca, pachca: PachcaClient) -> None:
    class Collect:
        def __init__(self) -> None:
            self.starts: list[int | None] = []
            self.chunks: list[bytes] = []

        async def start(self, size: int | None) -> None:
            self.starts.append(size)
            self.chunks.clear()

        async def write(self, chunk: bytes) -> None:
            self.chunks.append(chunk)

    server.reply("GET", "/files/3560", _file())
    sink = Collect()
    assert await pachca.files.download_file(3560, to=sink) is None
    assert sink.starts == [len(CONTENT)]
    assert len(sink.chunks) > 1
    assert b"".join(sink.chunks) == CONTENT


async def test_an_expired_storage_link_is_asked_for_again_once(
    server: FakePachca, storage: FakePachca, pachca: PachcaClient
) -> None:
    server.reply("GET", "/files/3560", _redirect(storage))
    storage.reply("GET", STORED, s3_error(403, "AccessDenied", "Request has expired"), _file())
    assert await pachca.files.download_file(3560) == CONTENT
    assert len(requests(server, "GET", "/files/3560")) == 2

    storage.reply("GET", STORED, s3_error(403, "AccessDenied", "Request has expired"))
    with pytest.raises(DownloadError) as caught:
        await pachca.files.download_file(3560)
    assert (caught.value.status, caught.value.code) == (403, "AccessDenied")
    assert "files.download_file(id=3560)" in str(caught.value)
    assert len(requests(server, "GET", "/files/3560")) == 4


async def test_a_storage_refusal_leaves_the_target_alone(
    tmp_path: Path, server: FakePachca, storage: FakePachca, pachca: PachcaClient
) -> None:
    server.reply("GET", "/files/3560", _redirect(storage))
    storage.reply("GET", STORED, s3_error(404, "NoSuchKey", "The specified key does not exist."))
    target = tmp_path / "report.pdf"
    target.write_bytes(b"an older copy")
    with pytest.raises(DownloadError) as caught:
        await pachca.files.download_file(3560, to=target)
    assert (caught.value.code, caught.value.storage_message) == (
        "NoSuchKey",
        "The specified key does not exist.",
    )
    assert target.read_bytes() == b"an older copy"
    assert os.listdir(tmp_path) == ["report.pdf"]


async def test_refusals_of_the_api_are_its_typed_errors(
    server: FakePachca, pachca: PachcaClient
) -> None:
    denied = {
        "key": "id",
        "value": 3560,
        "message": "denied",
        "code": "confidential_download_denied",
    }
    server.reply("GET", "/files/3560", answer(403, {"errors": [denied]}))
    server.reply("GET", "/files/404", answer(404, {"errors": []}))
    with pytest.raises(PermissionDeniedError) as caught:
        await pachca.files.download_file(3560)
    assert caught.value.errors[0].code == "confidential_download_denied"
    with pytest.raises(NotFoundError):
        await pachca.files.download_file(404)


async def test_a_refusal_reads_retry_after_by_the_clients_wall_clock(
    server: FakePachca,
) -> None:
    # The date is 30 s after the client's (virtual) now, and years away from the real one.
    server.reply("GET", "/files/3560", answer(429, None, **{"Retry-After": DATE}))
    policy = RetryPolicy(max_retries=0, wall_clock=lambda: WALL)
    async with PachcaClient(TOKEN, base_url=server.base_url, retry=policy) as pachca:
        with pytest.raises(RateLimitError) as caught:
            await pachca.files.download_file(3560)
    assert caught.value.retry_after == 30.0


async def test_a_cut_download_starts_over_in_the_sink(
    tmp_path: Path, server: FakePachca, pachca: PachcaClient
) -> None:
    async def cut(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_length = len(CONTENT)
        await response.prepare(request)
        await response.write(CONTENT[: 1024 * 1024])
        assert request.transport is not None
        request.transport.close()
        await asyncio.sleep(0)
        return response

    server.reply("GET", "/files/3560", cut, _file())
    saved = await pachca.files.download_file(3560, to=tmp_path / "report.pdf")
    assert saved.read_bytes() == CONTENT  # the cut attempt's bytes are gone
    assert len(requests(server, "GET", "/files/3560")) == 2


async def test_a_bad_target_fails_before_any_request(
    tmp_path: Path, server: FakePachca, pachca: PachcaClient
) -> None:
    with pytest.raises(InvalidRequestError, match="must be a path or a Sink"):
        await pachca.files.download_file(3560, to=b"not a sink")  # type: ignore[call-overload]
    with pytest.raises(InvalidRequestError, match="it is a folder"):
        await pachca.files.download_file(3560, to=tmp_path)
    assert server.calls == []


async def test_a_raw_download_has_the_answer_the_file_came_in(
    tmp_path: Path, server: FakePachca, storage: FakePachca, pachca: PachcaClient
) -> None:
    server.reply("GET", "/files/3560", _redirect(storage))
    storage.reply("GET", STORED, _file())
    raw = await pachca.files.with_raw_response.download_file(3560)
    assert (raw.status, raw.data, raw.content) == (200, CONTENT, CONTENT)
    assert raw.headers["Content-Disposition"] == 'attachment; filename="report.pdf"'
    assert raw.operation == "files.download_file"
    saved = await pachca.files.with_raw_response.download_file(3560, to=tmp_path / "r.pdf")
    assert (saved.data, saved.content) == (tmp_path / "r.pdf", b"")
