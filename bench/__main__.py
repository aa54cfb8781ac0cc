"""`python -m bench [NAME ...]`: run every `bench/bench_*.py`, or only the ones named.

Each benchmark module exposes `main()`; `python -m bench parse` runs `bench_parse`. A `main`
that returns a non-zero number missed a target: the run goes on, and exits 1 at the end.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path

from .report import describe_machine

PREFIX = "bench_"


def available() -> list[str]:
    """The benchmark names found next to this file (`parse` for `bench_parse.py`)."""
    folder = str(Path(__file__).parent)
    return sorted(
        m.name.removeprefix(PREFIX)
        for m in pkgutil.iter_modules([folder])
        if m.name.startswith(PREFIX)
    )


def main(argv: Sequence[str]) -> int:
    names = available()
    chosen = list(argv) or names
    unknown = [n for n in chosen if n.removeprefix(PREFIX) not in names]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; have: {', '.join(names)}")
        return 2
    print(describe_machine())
    missed = []
    for name in chosen:
        name = name.removeprefix(PREFIX)
        print(f"\n== {name} ==", flush=True)
        if importlib.import_module(f"{__package__}.{PREFIX}{name}").main():
            missed.append(name)
    if missed:
        print(f"\ntargets missed in: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
