"""What changed between two generations: the page a maintainer reads before a release.

Both sides are read from generated source (with `ast`), so the report needs nothing but the
committed package and the new one. In the spirit of oasdiff, each removal or narrowing that can
break users' code is marked `(breaking)`: a removed call, argument, field or enum value, an
argument made required, a type changed other than by widening; additions are not.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import naming
from .normalize import HTTP_METHODS


@dataclass
class Summary:
    operations: dict[str, dict[str, str]] = field(default_factory=dict)
    """`service.method` → {"call": "POST /messages", "arg <name>": "<where>", "returns": ...}."""
    schemas: dict[str, dict[str, str]] = field(default_factory=dict)
    """Class or alias name → {field or enum value: annotation or "value"}."""
    calls: dict[str, tuple[str, str]] = field(default_factory=dict)
    """`service.method` → (operationId, `call_key` of its verb and path)."""


BREAKING = "(breaking)"

Calls = Mapping[str, tuple[str, str]]
"""`service.method` → (operationId, `call_key`)."""


def calls_of(spec: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """The `Calls` of a spec, skipping operations too malformed to name (the build names them)."""
    found = {}
    for path, item in (spec.get("paths") or {}).items():
        for method, op in item.items() if isinstance(item, dict) else ():
            op_id, tags = (
                (op.get("operationId"), op.get("tags")) if isinstance(op, dict) else ("", "")
            )
            if method in HTTP_METHODS and isinstance(op_id, str) and "_" in op_id and tags:
                name = f"{naming.service_name(str(tags[0]))}.{naming.method_name(op_id)}"
                found[name] = (op_id, call_key(method, path))
    return found


def find_renames(old: Calls, new: Calls) -> dict[str, str]:
    """Old `service.method` → operationId, for old calls the new side names otherwise.

    A call is the same when its operationId is, or else when its verb and path are (whatever
    its path parameters are called) and no other call has them.
    """
    by_id = {op_id for op_id, _ in new.values()}
    by_call: dict[str, list[str]] = {}
    for op_id, key in new.values():
        by_call.setdefault(key, []).append(op_id)
    found = {}
    for name, (op_id, key) in old.items():
        if name in new:
            continue
        same_call = by_call.get(key, [])
        if op_id not in by_id and len(same_call) == 1:
            op_id = same_call[0]
        if op_id in by_id:
            found[name] = op_id
    return found


def call_key(method: str, path: str) -> str:
    """`POST /chats/{}/members`: a call whatever its path parameters are named."""
    return f"{method.upper()} {re.sub(r'{[^}]*}', '{}', path)}"


def summarize(package: Path) -> Summary:
    """Read the operations and schemas of a generated package (empty if there is none)."""
    summary = Summary()
    try:
        models = package / "models.py"
        if models.exists():
            _read_models(ast.parse(models.read_text(encoding="utf-8")), summary)
        for module in sorted((package / "services").glob("*.py")):
            _read_operations(ast.parse(module.read_text(encoding="utf-8")), summary)
    except (OSError, SyntaxError, ValueError, KeyError):
        return Summary()  # not a package we generated (a merge conflict, a hand edit): no report
    return summary


def _read_models(tree: ast.Module, summary: Summary) -> None:
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            items: dict[str, str] = {}
            for stmt in node.body:
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                    items[stmt.target.id] = ast.unparse(stmt.annotation)
                elif isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant):
                    items[repr(stmt.value.value)] = "value"
            summary.schemas[node.name] = items
        elif (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and ast.unparse(node.annotation) == "TypeAlias"
            and node.value is not None
        ):
            summary.schemas[node.target.id] = {"=": ast.unparse(node.value)}


def _read_operations(tree: ast.Module, summary: Summary) -> None:
    for node in tree.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Call)):
            continue
        if ast.unparse(node.value.func) != "Operation":
            continue
        kw = {k.arg: k.value for k in node.value.keywords if k.arg}
        name = ast.literal_eval(kw["name"])
        method, path = ast.literal_eval(kw["method"]), ast.literal_eval(kw["path"])
        facts = {"call": f"{method} {path}", "returns": ast.unparse(node.annotation)}
        summary.calls[name] = (ast.literal_eval(kw["operation_id"]), call_key(method, path))
        for call in ast.walk(node.value):
            if isinstance(call, ast.Call) and ast.unparse(call.func) in ("Param", "BodyField"):
                facts[f"argument `{ast.literal_eval(call.args[0])}`"] = ast.unparse(call)
        summary.operations[name] = facts


def diff(old: Summary, new: Summary, renames: Mapping[str, str] = {}) -> list[str]:
    """Human-readable lines: added (+), removed (-), renamed (>) and changed (~)."""
    moved = {
        before: after
        for before, op_id in renames.items()
        for after, (after_id, _) in new.calls.items()
        if after_id == op_id and before in old.operations and after not in old.operations
    }
    lines = []
    for title, before, after, pairs in (
        ("operations", old.operations, new.operations, moved),
        ("schemas", old.schemas, new.schemas, {}),
    ):
        added = sorted(after.keys() - before.keys() - set(pairs.values()))
        removed = sorted(before.keys() - after.keys() - pairs.keys())
        common = [(k, k) for k in sorted(before.keys() & after.keys())] + sorted(pairs.items())
        changed = [(b, a) for b, a in common if before[b] != after[a]]
        breaks = bool(removed) or any(_item_diff(before[b], after[a])[1] for b, a in changed)
        lines.append(
            f"{title}: +{len(added)} -{len(removed)} >{len(pairs)} ~{len(changed)}"
            + (f" {BREAKING}" if breaks else "")
        )
        lines += [f"  + {k}" for k in added] + [f"  - {k} {BREAKING}" for k in removed]
        lines += [
            f"  > {b} -> {a} (renamed; the old name is a deprecated alias)"
            for b, a in sorted(pairs.items())
        ]
        for b, a in changed:
            items, breaking = _item_diff(before[b], after[a])
            label = b if a == b else a
            lines += [f"  ~ {label}{' ' + BREAKING if breaking else ''}"]
            lines += [f"      {line}" for line in items]
    return lines


def has_breaking(lines: list[str]) -> bool:
    return any(line.endswith(BREAKING) for line in lines)


def _item_diff(before: dict[str, str], after: dict[str, str]) -> tuple[list[str], bool]:
    out = []
    breaking = False
    for k in sorted(after.keys() - before.keys()):
        narrowing = "required=True" in after[k]  # a new argument the caller must now pass
        breaking |= narrowing
        out.append(f"+ {k}: {after[k]}{' ' + BREAKING if narrowing else ''}")
    for k in sorted(before.keys() - after.keys()):
        breaking = True
        out.append(f"- {k}: {before[k]} {BREAKING}")
    for k in sorted(k for k in before.keys() & after.keys() if before[k] != after[k]):
        narrowing = not _widens(before[k], after[k])
        breaking |= narrowing
        out.append(f"~ {k}: {before[k]} -> {after[k]}{' ' + BREAKING if narrowing else ''}")
    return out, breaking


def _widens(before: str, after: str) -> bool:
    """`after` accepts everything `before` did: more union members, or no longer required."""
    if before.replace("required=True", "").replace(", )", ")") == after.replace(", )", ")"):
        return True
    return set(_members(before)) <= set(_members(after))


def _members(annotation: str) -> list[str]:
    return [part.strip() for part in annotation.split("|")]
