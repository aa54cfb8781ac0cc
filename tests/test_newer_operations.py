"""Every operation of pachca-sdk 1.6.1 is callable here under its official name and arguments.

`newer/pachca-sdk-1.6.1-operations.json` lists the 100 operations of Pachca's own Python SDK,
and `newer/pachca-sdk-1.6.1-examples.json` one call of each, with every argument it takes.
Each must be `pachca.<service>.<method>` here, on the same path, taking those arguments: path
parameters and query parameters by name, and the request's fields as keywords (the fields of
an envelope such as `{"draft": {...}}` directly).
"""

from __future__ import annotations

import ast
import inspect
import json
from pathlib import Path
from typing import Any

import pytest

from pachca_async import PachcaClient
from pachca_async._generated.services import OPERATIONS

NEWER = Path(__file__).resolve().parent.parent.parent / "shared" / "pachca-api" / "newer"
LISTED = NEWER / "pachca-sdk-1.6.1-operations.json"
EXAMPLES = NEWER / "pachca-sdk-1.6.1-examples.json"

pytestmark = pytest.mark.skipif(
    not LISTED.exists(), reason=f"the pachca-sdk 1.6.1 facts are not at {NEWER}"
)


def _listed() -> list[dict[str, Any]]:
    if not LISTED.exists():
        return []
    operations: list[dict[str, Any]] = json.loads(LISTED.read_text(encoding="utf-8"))
    return operations


def _cases() -> list[Any]:
    return [pytest.param(op, id=op["sdk_method"]) for op in _listed()]


def official_arguments(usage: str) -> dict[str, set[str]]:
    """The arguments of the example call: its keywords and the params' and request's fields.

    Each maps to the fields that may stand for it: a request field holding a nested request
    object (an envelope such as `draft=DraftCreateRequestDraft(...)`) is taken either whole or
    as that object's fields.
    """
    tree = ast.parse(usage)
    built = {
        node.targets[0].id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Call)
    }
    call = next(
        n for n in ast.walk(tree) if isinstance(n, ast.Call) and "client." in ast.unparse(n.func)
    )
    arguments: dict[str, set[str]] = {}
    for keyword in call.keywords:
        assert keyword.arg is not None
        model = built.get(ast.unparse(keyword.value))
        if keyword.arg not in ("params", "request") or model is None:
            arguments[keyword.arg] = set()
            continue
        for field in model.keywords:
            assert field.arg is not None
            inner = field.value
            nested = (
                {k.arg for k in inner.keywords if k.arg} if isinstance(inner, ast.Call) else set()
            )
            arguments[field.arg] = nested
    return arguments


def not_taken(method: Any, arguments: dict[str, set[str]]) -> list[str]:
    parameters = set(inspect.signature(method).parameters)
    return sorted(
        name
        for name, fields in arguments.items()
        if name not in parameters and not (fields and fields <= parameters)
    )


@pytest.mark.parametrize("listed", _cases())
def test_callable_under_the_official_name(listed: dict[str, Any]) -> None:
    service, _, method = listed["sdk_method"].partition(".")
    pachca = PachcaClient("t")
    bound = getattr(getattr(pachca, service), method)
    operation = OPERATIONS[listed["sdk_method"]]
    assert operation.operation_id == listed["operationId"]
    path = "{" + operation.url_param + "}" if operation.url_param else operation.path
    assert path == listed["path"]
    # pachca-sdk's generator posts every multipart call; the API takes avatars with PUT.
    verb = "PUT" if "spec verb is PUT" in listed["note"] else listed["verb_in_pachca_sdk"]
    assert operation.method == verb
    example = json.loads(EXAMPLES.read_text(encoding="utf-8"))[listed["operationId"]]
    assert not_taken(bound, official_arguments(example["usage"])) == []


def test_the_list_is_read_whole() -> None:
    listed = _listed()
    assert len(listed) == 100
    assert len({op["sdk_method"] for op in listed}) == 100
    assert sum(not op["in_pachca_async"] for op in listed) == 23


def test_an_argument_the_method_lacks_is_found() -> None:
    """The check above is not vacuous: an envelope's fields count, a missing keyword is named."""
    usage = (
        'request = R(draft=D(content="x", schedule=S()), extra=1)\n'
        "response = await client.drafts.create_draft(id=3, request=request)"
    )

    async def method(id: int, *, content: str, schedule: object) -> None: ...

    assert official_arguments(usage) == {
        "id": set(),
        "draft": {"content", "schedule"},
        "extra": set(),
    }
    assert not_taken(method, official_arguments(usage)) == ["extra"]
