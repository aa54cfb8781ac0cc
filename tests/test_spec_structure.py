"""openapi.yaml describes the API exactly as Pachca publishes it, in our own words.

Everything structural must match the published spec of 2026-08-08: paths, methods, parameters,
bodies, responses, schemas, vendor extensions. Only descriptive text (descriptions, summaries,
titles), example values and the texts of `x-enum-descriptions` may differ.

The one reviewed exception: elements marked `x-sdk-ahead: "<file in newer/>: <entry>"` describe
the API after that release (facts read out of pachca-sdk 1.6.1). They are left out of the
comparison, on both sides, and each mark must name a real entry of that file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared" / "pachca-api" / "openapi.yaml"
NEWER = REFERENCE.parent / "newer"
AHEAD = "x-sdk-ahead"

# Keys whose values are maps of user-chosen names, not OpenAPI keywords.
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
}
TEXT = {"description", "summary", "title"}
EXAMPLES = {"example", "examples", "x-record-key-example"}

pytestmark = pytest.mark.skipif(
    not REFERENCE.exists(), reason=f"Pachca's published spec is not at {REFERENCE}"
)


def structure(node: Any, in_name_map: bool = False) -> Any:
    """The document without descriptive text and examples; `x-enum-descriptions` keeps keys."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if not in_name_map and ((key in TEXT and isinstance(value, str)) or key in EXAMPLES):
                continue
            if not in_name_map and key == "x-enum-descriptions":
                out[key] = sorted(value)
                continue
            out[key] = structure(value, in_name_map=not in_name_map and key in NAME_MAPS)
        return out
    if isinstance(node, list):
        return [structure(item) for item in node]
    return node


def _marked(node: Any) -> bool:
    return isinstance(node, dict) and AHEAD in node


def without_ahead(ours: Any, theirs: Any) -> tuple[Any, Any]:
    """Both documents with every element ours marks ahead taken out of each.

    A marked property also leaves the `required` lists beside it; a path left with no
    unmarked operation goes too.
    """
    if isinstance(ours, list):
        return [item for item in ours if not _marked(item)], theirs
    if not isinstance(ours, dict) or not isinstance(theirs, dict):
        return ours, theirs
    mine, other = {}, dict(theirs)
    for key, value in ours.items():
        if _marked(value):
            other.pop(key, None)
        elif key in theirs:
            mine[key], other[key] = without_ahead(value, theirs[key])
        else:
            left = without_ahead(value, {})[0]
            if left != {} or value == {}:  # a path whose operations were all marked goes
                mine[key] = left
    properties = ours.get("properties")
    dropped = (
        {k for k, v in properties.items() if _marked(v)} if isinstance(properties, dict) else ()
    )
    for side in (mine, other) if dropped else ():
        required = [name for name in side.pop("required", []) if name not in dropped]
        if required:
            side["required"] = required
    return mine, other


