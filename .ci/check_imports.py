"""Import every public module of the installed `pachca_async`, as a user of the wheel would.

Run from outside the source tree, so only the installed package can be imported. With
`--runtime-only` (the wheel and its runtime dependencies alone), the modules in `NEEDS` must
refuse with an ImportError instead, since they need more; without it, every module must import.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import pachca_async

# Public modules that need more than the runtime dependencies, and what provides it.
NEEDS = {
    "pachca_async.otel": "the otel extra",
    "pachca_async.pytest_plugin": "pytest, which loads it",
    "pachca_async.redis": "the redis extra",
}


def main(runtime_only: bool) -> None:
    assert "site-packages" in pachca_async.__file__, f"not the wheel: {pachca_async.__file__}"
    found = pkgutil.iter_modules(pachca_async.__path__)
    names = ["pachca_async", *sorted(f"pachca_async.{m.name}" for m in found if m.name[0] != "_")]
    for name in names:
        if runtime_only and name in NEEDS:
            try:
                importlib.import_module(name)
            except ImportError as error:
                print(f"{name}: needs {NEEDS[name]} ({error})")
                continue
            sys.exit(f"{name} imported without {NEEDS[name]}: take it out of NEEDS")
        importlib.import_module(name)
        print(f"{name}: imported")


if __name__ == "__main__":
    main(runtime_only="--runtime-only" in sys.argv[1:])
