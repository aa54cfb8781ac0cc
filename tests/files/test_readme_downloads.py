"""The README's download example runs as written, against FakePachca."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pachca_async.testing import FakePachca
from tests.readme import modules


def example() -> dict[str, Any]:
    """The README's Files section, run for its definitions."""
    namespace: dict[str, Any] = {"__name__": "files"}
    exec(modules()["files"], namespace)
    return namespace


async def test_the_readme_saves_a_messages_attachments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    save_attachments = example()["save_attachments"]
    async with FakePachca() as api, api.client() as pachca:
        photo = api.add_file(b"\x89PNG" + bytes(96), name="photo.png", file_type="image")
        notes = api.add_file(b"minutes", name="notes.txt")
        said = api.add_message("see attached", chat_id=198, user_id=7, files=[photo, notes])
        await save_attachments(pachca, said["id"], tmp_path / "downloads")
    assert (tmp_path / "downloads" / "photo.png").read_bytes() == b"\x89PNG" + bytes(96)
    assert (tmp_path / "downloads" / "notes.txt").read_bytes() == b"minutes"
    assert capsys.readouterr().out.splitlines() == [
        "photo.png 100 bytes",
        "notes.txt 7 bytes",
        "thumbnail: 100 bytes",
    ]
