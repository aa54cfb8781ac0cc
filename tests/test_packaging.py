"""The sdist and the wheel hold what they should, built as a release would build them.

The sdist is the repository (the README sends readers to tests, examples, benchmarks, docs and
the Makefile); the wheel is the package alone, with metadata naming where the project lives
and no development extra.
"""

from __future__ import annotations

import email.parser
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # --no-isolation: the backend (hatchling) comes from the dev group; nothing is downloaded.
    built = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    return out


def sdist_files(dist: Path) -> set[str]:
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        return {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}


def wheel(dist: Path) -> zipfile.ZipFile:
    (path,) = dist.glob("*.whl")
    return zipfile.ZipFile(path)


def tracked_files() -> set[str]:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout (an unpacked sdist?): nothing to compare the sdist with")
    return {name for name in listed.stdout.splitlines() if (ROOT / name).is_file()}


def test_the_sdist_holds_the_repository(dist: Path) -> None:
    files = sdist_files(dist)
    assert tracked_files() - files == set()
    for promised in ("Makefile", "tests/conftest.py", "examples/echo_bot.py", "mkdocs.yml"):
        assert promised in files
    local = {"node_modules", ".venv", "site", "dist", "bench/.venv", "bench/results"}
    assert [name for name in files if any(name.startswith(f"{d}/") for d in local)] == []


def test_the_wheel_holds_the_package_alone(dist: Path) -> None:
    package = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "pachca_async").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    with wheel(dist) as archive:
        names = set(archive.namelist())
    assert {name for name in names if not name.startswith("pachca_async-")} == package
    assert "pachca_async/py.typed" in package


def test_the_wheel_metadata_names_the_project_and_no_dev_extra(dist: Path) -> None:
    with wheel(dist) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        fields = email.parser.Parser().parsestr(archive.read(metadata).decode())
    urls = dict(url.split(", ", 1) for url in fields.get_all("Project-URL", []))
    assert {"Documentation", "Source", "Issues", "Changelog"} <= set(urls)
    extras = fields.get_all("Provides-Extra")
    with (ROOT / "pyproject.toml").open("rb") as pyproject:
        declared = tomllib.load(pyproject)["project"]["optional-dependencies"]
    assert sorted(extras) == sorted(declared)
    assert "dev" not in extras  # dev tools are a dependency group, never published
    runtime = [r for r in fields.get_all("Requires-Dist", []) if "extra ==" not in r]
    assert sorted(r.split(">=")[0] for r in runtime) == ["aiohttp", "attrs", "cattrs"]
