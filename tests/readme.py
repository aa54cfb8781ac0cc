"""The README's Python examples, by section, for the tests that run them."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks(heading: str) -> list[str]:
    """The ```python blocks under `heading` (a line such as "## Tracing"), up to the next
    heading of the same level or above."""
    text = README.read_text(encoding="utf-8")
    level = heading.split(" ", 1)[0]
    _, found, rest = text.partition(f"\n{heading}\n")
    assert found, f"README.md has no section {heading!r}"
    section = re.split(rf"\n#{{1,{len(level)}}} ", rest, maxsplit=1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)
