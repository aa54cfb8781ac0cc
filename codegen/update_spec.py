"""`make update-spec FROM=path/to/openapi.yaml`: Pachca's new structure, with our words.

The merged document is the published one (paths, operations, parameters, schemas, enums,
required lists, extensions), with our text (descriptions, summaries, titles, examples, enum
notes) wherever the element still exists: matched by JSON pointer, and for operations by
operationId first (or else by verb and path), so a call Pachca moved keeps its description.
Elements marked `x-sdk-ahead` (described before Pachca published them) are kept until the new
release has them; then the published structure wins and the mark goes. Text new in the release
stays as published and is listed, to be rewritten in our words. Calls that moved to another
service are recorded in the overlay's `renamed:`, so their old names become deprecated aliases.

Merging the release our spec already matches changes nothing; so does merging twice.
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from . import overlay as overlays
from . import report
from .__main__ import DEFAULT_SPEC, load
from .build import GenerationError
from .errors import SpecError, pointer
from .normalize import HTTP_METHODS, operations

TEXT = {"description", "summary", "title", "example", "examples", "x-record-key-example"}
NAME_MAPS = {
    "properties",
    "schemas",
    "paths",
    "responses",
    "content",
    "headers",
    "variables",
    "mapping",
    "securitySchemes",
    "x-scope-roles",
    "parameters",
}
AHEAD = "x-sdk-ahead"
YAML_WIDTH = 110  # what openapi.yaml is laid out with: a merge that changes nothing is byte-equal


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen.update_spec", description=__doc__)
    parser.add_argument("published", type=Path, help="Pachca's published openapi.yaml")
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help="our openapi.yaml")
    parser.add_argument("--overlay", type=Path, default=overlays.DEFAULT)
    args = parser.parse_args(argv)
    try:
        ours, theirs = load(args.spec), load(args.published)
        merged, new_text = merge(ours, theirs)
        facts = overlays.load(args.overlay)
        recorded = overlays.record_renames(facts, renames(ours, merged))
    except (GenerationError, SpecError) as error:
        print(f"update-spec: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # a spec shaped in a way we never met: a message, not a traceback
        print(f"update-spec: cannot merge {args.published}: {error!r}", file=sys.stderr)
        return 1
    if merged != ours:
        args.spec.write_text(dump(merged), encoding="utf-8")
        print(f"Updated {args.spec} from {args.published}")
    else:
        print(f"{args.spec} already matches {args.published}")
    for old in recorded:
        print(f"  renamed: {old} is now {facts.renamed[old]} (kept as a deprecated alias)")
    if new_text:
        print(f"{len(new_text)} published texts to rewrite in our words:")
        print("\n".join(f"  {where}" for where in new_text))
    return 0


def dump(spec: dict[str, Any]) -> str:
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=YAML_WIDTH)


def merge(ours: dict[str, Any], theirs: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The published structure with our text; and the pointers of text that is new."""
    merged = copy.deepcopy(theirs)
    new_text: list[str] = []
    counterpart = _operation_counterparts(ours, merged)
    _merge(merged, ours, "", False, new_text, counterpart)
    return merged, new_text


def _operation_counterparts(
    ours: dict[str, Any], theirs: dict[str, Any]
) -> dict[tuple[str, str], dict[str, Any]]:
    """(path, method) of each published operation → our operation that is the same call."""
    by_id = {op.get("operationId"): op for _, _, op in operations(ours)}
    by_call = {report.call_key(m, p): op for p, m, op in operations(ours)}
    found = {}
    for path, method, op in operations(theirs):
        match = by_id.get(op.get("operationId")) or by_call.get(report.call_key(method, path))
        if match is not None:
            found[(path, method)] = match
    return found


