"""The README's Python code as modules, exactly as written: the tests run them and `make lint`
type-checks them (`python -m tests.readme` runs mypy --strict over them).

Each section (a `##` or `###` heading) with Python blocks is one module, its blocks joined in
order, named after the heading (`Quick start` → `quick_start.py`); the bot of "Bots" is
`my_bot.py`, the name "Testing without Pachca" imports it by.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
NAMES = {"Bots": "my_bot"}

_HEADING = re.compile(r"^#{2,3} (.+)$", re.M)
_PYTHON = re.compile(r"^```python\n(.*?)^```$", re.M | re.S)


def python_blocks(heading: str) -> list[str]:
    """The ```python blocks under `heading` (a line such as "## Tracing"), up to the next
    heading of the same level or above."""
    text = README.read_text(encoding="utf-8")
    level = heading.split(" ", 1)[0]
    _, found, rest = text.partition(f"\n{heading}\n")
    assert found, f"README.md has no section {heading!r}"
    section = re.split(rf"\n#{{1,{len(level)}}} ", rest, maxsplit=1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def modules(readme: Path = README) -> dict[str, str]:
    """Module name → source, for each section with Python code."""
    parts = _HEADING.split(readme.read_text(encoding="utf-8"))
    found = {}
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        blocks = _PYTHON.findall(body)
        if blocks:
            name = NAMES.get(heading) or re.sub(r"\W+", "_", heading.lower()).strip("_")
            found[name] = "\n\n".join(blocks)
    return found


def write(folder: Path, readme: Path = README) -> list[Path]:
    """Write every module into `folder`; returns their paths."""
    paths = []
    for name, source in modules(readme).items():
        path = folder / f"{name}.py"
        path.write_text(source, encoding="utf-8")
        paths.append(path)
    return paths


def main() -> int:
    """mypy --strict over the README's code; non-zero when it finds an error."""
    with tempfile.TemporaryDirectory(prefix="readme-") as folder:
        write(Path(folder))
        command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", folder]
        return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