def marks(node: Any, where: str = "") -> list[tuple[str, str]]:
    """Every (JSON pointer, mark) in the document."""
    found = []
    if isinstance(node, dict):
        if AHEAD in node:
            found.append((where, node[AHEAD]))
        for key, value in node.items():
            found += marks(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += marks(value, f"{where}/{index}")
    return found


@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    return document


@pytest.fixture(scope="module")
def compared(committed: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    published = structure(yaml.safe_load(REFERENCE.read_text(encoding="utf-8")))
    mine, theirs = without_ahead(structure(committed), published)
    return mine, theirs


@pytest.fixture(scope="module")
def ours(compared: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    return compared[0]


@pytest.fixture(scope="module")
def reference(compared: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    return compared[1]


def _operations(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        f"{method.upper()} {path}": op
        for path, item in spec["paths"].items()
        for method, op in item.items()
    }


def test_same_operations(ours: dict[str, Any], reference: dict[str, Any]) -> None:
    assert sorted(_operations(ours)) == sorted(_operations(reference))


def test_each_operation_matches(ours: dict[str, Any], reference: dict[str, Any]) -> None:
    theirs = _operations(reference)
    mismatched = [key for key, op in _operations(ours).items() if op != theirs[key]]
    assert mismatched == []


def test_same_schemas(ours: dict[str, Any], reference: dict[str, Any]) -> None:
    assert sorted(ours["components"]["schemas"]) == sorted(reference["components"]["schemas"])


def test_each_schema_matches(ours: dict[str, Any], reference: dict[str, Any]) -> None:
    theirs = reference["components"]["schemas"]
    mismatched = [
        name for name, schema in ours["components"]["schemas"].items() if schema != theirs[name]
    ]
    assert mismatched == []


def test_everything_else_matches(ours: dict[str, Any], reference: dict[str, Any]) -> None:
    rest = {k: v for k, v in ours.items() if k not in ("paths", "components")}
    assert rest == {k: v for k, v in reference.items() if k not in ("paths", "components")}
    assert ours["components"].keys() == reference["components"].keys()
    assert ours["components"]["securitySchemes"] == reference["components"]["securitySchemes"]
    assert ours == reference


def test_descriptions_are_our_own() -> None:
    """No sentence of the published text (Russian) survives in our file; the failure lists the
    JSON pointer of each, as `make update-spec` does for text new in a release."""
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    allowed = {"default"}  # two button-text defaults are values, kept as published
    assert [where for where, key in _cyrillic(spec, "") if key not in allowed] == []


def _cyrillic(node: Any, where: str) -> list[tuple[str, str]]:
    """(pointer, key) of every string in Russian."""
    if isinstance(node, str):
        russian = any("а" <= c <= "я" for c in node.lower())
        return [(where, where.rsplit("/", 1)[-1])] if russian else []
    if not isinstance(node, dict | list):
        return []
    items = node.items() if isinstance(node, dict) else enumerate(node)
    found = []
    for key, value in items:
        found += _cyrillic(value, f"{where}/{str(key).replace('~', '~0').replace('/', '~1')}")
    return found


def _names_real_entry(file: str, entry: str) -> bool:
    """Whether `entry` is a fact the file in newer/ states.

    operations json: an operationId; signature changes: `Service.method` whose result changed;
    models diff: a class added or changed, or `Class.field` (a field or enum value it lists).
    """
    text = (NEWER / file).read_text(encoding="utf-8")
    if file.endswith("operations.json"):
        return entry in {op["operationId"] for op in json.loads(text)}
    if file.startswith("signature-changes"):
        return any(line.startswith(f"{entry}:") for line in text.splitlines())
    if file.startswith("models-diff"):
        name, _, member = entry.partition(".")
        added = re.search(r"^classes added: (.*)$", text, re.M)
        if not member:
            return bool(added and f"'{name}'" in added.group(1)) or f"~ {name}:" in text
        line = next((x for x in text.splitlines() if x.startswith(f"~ {name}:")), "")
        return re.search(rf"['\[ ]{re.escape(member)}\b", line.partition(":")[2]) is not None
    return False


def test_every_mark_names_a_real_entry_of_newer(committed: dict[str, Any]) -> None:
    found = marks(committed)
    assert found, "no element is marked ahead of the published spec"
    wrong = []
    for where, mark in found:
        file, _, entry = str(mark).partition(": ")
        if not (NEWER / file).is_file() or not entry or not _names_real_entry(file, entry):
            wrong.append(f"{where}: {mark}")
    assert wrong == []


def test_marks_are_checked_against_the_files() -> None:
    """The check above is not vacuous: entries that newer/ does not state fail it."""
    assert _names_real_entry("pachca-sdk-1.6.1-operations.json", "DraftOperations_createDraft")
    assert not _names_real_entry("pachca-sdk-1.6.1-operations.json", "DraftOperations_nope")
    assert _names_real_entry("models-diff-pachca-sdk-1.2.0-vs-1.6.1.txt", "Chat.avatar_url")
    assert not _names_real_entry("models-diff-pachca-sdk-1.2.0-vs-1.6.1.txt", "Chat.name")
    assert _names_real_entry("models-diff-pachca-sdk-1.2.0-vs-1.6.1.txt", "Draft")
    assert _names_real_entry("signature-changes-1.2.0-vs-1.6.1.txt", "Chats.create_chat")
    assert not _names_real_entry("signature-changes-1.2.0-vs-1.6.1.txt", "Chats.get_chat")


def test_an_unmarked_difference_still_fails(committed: dict[str, Any]) -> None:
    """Only marked elements are left out: an unmarked extra property is a difference."""
    published = structure(yaml.safe_load(REFERENCE.read_text(encoding="utf-8")))
    edited = structure(committed)
    edited["components"]["schemas"]["Message"]["properties"]["extra"] = {"type": "string"}
    mine, theirs = without_ahead(edited, published)
    assert mine["components"]["schemas"]["Message"] != theirs["components"]["schemas"]["Message"]
