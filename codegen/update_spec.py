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
from .normalize import HTTP_METHODS, REF_PREFIX, operations

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
    _keep_referenced(merged, ours)
    return merged, new_text


def _keep_referenced(merged: dict[str, Any], ours: dict[str, Any]) -> None:
    """Our schemas that elements kept ahead of the release refer to, and the release lacks."""
    have = merged.setdefault("components", {}).setdefault("schemas", {})
    mine = (ours.get("components") or {}).get("schemas") or {}
    while True:
        missing = {
            name for name in _refs(merged) if name not in have and isinstance(mine.get(name), dict)
        }
        if not missing:
            return
        for name in sorted(missing):
            have[name] = copy.deepcopy(mine[name])


def _refs(node: Any) -> set[str]:
    """Names of the schemas `node` refers to."""
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = set().union(*(_refs(value) for value in node.values())) if node else set()
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(REF_PREFIX):
        found.add(ref[len(REF_PREFIX) :])
    return found


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
            mine_item = _same_item(item, ours) or same
            if _still_ahead(mine_item, item):
                node[index] = copy.deepcopy(mine_item)
                continue
            _merge(item, mine_item, f"{where}/{index}", False, new_text, {})
        if isinstance(ours, list):
            _restore_ahead_items(node, ours)
        return
    if not isinstance(node, dict):
        return
    exists = isinstance(ours, dict)
    mine: dict[str, Any] = ours if isinstance(ours, dict) else {}
    if exists and not in_name_map and isinstance(node.get("properties"), dict):
        _keep_ahead_required(node, mine)
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
        if _still_ahead(counterpart_of, value):
            node[key] = _ours_ahead(counterpart_of, value)
            continue
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
    """Properties we describe ahead of this release stay required, or not, as in ours: a
    property whose required-ness the release does not share yet stays ours, mark and all (one
    the release lacks is put back in place by `_restore_ahead`)."""
    properties = node["properties"]
    ahead = {
        k: v
        for k, v in (mine.get("properties") or {}).items()
        if isinstance(v, dict) and AHEAD in v
    }
    ours, theirs = list(mine.get("required", [])), list(node.get("required", []))
    wanted = set(theirs)
    for key, prop in ahead.items():
        if key in properties and (key in ours) != (key in theirs):
            properties[key] = copy.deepcopy(prop)
        if key in ours:
            wanted.add(key)
        else:
            wanted.discard(key)
    if wanted == set(theirs):
        return
    order = [k for k in ours if k in wanted]
    required = order + [k for k in theirs if k in wanted and k not in order]
    if required or "required" in mine:
        node["required"] = required
    else:
        node.pop("required", None)


def _ours_ahead(mine: Any, theirs: Any) -> Any:
    """Our element, newer than the release's, in the service the release puts it in."""
    kept = copy.deepcopy(mine)
    if isinstance(theirs, dict) and "tags" in theirs:
        kept["tags"] = copy.deepcopy(theirs["tags"])
    return kept


def _still_ahead(mine: Any, theirs: Any) -> bool:
    """Ours is marked ahead and the release's element lacks part of its structure: the release
    does not have our change yet. (Once it does, its structure wins and the mark goes.)"""
    if not (isinstance(mine, dict) and AHEAD in mine):
        return False
    return not _covers(_shape(theirs), _shape({k: v for k, v in mine.items() if k != AHEAD}))


def _covers(theirs: Any, mine: Any) -> bool:
    """`theirs` has everything `mine` has (and maybe more): more keys, more enum values."""
    if isinstance(mine, dict):
        return isinstance(theirs, dict) and all(
            k in theirs and _covers(theirs[k], v) for k, v in mine.items()
        )
    if isinstance(mine, list) and all(isinstance(v, str | int | float | bool) for v in mine):
        return isinstance(theirs, list) and set(mine) <= set(theirs)
    if isinstance(mine, list):
        return (
            isinstance(theirs, list)
            and len(theirs) == len(mine)
            and all(_covers(a, b) for a, b in zip(theirs, mine, strict=True))
        )
    return bool(theirs == mine)


def _shape(node: Any, in_name_map: bool = False) -> Any:
    """`node` without text, examples or marks: what the structure of an element is."""
    if isinstance(node, list):
        return [_shape(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: _shape(value, not in_name_map and key in NAME_MAPS)
        for key, value in node.items()
        if in_name_map or (key not in TEXT and key != AHEAD and key != "x-enum-descriptions")
    }


def _restore_ahead_items(node: list[Any], ours: list[Any]) -> None:
    """Our list entries marked ahead (a tag, a parameter) that the release lacks, in place."""
    for index, item in enumerate(ours):
        if not (isinstance(item, dict) and AHEAD in item) or _same_item(item, node) is not None:
            continue
        if "name" not in item and item in node:
            continue
        before = next((i for i in range(len(node)) if index > 0 and node[i] == ours[index - 1]), -1)
        node.insert(before + 1 if before >= 0 else min(index, len(node)), copy.deepcopy(item))


def _ahead(node: dict[str, Any]) -> bool:
    """Marked ahead of Pachca's spec, or a path whose every operation is."""
    if AHEAD in node:
        return True
    ops = [node[m] for m in HTTP_METHODS if m in node]
    return bool(ops) and all(isinstance(op, dict) and AHEAD in op for op in ops)


def _same_item(item: Any, ours: Any) -> Any:
    """Our entry of a list that is the same parameter or tag (by `in` and `name`), if any."""
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
