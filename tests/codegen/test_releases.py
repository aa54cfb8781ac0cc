"""Each of Pachca's published releases, dropped over openapi.yaml, gives a working package.

Every test works in a temporary copy of the repository (codegen, package, spec), never on the
committed package: it drops the release in, runs `python -m codegen` there, and checks the
result in a fresh interpreter.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from codegen import naming
from codegen.normalize import operations

ROOT = Path(__file__).resolve().parents[2]
HISTORY = ROOT.parent / "shared" / "pachca-api" / "history"
RELEASES = ["2026-02-16", "2026-02-27", "2026-04-07", "2026-08-07"]

pytestmark = pytest.mark.skipif(
    not HISTORY.exists(), reason=f"Pachca's earlier releases are not at {HISTORY}"
)

# Run in the copy: every call of the release by its official name, and today's names.
PROBE = """
import inspect, json, sys, warnings
from pachca_async import PachcaClient

expected, today = json.loads(sys.argv[1]), json.loads(sys.argv[2])
client = PachcaClient("token")
missing = [n for n in expected if not callable(getattr(getattr(client, n.split(".")[0], None),
                                                       n.split(".")[1], None))]
aliases = {}
for old in today:
    service, method = old.split(".")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            call = getattr(getattr(client, service), method)
            required = [
                name for name, p in inspect.signature(call).parameters.items()
                if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
            ]
            result = call(**dict.fromkeys(required, 1))  # checks no types: nothing is sent
            getattr(result, "close", lambda: None)()  # a coroutine never awaited
        except (TypeError, AttributeError):
            pass
    aliases[old] = [str(w.message) for w in caught if w.category is DeprecationWarning]
print(json.dumps({"missing": missing, "aliases": aliases}))
"""


def _copy_repo(target: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", ".mypy_cache")
    for name in ("codegen", "pachca_async"):
        shutil.copytree(ROOT / name, target / name, ignore=ignore)
    for name in ("openapi.yaml", "pyproject.toml"):
        shutil.copy(ROOT / name, target / name)
    return target


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def _official_names(spec: dict[str, object]) -> dict[str, str]:
    """`service.method` → operationId, as the release's official SDK names its calls."""
    return {
        f"{naming.service_name(op['tags'][0])}.{naming.method_name(op['operationId'])}": op[
            "operationId"
        ]
        for _, _, op in operations(spec)
    }


