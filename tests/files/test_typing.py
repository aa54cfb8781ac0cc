"""What the docs promise type-checks under `mypy --strict`, as users will write it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.readme import python_blocks

ROOT = Path(__file__).resolve().parents[2]

USAGE = """
from pathlib import Path

from pachca_async import InputFile, PachcaClient
from pachca_async.models import Message, MessageCreateRequestMessageFilesItem


async def main(pachca: PachcaClient, data: bytes) -> Message:
    uploaded = await pachca.files.upload(Path("report.pdf"), progress=lambda sent, total: None)
    same: MessageCreateRequestMessageFilesItem = uploaded
    await pachca.messages.create_message(entity_id=1, content="report", files=[uploaded])
    await pachca.messages.update_message(7, files=[uploaded])
    await pachca.with_options(timeout=600).files.upload(data, name="a.bin", size=len(data))
    await pachca.profile.update_profile_avatar(image=InputFile(data, "me.png"))
    await pachca.users.update_user_avatar(12, image=Path("cat.png"))
    saved: Path = await pachca.chats.save_export(22322, "export.zip")
    return await pachca.files.send_message(
        entity_id=1, content="x", files=["a.pdf", InputFile(data, "b.png"), same]
    )
"""


def test_uploads_type_check_strictly(tmp_path: Path) -> None:
    usage = tmp_path / "usage.py"
    usage.write_text(USAGE, encoding="utf-8")
    snippets = tmp_path / "docs_files.py"
    snippets.write_text("\n".join(python_blocks("# Files")))
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(usage), str(snippets)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout
