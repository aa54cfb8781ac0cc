"""`codegen/overlay.yaml`: the SDK's facts about Pachca that the spec does not state.

Loaded and checked here (a malformed overlay is a `SpecError` naming the pointer inside it);
the normalize pass and the renderer read the `Overlay`. `record_renames` is the one writer: it
rewrites the `renamed:` section at the end of the file and leaves the rest, comments included.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError, pointer

DEFAULT = Path(__file__).parent / "overlay.yaml"
OPERATION_MODULE = Path(__file__).resolve().parent.parent / "pachca_async" / "_operation.py"
RATE_KEY_SOURCES = ("chat_id", "chat_type", "message_id")
UNKNOWN_OBSERVER = "unknown"
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
_HELPERS = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")


@dataclass
class Overlay:
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhooks: dict[tuple[str, str], str] = field(default_factory=dict)
    """("type", "event" or "*") → observer name."""
    observers: dict[str, str] = field(default_factory=dict)
    """Observer name → what it receives (its docstring)."""
    renamed: dict[str, str] = field(default_factory=dict)
    """Old `service.method` → the operationId it is now."""
    path: Path | None = None

    def operation(self, operation_id: str) -> Mapping[str, Any]:
        return self.operations.get(operation_id, {})


def load(path: Path = DEFAULT) -> Overlay:
    """Read and check the overlay; a missing file is an empty overlay."""
    if not path.exists():
        return parse({}, path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise SpecError("", f"{path.name}: not valid YAML ({error})") from None
    return parse(data, path)


def parse(data: Any, path: Path | None = None) -> Overlay:
    where = path.name if path else "overlay"
    _expect(isinstance(data, dict), where, "", "a mapping")
    overlay = Overlay(path=path)
    overlay.operations = _section(data, "operations", where, mappings=True)
    for op_id, entry in overlay.operations.items():
        at = pointer("operations", op_id)
        rate, classes = entry.get("rate", "other"), rate_classes()
        _expect(rate in classes, where, at + "/rate", f"one of {', '.join(classes)}")
        source = entry.get("rate_key", {})
        _expect(
            isinstance(source, dict) and set(source) <= set(RATE_KEY_SOURCES),
            where,
            at + "/rate_key",
            f"a mapping with keys among {', '.join(RATE_KEY_SOURCES)}",
        )
        helpers = entry.get("helpers")
        _expect(
            helpers is None or bool(_HELPERS.fullmatch(str(helpers))),
            where,
            at + "/helpers",
            "'package.module:Class'",
        )
    overlay.schemas = _section(data, "schemas", where, mappings=True)
    for name, entry in overlay.schemas.items():
        at = pointer("schemas", name)
        rule = entry.get("select")
        if rule is not None:
            _expect(
                isinstance(rule, dict)
                and isinstance(rule.get("property"), str)
                and isinstance(rule.get("by"), str)
                and isinstance(rule.get("variants", {}), dict)
                and all(isinstance(v, list) for v in rule.get("variants", {}).values()),
                where,
                at + "/select",
                "`property`, `by` and `variants` (variant: [values])",
            )
        secrets = entry.get("secrets", [])
        _expect(
            isinstance(secrets, list) and all(isinstance(s, str) for s in secrets),
            where,
            at + "/secrets",
            "a list of property names",
        )
    for label, observer in _section(data, "webhooks", where).items():
        kind, _, event = str(label).partition(" ")
        _expect(bool(kind and event), where, pointer("webhooks", label), "'type event' as key")
        overlay.webhooks[(kind, event)] = str(observer)
    overlay.observers = {str(k): str(v) for k, v in _section(data, "observers", where).items()}
    overlay.observers.setdefault(UNKNOWN_OBSERVER, "Events no other observer takes.")
    for name in overlay.observers:
        _expect(bool(_IDENTIFIER.fullmatch(name)), where, pointer("observers", name), "a name")
    for (kind, event), observer in overlay.webhooks.items():
        _expect(
            observer in overlay.observers,
            where,
            pointer("webhooks", f"{kind} {event}"),
            "an observer listed under `observers`",
        )
    overlay.renamed = {str(k): str(v) for k, v in _section(data, "renamed", where).items()}
    return overlay


@functools.cache
def rate_classes() -> tuple[str, ...]:
    """The values of `RateClass`, read from its source: the session layer owns the list, and
    codegen must not import a package it may be about to regenerate."""
    tree = ast.parse(OPERATION_MODULE.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "RateClass":
            return tuple(
                stmt.value.value
                for stmt in node.body
                if isinstance(stmt, ast.Assign)
                and isinstance(stmt.value, ast.Constant)
                and isinstance(stmt.value.value, str)
            )
    raise SpecError("", f"no RateClass in {OPERATION_MODULE}")


def _section(
    data: dict[str, Any], name: str, where: str, *, mappings: bool = False
) -> dict[str, Any]:
    """The section `name`, each entry a value (a mapping, with `mappings`)."""
    value = data.get(name) or {}
    _expect(isinstance(value, dict), where, pointer(name), "a mapping")
    result: dict[str, Any] = value
    for key, entry in result.items():
        ok = isinstance(entry, dict) if mappings else entry is not None
        _expect(ok, where, pointer(name, key), "a mapping" if mappings else "a value")
    return result


def _expect(ok: bool, where: str, at: str, expected: str) -> None:
    if not ok:
        raise SpecError(at, f"{where}: expected {expected}")


RENAMED_HEADER = "renamed:"


def record_renames(overlay: Overlay, found: Mapping[str, str]) -> list[str]:
    """Add `found` renames to the overlay file's `renamed:` section; return the new entries."""
    new = {old: op_id for old, op_id in found.items() if overlay.renamed.get(old) != op_id}
    if not new or overlay.path is None:
        return []
    overlay.renamed.update(new)
    text = overlay.path.read_text(encoding="utf-8") if overlay.path.exists() else ""
    head, marker, _ = text.rpartition("\n" + RENAMED_HEADER)
    body = "".join(f"  {old}: {op_id}\n" for old, op_id in sorted(overlay.renamed.items()))
    prefix = head + "\n" if marker else text
    overlay.path.write_text(f"{prefix}{RENAMED_HEADER}\n{body}", encoding="utf-8")
    return sorted(new)