@pytest.mark.parametrize("via", ["copy", "update-spec"])
@pytest.mark.parametrize("release", RELEASES)
def test_release_dropped_over_the_spec_generates_imports_and_type_checks(
    tmp_path: Path, release: str, via: str
) -> None:
    repo = _copy_repo(tmp_path / "repo")
    spec_file = HISTORY / f"openapi-{release}.yaml"
    if via == "copy":
        shutil.copy(spec_file, repo / "openapi.yaml")
    else:
        merged = _run(repo, "-m", "codegen.update_spec", str(spec_file))
        assert merged.returncode == 0, merged.stderr
    done = _run(repo, "-m", "codegen")
    assert done.returncode == 0, done.stderr

    spec = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
    official = _official_names(spec)
    today = _official_names(yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8")))
    moved = {
        old: new
        for old, op_id in today.items()
        for new, new_id in official.items()
        if new_id == op_id and new != old and old not in official
    }
    if release < "2026-08-07":  # the same verb and path under another operationId
        moved["messages.unfurl"] = "link_previews.create_link_previews"
    probe = _run(repo, "-c", PROBE, json.dumps(sorted(official)), json.dumps(sorted(moved)))
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    assert found["missing"] == []
    for old, new in moved.items():
        assert f"`{old}` is deprecated: use `{new}`" in found["aliases"][old], old

    checked = _run(
        repo,
        "-m",
        "mypy",
        "--strict",
        "--no-incremental",
        "--follow-imports=silent",
        "-p",
        "pachca_async._generated",
    )
    assert checked.returncode == 0, checked.stdout[-3000:]


# Run in the copy after the synthetic release: the new event reaches the observer the overlay
# names, typed; the moved call answers under its old name with a warning.
NEXT_PROBE = """
import asyncio, json, warnings
from types import SimpleNamespace
from pachca_async import PachcaClient
from pachca_async.bot import Dispatcher
from pachca_async.webhooks import Update, parse_payload

dp = Dispatcher()
seen = []

@dp.task()
async def on_task(event, pachca):
    seen.append(type(event).__name__)
    return "task"

raw = {"type": "task", "event": "new", "id": 5}
result = asyncio.run(dp.feed_update(SimpleNamespace(), Update(payload=parse_payload(raw), raw=raw)))
client = PachcaClient("token")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    client.messages.pin_message(1).close()
print(json.dumps({"result": result, "seen": seen, "warnings": [str(w.message) for w in caught]}))
"""


def _next_release(spec: dict[str, Any]) -> dict[str, Any]:
    """Today's spec as Pachca might publish it next, one change of each kind."""
    paths, schemas = spec["paths"], spec["components"]["schemas"]
    paths["/tasks/{id}/comments"] = {
        "get": {
            "operationId": "TaskCommentOperations_listTaskComments",
            "tags": ["Task Comments"],
            "description": "Список комментариев к задаче.",
            "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "responses": {"204": {"description": "Нет содержимого."}},
        }
    }
    paths["/messages/{id}/pin"]["post"]["tags"] = ["Pins"]
    schemas["Message"]["properties"]["pinned_by"] = {"type": "integer", "description": "Кто."}
    del schemas["Message"]["properties"]["url"]
    schemas["Message"]["required"].remove("url")
    schemas["FileType"]["enum"].append("archive")
    schemas["TaskWebhookPayload"] = {
        "type": "object",
        "required": ["type", "event", "id"],
        "properties": {
            "type": {"type": "string", "enum": ["task"]},
            "event": {"type": "string", "enum": ["new"]},
            "id": {"type": "integer", "description": "Идентификатор задачи."},
        },
    }
    schemas["WebhookPayloadUnion"]["anyOf"].append(
        {"$ref": "#/components/schemas/TaskWebhookPayload"}
    )
    return spec


def test_next_release_merges_reports_each_change_and_routes_the_new_event(
    tmp_path: Path,
) -> None:
    repo = _copy_repo(tmp_path / "repo")
    ours = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    published = tmp_path / "next.yaml"
    release = _next_release(_unmarked(ours))  # Pachca publishes no marks of ours
    published.write_text(yaml.safe_dump(release), encoding="utf-8")
    merged = _run(repo, "-m", "codegen.update_spec", str(published))
    assert merged.returncode == 0, merged.stderr
    assert "renamed: messages.pin_message is now MessageOperations_pinMessage" in merged.stdout
    assert "/paths/~1tasks~1{id}~1comments/get/description" in merged.stdout  # to rewrite
    overlay = repo / "codegen" / "overlay.yaml"
    text = overlay.read_text(encoding="utf-8")  # the maintainer routes the new event
    text = text.replace("webhooks:\n", "webhooks:\n  task new: task\n", 1)
    text = text.replace("observers:\n", "observers:\n  task: Tasks created.\n", 1)
    overlay.write_text(text, encoding="utf-8")

    done = _run(repo, "-m", "codegen")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "  + task_comments.list_task_comments" in lines
    assert (
        "  > messages.pin_message -> pins.pin_message (renamed; the old name is a deprecated alias)"
        in lines
    )
    assert "  + TaskWebhookPayload" in lines
    assert "      + pinned_by: int | Unset" in lines  # an addition: not breaking
    assert "      + 'archive': value" in lines
    assert "      - url: str (breaking)" in lines
    assert "  ~ Message (breaking)" in lines
    assert not [line for line in lines if "pin_message" in line and "(breaking)" in line]

    after = yaml.safe_load((repo / "openapi.yaml").read_text(encoding="utf-8"))
    assert after["paths"]["/messages/{id}/pin"]["post"]["tags"] == ["Pins"]
    for pointer_parts in _texts(ours):
        node: Any = after
        for part in pointer_parts[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and pointer_parts[-1] in node:
            assert node[pointer_parts[-1]] == _at(ours, pointer_parts), pointer_parts

    probe = _run(repo, "-c", NEXT_PROBE)
    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout) == {
        "result": "task",
        "seen": ["TaskWebhookPayload"],
        "warnings": ["`messages.pin_message` is deprecated: use `pins.pin_message`"],
    }
    breaking = _run(repo, "-m", "codegen", "--fail-on-breaking", "--quiet")
    assert breaking.returncode == 0  # the same spec again: nothing changed, nothing breaks


def _unmarked(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _unmarked(v) for k, v in node.items() if k != "x-sdk-ahead"}
    if isinstance(node, list):
        return [_unmarked(item) for item in node]
    return node


def _texts(node: Any, parts: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if not isinstance(node, dict):
        return []
    found = [(*parts, k) for k, v in node.items() if k == "description" and isinstance(v, str)]
    for key, value in node.items():
        found += _texts(value, (*parts, str(key)))
    return found


def _at(node: Any, parts: tuple[str, ...]) -> Any:
    for part in parts:
        node = node[part]
    return node
