"""`python -m codegen`: openapi.yaml + codegen/overlay.yaml → pachca_async/_generated.

Steps: load → find calls renamed since the committed package → normalize → parse
(openapi-python-client) → render (our templates) → ruff → swap into place → print what
changed, breaking changes marked, and what the normalize pass skipped. Renames found are added
to the overlay, so their old names stay deprecated aliases. Any failure leaves the committed
package untouched and exits 1 with the JSON pointer at fault; `--fail-on-breaking` exits 2
after writing a package whose changes break users' code.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from . import overlay as overlays
from . import report
from .build import GenerationError, build
from .normalize import SpecError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = ROOT / "openapi.yaml"
DEFAULT_OUTPUT = ROOT / "pachca_async" / "_generated"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen", description=__doc__)
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help="the OpenAPI document")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="the package to write")
    parser.add_argument(
        "--overlay", type=Path, default=overlays.DEFAULT, help="the SDK's facts about Pachca"
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    parser.add_argument(
        "--fail-on-breaking",
        action="store_true",
        help="exit 2 when the change report has a breaking change (the package is still written)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        lines = generate(args.spec, args.output, args.overlay, record=True)
    except GenerationError as error:
        print(f"codegen: {args.spec}: {error}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"Generated {args.output} from {args.spec} in {time.perf_counter() - started:.1f}s")
        print("\n".join(lines))
    if args.fail_on_breaking and report.has_breaking(lines):
        print("codegen: the change report has breaking changes", file=sys.stderr)
        return 2
    return 0


def generate(
    spec_path: Path,
    output: Path,
    overlay_path: Path = overlays.DEFAULT,
    *,
    record: bool = False,
) -> list[str]:
    """Generate `output` from `spec_path`; return the change report against the old `output`.

    Calls of the old `output` that the spec has under another name are renames: they get
    deprecated aliases, and with `record` they are written to the overlay's `renamed:` so the
    next generation keeps them.
    """
    spec = load(spec_path)
    try:
        overlay = overlays.load(overlay_path)
    except SpecError as error:
        raise GenerationError(error.pointer, error.detail) from None
    old = report.summarize(output)
    renames = report.find_renames(old.calls, report.calls_of(spec))
    facts = dataclasses.replace(overlay, renamed={**overlay.renamed, **renames})
    notes: list[str] = []
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}-new-", dir=output.parent))
    try:
        build(spec, staging, facts, notes)
        tidy(staging)
        lines = report.diff(old, report.summarize(staging), renames)
        if record:
            overlays.record_renames(overlay, renames)
        swap(staging, output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return lines + notes


def load(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise GenerationError("", f"cannot read the spec: {error.strerror}") from None
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise GenerationError("", f"not valid YAML{where}") from None
    if not isinstance(spec, dict):
        raise GenerationError("", "the document is not a mapping")
    return spec


def tidy(package: Path) -> None:
    """Sort imports, drop unused ones and format, with the project's ruff settings."""
    config = ["--config", str(ROOT / "pyproject.toml")]
    ruff = [sys.executable, "-m", "ruff"]
    for command in (
        [*ruff, "check", *config, "--fix-only", "--quiet", "--select", "F401,I", str(package)],
        [*ruff, "format", *config, "--quiet", str(package)],
    ):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise GenerationError("", f"ruff failed on the generated code:\n{done.stderr}")


def swap(staging: Path, output: Path) -> None:
    """Replace `output` with `staging` in two renames (both on one filesystem)."""
    old = output.with_name(f".{output.name}-old-{os.getpid()}")
    if output.exists():
        output.rename(old)
    staging.rename(output)
    shutil.rmtree(old, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
