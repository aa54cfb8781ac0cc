"""The documentation site builds with no warnings, and its API reference covers every public
name and every service method.

The site is built once per session (`mkdocs build --strict`, as `make docs` does) and read
through mkdocstrings' objects inventory (`objects.inv`), the index of everything rendered.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
import zlib
from pathlib import Path
from types import ModuleType

import pytest

import pachca_async
from pachca_async import PachcaClient
from pachca_async._service import Service

ROOT = Path(__file__).resolve().parents[2]


def public_modules() -> list[ModuleType]:
    """`pachca_async` and every submodule whose name has no leading underscore."""
    names = [m.name for m in pkgutil.iter_modules(pachca_async.__path__) if m.name[0] != "_"]
    return [pachca_async, *(importlib.import_module(f"pachca_async.{n}") for n in names)]


def read_inventory(path: Path) -> set[str]:
    """The object names in a Sphinx-format (version 2) inventory."""
    data = path.read_bytes()
    header_end = 0
    for _ in range(4):  # "# Sphinx inventory version 2", project, version, compression note
        header_end = data.index(b"\n", header_end) + 1
    lines = zlib.decompress(data[header_end:]).decode().splitlines()
    return {line.split(" ", 1)[0] for line in lines}


@pytest.fixture(scope="session")
def inventory(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    site = tmp_path_factory.mktemp("site")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )
    assert built.returncode == 0, built.stderr
    warnings = [line for line in built.stderr.splitlines() if line.startswith("WARNING")]
    assert warnings == []
    return read_inventory(site / "objects.inv")


@pytest.mark.parametrize("module", public_modules(), ids=lambda module: module.__name__)
def test_every_public_name_is_in_the_reference(module: ModuleType, inventory: set[str]) -> None:
    exported = getattr(module, "__all__", None)
    assert exported, f"{module.__name__} declares no __all__: what is public is unclear"
    missing = [name for name in exported if f"{module.__name__}.{name}" not in inventory]
    assert missing == [], (
        f"not in the API reference; is there a docs/reference page with `::: {module.__name__}`?"
    )


def test_every_service_method_is_in_the_reference(inventory: set[str]) -> None:
    client = PachcaClient("documentation")
    services = [type(s) for s in vars(client).values() if isinstance(s, Service)]
    assert len(services) >= 17
    methods = [
        f"{cls.__module__}.{cls.__qualname__}.{name}"
        for cls in services
        for name in dir(cls)
        if name[0] != "_" and callable(getattr(cls, name))
    ]
    assert any(m.endswith("Service.upload") for m in methods)  # hand-written helpers count too
    assert [method for method in methods if method not in inventory] == []
