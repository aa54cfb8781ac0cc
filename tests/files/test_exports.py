"""Exports: requested, located (the 302 is not followed) and streamed to disk without the token."""

from __future__ import annotations

import asyncio
import datetime
import os
from pathlib import Path

import pytest
from aiohttp import web

from pachca_async import (
    DownloadError,
    Handler,
    InvalidRequestError,
    NotFoundError,
    PachcaClient,
    Request,
    Response,
    RetryPolicy,
)
from pachca_async.testing import FakePachca

from .fakes import TOKEN, answer, requests, s3_error
from .fakes import Handler as FakeHandler

ARCHIVE = os.urandom(5 * 1024 * 1024 + 3)
STORAGE = "/storage/exports/22322.zip"


def _located(server: FakePachca, count: int = 1) -> None:
    link = answer(302, None, Location=f"{server.base_url}{STORAGE}?X-Amz-Signature=abc")
    server.reply("GET", "/chats/exports/22322", *([link] * count))


def _archive(data: bytes = ARCHIVE, *, drop_after: int | None = None) -> FakeHandler:
    async def handle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/zip"})
        response.content_length = len(data)
        await response.prepare(request)
        for start in range(0, len(data), 256 * 1024):
            if drop_after is not None and start >= drop_after:
                assert request.transport is not None
                request.transport.close()
                await asyncio.sleep(0)
                return response
            await response.write(data[start : start + 256 * 1024])
        await response.write_eof()
        return response

    return handle


async def test_request_export(server: FakePachca, pachca: PachcaClient) -> None:
    server.reply("POST", "/chats/exports", answer(202, {"data": {"id": 22322}}))
    export = await pachca.chats.request_export(
        start_at=datetime.date(2025, 1, 1),
        end_at=datetime.date(2025, 2, 14),
        webhook_url="https://example.com/hooks/export",
        chat_ids=[1, 2],
    )
    assert export.id == 22322  # the same id the export webhook brings later
    sent = requests(server, "POST", "/chats/exports")[0]
    assert sent.headers["Prefer"] == "return=representation"
    body = sent.body
    assert body == {
        "start_at": "2025-01-01",
        "end_at": "2025-02-14",
        "webhook_url": "https://example.com/hooks/export",
        "chat_ids": [1, 2],
    }


async def test_download_export_returns_the_link_unfollowed(
    server: FakePachca, pachca: PachcaClient
) -> None:
    _located(server)
    server.reply("GET", STORAGE, _archive())
    url = await pachca.chats.download_export(22322)
    assert url == f"{server.base_url}{STORAGE}?X-Amz-Signature=abc"
    assert requests(server, "GET", STORAGE) == []


async def test_save_export_streams_to_disk_without_credentials(
    tmp_path: Path, server: FakePachca
) -> None:
    _located(server)
    server.reply("GET", STORAGE, _archive())
    bodies: dict[str, int] = {}

    async def measure(request: Request, call_next: Handler) -> Response:
        response = await call_next(request)
        bodies[request.path] = len(response.body)
        return response

    seen: list[tuple[int, int | None]] = []
    async with PachcaClient(TOKEN, base_url=server.base_url, middlewares=[measure]) as pachca:
        saved = await pachca.chats.save_export(
            22322, tmp_path / "export.zip", progress=lambda got, total: seen.append((got, total))
        )

    assert saved == tmp_path / "export.zip"
    assert saved.read_bytes() == ARCHIVE
    assert os.listdir(tmp_path) == ["export.zip"]  # nothing left behind
    assert bodies[STORAGE] == 0  # the archive never sat in memory
    storage = requests(server, "GET", STORAGE)[0]
    assert b"Authorization" not in storage.raw_headers
    assert TOKEN.encode() not in storage.raw_headers
    assert seen[0] == (0, len(ARCHIVE))
    assert seen[-1] == (len(ARCHIVE), len(ARCHIVE))


async def test_the_storages_own_redirects_are_followed(
    tmp_path: Path, server: FakePachca, pachca: PachcaClient
) -> None:
    _located(server)
    server.reply("GET", STORAGE, answer(307, None, Location="/storage/moved.zip"))
    server.reply("GET", "/storage/moved.zip", _archive())
    saved = await pachca.chats.save_export(22322, tmp_path / "export.zip")
    assert saved.read_bytes() == ARCHIVE
    assert TOKEN.encode() not in requests(server, "GET", "/storage/moved.zip")[0].raw_headers


async def test_an_expired_link_is_asked_for_again(
    tmp_path: Path, server: FakePachca, pachca: PachcaClient
) -> None:
    _located(server, count=2)
    server.reply("GET", STORAGE, s3_error(403, "AccessDenied", "Request has expired"), _archive())
    saved = await pachca.chats.save_export(22322, tmp_path / "export.zip")
    assert saved.read_bytes() == ARCHIVE
    assert len(requests(server, "GET", "/chats/exports/22322")) == 2


async def test_storage_refusal_leaves_the_target_alone(
    tmp_path: Path, server: FakePachca, pachca: PachcaClient
) -> None:
    _located(server)
    server.reply("GET", STORAGE, s3_error(404, "NoSuchKey", "The specified key does not exist."))
    target = tmp_path / "export.zip"
    target.write_bytes(b"yesterday's export")
    with pytest.raises(DownloadError) as caught:
        await pachca.chats.save_export(22322, target)
    assert (caught.value.status, caught.value.code) == (404, "NoSuchKey")
    assert target.read_bytes() == b"yesterday's export"
    assert os.listdir(tmp_path) == ["export.zip"]


async def test_a_download_cut_short_is_fetched_again_from_the_start(
    tmp_path: Path, server: FakePachca
) -> None:
    _located(server)
    server.reply("GET", STORAGE, _archive(drop_after=1024 * 1024), _archive())
    retry = RetryPolicy(backoff=0, jitter=0)
    async with PachcaClient(TOKEN, base_url=server.base_url, retry=retry) as pachca:
        saved = await pachca.chats.save_export(22322, tmp_path / "export.zip")
    assert saved.read_bytes() == ARCHIVE  # the cut attempt's bytes are gone
    assert len(requests(server, "GET", STORAGE)) == 2


async def test_export_not_ready(tmp_path: Path, server: FakePachca, pachca: PachcaClient) -> None:
    error = {"key": "id", "value": None, "message": "not ready", "code": "export_file_not_found"}
    server.reply("GET", "/chats/exports/22322", answer(404, {"errors": [error]}))
    with pytest.raises(NotFoundError, match="not ready"):
        await pachca.chats.save_export(22322, tmp_path / "export.zip")
    assert os.listdir(tmp_path) == []


async def test_an_unwritable_target_fails_before_any_request(
    tmp_path: Path, server: FakePachca, pachca: PachcaClient
) -> None:
    with pytest.raises(InvalidRequestError, match="cannot write"):
        await pachca.chats.save_export(22322, tmp_path / "missing" / "export.zip")
    with pytest.raises(InvalidRequestError, match="it is a folder"):
        await pachca.chats.save_export(22322, tmp_path)
    assert server.calls == []
