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
import json, sys, warnings
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
            result = getattr(getattr(client, service), method)()
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
