"""The code of the README and of the documentation site (`docs/`) as modules, exactly as
written: the tests run them and `make lint` type-checks them (`python -m tests.readme` runs
mypy --strict over them).

Each section (a heading outside code blocks) with Python blocks is one module, its blocks
joined in order, named after the heading (`Quick start` → `quick_start.py`); the bot of "Bots"
is `my_bot.py`, the name "Testing without Pachca" imports it by. A heading is found whatever
its level, since a README section (`## Tracing`) moves to a docs page (`# Tracing`).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
NAMES = {"Bots": "my_bot"}

_PYTHON = re.compile(r"^```python\n(.*?)^```$", re.M | re.S)


def sources() -> list[Path]:
    """README.md, then every page of the site."""
    return [README, *sorted(DOCS.rglob("*.md"))]


def sections(page: Path) -> Iterator[tuple[int, str, str]]:
    """`(level, heading, body)` of each section of `page`, a body running to the next heading
    of any level. Lines in code blocks are never headings (`# a comment` in Python)."""
    level, heading, body = 0, "", []
    fenced = False
    for line in page.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.startswith("```"):
            fenced = not fenced
        found = None if fenced else re.match(r"(#{1,6}) (.+)$", line)
        if found:
            yield level, heading, "".join(body)
            level, heading, body = len(found.group(1)), found.group(2).strip(), []
        else:
            body.append(line)
    yield level, heading, "".join(body)


def python_blocks(heading: str) -> list[str]:
    """The ```python blocks under `heading` ("## Tracing"; its level is not compared), up to
    the next heading of the same level or above."""
    title = heading.lstrip("#").strip()
    for page in sources():
        level_found, blocks = 0, []
        for level, name, body in sections(page):
            if level_found and level <= level_found:
                return blocks
            if level_found:
                blocks += _PYTHON.findall(body)
            elif name == title:
                level_found, blocks = level, _PYTHON.findall(body)
        if level_found:
            return blocks
    raise AssertionError(f"no section {title!r} in README.md or docs/")


def modules(*pages: Path) -> dict[str, str]:
    """Module name → source, for each section with Python code (of `pages`, or all sources)."""
    found: dict[str, str] = {}
    for page in pages or sources():
        for _, heading, body in sections(page):
            blocks = _PYTHON.findall(body)
            if blocks:
                name = NAMES.get(heading) or re.sub(r"\W+", "_", heading.lower()).strip("_")
                assert name not in found, f"two sections would be module {name}: rename one"
                found[name] = "\n\n".join(blocks)
    return found


def write(folder: Path, *pages: Path) -> list[Path]:
    """Write every module into `folder`; returns their paths."""
    paths = []
    for name, source in modules(*pages).items():
        path = folder / f"{name}.py"
        path.write_text(source, encoding="utf-8")
        paths.append(path)
    return paths


def main() -> int:
    """mypy --strict over the code of the README and the docs; non-zero when it finds an error."""
    with tempfile.TemporaryDirectory(prefix="readme-") as folder:
        write(Path(folder))
        command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", folder]
        return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
