"""Fields the spec lets be `null` take `None` (mypy and pyright agree) and send `null`.

Pachca's spec has no such request field today; these shapes are the ones a spec uses to say so,
each of which the generator must keep: a nullable scalar, `allOf: [$ref]`, a bare `$ref` with a
`nullable` sibling (which the generator alone ignores), and nullable array items.
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from codegen.__main__ import generate
from pachca_async import Timeout
from pachca_async._encode import Target, build_request

ROOT = Path(__file__).resolve().parents[2]
PYRIGHT = ROOT / "node_modules" / ".bin" / "pyright"


def ref(name: str, **siblings: Any) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}", **siblings}


NULLABLE = {
    "title": {"type": "string", "nullable": True, "description": "Required, may be null."},
    "due_at": {"type": "string", "format": "date-time", "nullable": True},
    "color": ref("Color", nullable=True),
    "parent": ref("NoteRef", nullable=True, description="A bare $ref with siblings."),
    "owner": {"allOf": [ref("NoteRef")], "nullable": True},
    "tags": {"type": "array", "items": ref("NoteRef", nullable=True)},
}
SPEC = {
    "openapi": "3.0.0",
    "info": {"title": "Notes", "version": "1.0.0"},
    "paths": {
        "/notes": {
            "post": {
                "operationId": "NoteOperations_createNote",
                "summary": "Create a note",
                "tags": ["Notes"],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref("NoteCreateRequest")}},
                },
                "responses": {"204": {"description": "Created."}},
            },
            "get": {
                "operationId": "NoteOperations_listNotes",
                "summary": "List notes",
                "tags": ["Notes"],
                "parameters": [
                    {"name": "color", "in": "query", "schema": ref("Color", nullable=True)}
                ],
                "responses": {"204": {"description": "Listed."}},
            },
        }
    },
    "components": {
        "schemas": {
            "Color": {"type": "string", "enum": ["red", "blue"], "description": "A color."},
            "NoteRef": {
                "type": "object",
                "required": ["id"],
                "properties": {"id": {"type": "integer"}},
                "description": "Another note.",
            },
            "NoteCreateRequest": {
                "type": "object",
                "required": ["note"],
                "properties": {
                    "note": {
                        "type": "object",
                        "required": ["title"],
                        "properties": NULLABLE,
                        "description": "The note.",
                    }
                },
                "description": "Body for creating a note.",
            },
        }
    },
}
CALLER = """\
from notes_gen.models import NoteCreateRequest, NoteCreateRequestNote
from notes_gen.services.notes import NotesService


async def call(notes: NotesService) -> None:
    await notes.create_note(
        title=None, due_at=None, color=None, parent=None, owner=None, tags=[None]
    )
    note = NoteCreateRequestNote(
        title=None, due_at=None, color=None, parent=None, owner=None, tags=[None]
    )
    await notes.create_note(body=NoteCreateRequest(note=note))
    await notes.list_notes(color=None)
"""


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("nullable")
    spec = folder / "notes.yaml"
    spec.write_text(yaml.safe_dump(SPEC), encoding="utf-8")
    generate(spec, folder / "notes_gen")
    (folder / "caller.py").write_text(CALLER, encoding="utf-8")
    yield folder
    sys.modules.pop("notes_gen", None)
    shutil.rmtree(folder)


def check(package: Path, *command: str) -> None:
    done = subprocess.run(
        [*command, "caller.py"], cwd=package, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_mypy_accepts_none_for_nullable_fields(package: Path) -> None:
    check(package, sys.executable, "-m", "mypy", "--strict", "--no-incremental")


@pytest.mark.skipif(not PYRIGHT.exists(), reason="pyright is not installed (`make install`)")
def test_pyright_accepts_none_for_nullable_fields(package: Path) -> None:
    check(package, str(PYRIGHT), "--pythonpath", sys.executable)


def test_none_is_sent_as_null(package: Path) -> None:
    sys.path.insert(0, str(package))
    try:
        services = importlib.import_module("notes_gen.services.notes")
    finally:
        sys.path.remove(str(package))
    target = Target(base_url="http://127.0.0.1/api", headers={}, public_headers={})
    arguments = dict.fromkeys(NULLABLE, None) | {"tags": [None]}
    request = build_request(services.CREATE_NOTE, arguments, target, Timeout())
    assert isinstance(request.body, bytes)
    assert json.loads(request.body) == {"note": arguments}
    listed = build_request(services.LIST_NOTES, {"color": None}, target, Timeout())
    assert not listed.params  # a query has no null: `None` leaves the parameter out
