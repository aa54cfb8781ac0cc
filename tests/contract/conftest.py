"""Prism, the OpenAPI mock server, started once per test session on openapi.yaml.

Prism (npm `@stoplight/prism-cli`, pinned in package.json; `make test` runs `npm ci`) checks
every request against the spec and answers with a response generated from it, so a call
that passes here has the shape the spec asks for, both ways.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from codegen.normalize import operations
from tests.scripting import free_port

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "openapi.yaml"
PRISM = ROOT / "node_modules" / ".bin" / "prism"
HOST = "127.0.0.1"
STARTUP_TIMEOUT = 60.0
"""Seconds Prism may take to load the spec; it needs about 2 here."""


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    """openapi.yaml as committed."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 10x faster, if built
    document: dict[str, Any] = yaml.load(SPEC.read_text(encoding="utf-8"), Loader=loader)
    return document


def served_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The copy of `spec` that Prism serves: one statement moved to where Prism reads it.

    Pachca's spec requires Bearer auth for the whole API and exempts the upload to the file
    storage (`POST /direct_url`) only with its own `x-requirements: {auth: false}`, which
    Prism does not know. Served as committed, Prism demands a token on that upload, which the
    SDK rightly never sends to the storage. The copy says the same in OpenAPI's own words,
    `security: []` on those operations; everything else is untouched.
    """
    copied = copy.deepcopy(spec)
    for _, _, operation in operations(copied):
        if operation.get("x-requirements", {}).get("auth") is False:
            operation["security"] = []
    return copied


def _listening(log: Path, url: str) -> bool:
    """Prism says so once the spec is loaded and the port is its own.

    A bare connection could reach another process that took the free port first.
    """
    return f"Prism is listening on {url}" in log.read_text(errors="replace")


def _prism_command() -> list[str]:
    """How to start Prism, or skip when this machine has no Node.js to run it."""
    if shutil.which("node") is None:
        pytest.skip("the contract tests need Node.js to run Prism: `node` is not on PATH")
    if not PRISM.exists():
        if shutil.which("npm") is None:
            pytest.skip("the contract tests need npm to install Prism: `npm` is not on PATH")
        pytest.fail(f"Prism is not installed at {PRISM}: run `make install` (it runs `npm ci`)")
    return [str(PRISM), "mock"]


@pytest.fixture(scope="session")
def prism_url(spec: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a Prism mock of openapi.yaml; Prism's log is in the session's tmp dir.

    `--errors` makes Prism answer with an error whenever a request, or the response it
    generated, breaks the spec, instead of only logging a warning.
    """
    command = _prism_command()
    folder = tmp_path_factory.mktemp("prism")
    document = folder / "openapi.json"
    document.write_text(json.dumps(served_spec(spec)), encoding="utf-8")
    log_path = folder / "prism.log"
    port = free_port()
    url = f"http://{HOST}:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, "--host", HOST, "--port", str(port), "--errors", str(document)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _listening(log_path, url):
            if process.poll() is not None or time.monotonic() > deadline:
                output = log_path.read_text(errors="replace")[-4000:]
                pytest.fail(f"Prism did not start on {url}:\n{output}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