def _merge(
    node: Any,
    ours: Any,
    where: str,
    in_name_map: bool,
    new_text: list[str],
    counterpart: dict[tuple[str, str], dict[str, Any]],
) -> None:
    if isinstance(node, list):
        for index, item in enumerate(node):
            same = ours[index] if isinstance(ours, list) and index < len(ours) else None
            _merge(item, _same_item(item, ours) or same, f"{where}/{index}", False, new_text, {})
        return
    if not isinstance(node, dict):
        return
    exists = isinstance(ours, dict)
    mine: dict[str, Any] = ours if isinstance(ours, dict) else {}
    for key, value in list(node.items()):
        at = where + pointer(key)
        if not in_name_map and key in TEXT:
            if not exists:
                new_text.append(at)  # a new element: the published text, until rewritten
            elif key in mine:
                node[key] = copy.deepcopy(mine[key])
            else:
                del node[key]  # we left it out (an example in Russian, ...)
            continue
        if not in_name_map and key == "x-enum-descriptions" and isinstance(value, dict):
            notes = mine.get(key, {})
            for item in value:
                if item in notes:
                    value[item] = notes[item]
                else:
                    new_text.append(at + pointer(item))
            continue
        counterpart_of = mine.get(key)
        if where.startswith("/paths/") and where.count("/") == 2 and key in HTTP_METHODS:
            path = where[len("/paths/") :].replace("~1", "/").replace("~0", "~")
            counterpart_of = counterpart.get((path, key), counterpart_of)
        _merge(
            value,
            counterpart_of,
            at,
            not in_name_map and key in NAME_MAPS,
            new_text,
            counterpart,
        )
    if in_name_map or where in ("", "/paths") or where.startswith("/paths/"):
        _restore_ahead(node, mine)
    if exists and not in_name_map and isinstance(node.get("properties"), dict):
        _keep_ahead_required(node, mine)
    if exists and not in_name_map:
        for key in mine:
            if key in TEXT and key not in node:
                node[key] = copy.deepcopy(mine[key])  # our text where Pachca has none
        order = [k for k in mine if k in node] + [k for k in node if k not in mine]
        items = [(k, node.pop(k)) for k in order]
        node.update(items)


def _restore_ahead(node: dict[str, Any], mine: dict[str, Any]) -> None:
    """Put back our elements ahead of this release, each after the one it followed in ours."""
    order = list(node)
    ours = list(mine)
    for index, key in enumerate(ours):
        value = mine[key]
        if key in node or not isinstance(value, dict) or not _ahead(value):
            continue
        before = next((k for k in reversed(ours[:index]) if k in order), None)
        order.insert(order.index(before) + 1 if before is not None else 0, key)
        node[key] = copy.deepcopy(value)
    items = [(k, node.pop(k)) for k in order]
    node.update(items)


def _keep_ahead_required(node: dict[str, Any], mine: dict[str, Any]) -> None:
    """Properties we describe ahead of this release stay required where ours requires them."""
    ahead = {
        k for k, v in (mine.get("properties") or {}).items() if isinstance(v, dict) and AHEAD in v
    }
    ours = [k for k in mine.get("required", []) if k in ahead and k in node["properties"]]
    theirs = node.get("required", [])
    if not [k for k in ours if k not in theirs]:
        return
    keep = set(theirs) | set(ours)
    order = [k for k in mine["required"] if k in keep]
    node["required"] = order + [k for k in theirs if k not in order]


def _ahead(node: dict[str, Any]) -> bool:
    """Marked ahead of Pachca's spec, or a path whose every operation is."""
    if AHEAD in node:
        return True
    ops = [node[m] for m in HTTP_METHODS if m in node]
    return bool(ops) and all(isinstance(op, dict) and AHEAD in op for op in ops)


def _same_item(item: Any, ours: Any) -> Any:
    """Our entry of a list that is the same parameter (by `in` and `name`), if any."""
    if not (isinstance(item, dict) and isinstance(ours, list) and "name" in item):
        return None
    for mine in ours:
        if isinstance(mine, dict) and (mine.get("in"), mine.get("name")) == (
            item.get("in"),
            item["name"],
        ):
            return mine
    return None


def renames(before: dict[str, Any], after: dict[str, Any]) -> dict[str, str]:
    """Old `service.method` → operationId, for our calls the new spec names otherwise."""
    return report.find_renames(report.calls_of(before), report.calls_of(after))


if __name__ == "__main__":
    sys.exit(main())
