"""Avatars: `PUT` multipart with the token, from every kind of source, streamed and named."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pachca_async import InputFile, PachcaClient, ServerError
from pachca_async.testing import FakePachca

from .fakes import TOKEN, answer, form, requests

AVATAR = {"data": {"image_url": "https://cdn.example/avatar.png"}}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 400


async def _stream(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), 10_000):
        yield data[start : start + 10_000]


@pytest.mark.parametrize("kind", ["path", "bytes", "file", "input file", "stream"])
async def test_profile_avatar_from_every_source(
    kind: str, tmp_path: Path, server: FakePachca, pachca: PachcaClient
) -> None:
    server.reply("PUT", "/profile/avatar", answer(200, AVATAR))
    path = tmp_path / "me.png"
    path.write_bytes(PNG)
    source = {
        "path": path,
        "bytes": PNG,
        "file": io.BytesIO(PNG),
        "input file": InputFile(PNG, name="me.png"),
        "stream": InputFile(_stream(PNG), name="me.png"),
    }[kind]

    avatar = await pachca.profile.update_profile_avatar(image=source)

    assert avatar.image_url == "https://cdn.example/avatar.png"
    seen = requests(server, "PUT", "/profile/avatar")[0]
    assert seen.headers["Authorization"] == f"Bearer {TOKEN}"
    (image,) = form(seen)
    assert image.name == "image"
    assert image.data == PNG
    if kind in {"path", "input file", "stream"}:
        assert (image.filename, image.content_type) == ("me.png", "image/png")
    else:
        assert (image.filename, image.content_type) == ("file", "application/octet-stream")
    if kind == "stream":
        assert seen.headers["Transfer-Encoding"] == "chunked"  # the API takes a stream as it is
    else:
        assert int(seen.headers["Content-Length"]) == len(seen.raw)


async def test_user_avatar(server: FakePachca, pachca: PachcaClient) -> None:
    server.reply("PUT", "/users/12/avatar", answer(200, AVATAR))
    await pachca.users.update_user_avatar(12, image=InputFile(PNG, "cat.webp", "image/webp"))
    (image,) = form(requests(server, "PUT", "/users/12/avatar")[0])
    assert (image.filename, image.content_type, image.data) == ("cat.webp", "image/webp", PNG)


async def test_a_readable_avatar_is_sent_whole_again_after_a_5xx(
    tmp_path: Path, server: FakePachca, pachca: PachcaClient
) -> None:
    server.reply("PUT", "/profile/avatar", answer(503), answer(200, AVATAR))
    path = tmp_path / "me.png"
    path.write_bytes(PNG)
    await pachca.profile.update_profile_avatar(image=path)
    attempts = requests(server, "PUT", "/profile/avatar")
    assert [form(a)[0].data for a in attempts] == [PNG, PNG]


async def test_a_stream_avatar_is_not_sent_again(server: FakePachca, pachca: PachcaClient) -> None:
    server.reply("PUT", "/profile/avatar", answer(503), answer(200, AVATAR))
    with pytest.raises(ServerError):
        await pachca.profile.update_profile_avatar(image=InputFile(_stream(PNG), "me.png"))
    assert len(requests(server, "PUT", "/profile/avatar")) == 1
