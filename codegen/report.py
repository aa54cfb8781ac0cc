"""What changed between two generations: the page a maintainer reads before a release.

Both sides are read from generated source (with `ast`), so the report needs nothing but the
committed package and the new one.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Summary:
    operations: dict[str, dict[str, str]] = field(default_factory=dict)
    """`service.method` → {"call": "POST /messages", "arg <name>": "<where>", "returns": ...}."""
    schemas: dict[str, dict[str, str]] = field(default_factory=dict)
    """Class or alias name → {field or enum value: annotation or "value"}."""


def summarize(package: Path) -> Summary:
    """Read the operations and schemas of a generated package (empty if there is none)."""
    summary = Summary()
    models = package / "models.py"
    if models.exists():
        _read_models(ast.parse(models.read_text(encoding="utf-8")), summary)
    for module in sorted((package / "services").glob("*.py")):
        _read_operations(ast.parse(module.read_text(encoding="utf-8")), summary)
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
        facts = {
            "call": f"{ast.literal_eval(kw['method'])} {ast.literal_eval(kw['path'])}",
            "returns": ast.unparse(node.annotation),
        }
        for call in ast.walk(node.value):
            if isinstance(call, ast.Call) and ast.unparse(call.func) in ("Param", "BodyField"):
                facts[f"argument `{ast.literal_eval(call.args[0])}`"] = ast.unparse(call)
        summary.operations[name] = facts


def diff(old: Summary, new: Summary) -> list[str]:
    """Human-readable lines: what was added (+), removed (-) and changed (~)."""
    lines = []
    for title, before, after in (
        ("operations", old.operations, new.operations),
        ("schemas", old.schemas, new.schemas),
    ):
        added = sorted(after.keys() - before.keys())
        removed = sorted(before.keys() - after.keys())
        changed = sorted(k for k in before.keys() & after.keys() if before[k] != after[k])
        lines.append(f"{title}: +{len(added)} -{len(removed)} ~{len(changed)}")
        lines += [f"  + {k}" for k in added] + [f"  - {k}" for k in removed]
        for key in changed:
            lines += [f"  ~ {key}"] + [
                f"      {line}" for line in _item_diff(before[key], after[key])
            ]
    return lines


def _item_diff(before: dict[str, str], after: dict[str, str]) -> list[str]:
    out = []
    for k in sorted(after.keys() - before.keys()):
        out.append(f"+ {k}: {after[k]}")
    for k in sorted(before.keys() - after.keys()):
        out.append(f"- {k}: {before[k]}")
    for k in sorted(k for k in before.keys() & after.keys() if before[k] != after[k]):
        out.append(f"~ {k}: {before[k]} -> {after[k]}")
    return out
