"""The normalize pass: a pure function from Pachca's spec to the spec the generator reads.

`openapi.yaml` keeps Pachca's published structure as it is, quirks included, so that their next
release can be dropped in unchanged. Everything the published spec gets wrong, and everything
openapi-python-client would misread, is fixed here instead. Facts the generated code needs but the
spec does not state come from `codegen/overlay.yaml` and are added as `x-sdk-*` extensions:

- `x-sdk-discriminator` (on a union): pick the variant by the values of some properties.
- `x-sdk-fallback` (on a union): the schema that anything unknown parses into; it keeps the whole
  object as `raw`, so a new kind of event from Pachca never fails parsing.
- `x-sdk-select-by` (on a property of an object): pick the union variant of this property by the
  value of a sibling property (the audit log's `details` by `event_key`).
- `x-sdk-wire-name` (on a query parameter): the name sent on the wire (`chat_ids[]`).
- `x-sdk-result` (on an operation): `location` when the result is the `Location` header.
- `x-sdk-rate-class` (on an operation): which of Pachca's rate limits the call counts against.
- `x-sdk-rate-key` (on an operation): which arguments name the chat it counts against.
- `x-sdk-helpers` (on an operation): hand-written methods that join its service.
- `x-sdk-url-param` (on an operation): the argument that carries the absolute URL to call.
- `x-sdk-extends` (on an object): the class this one subclasses; it has the same properties and
  requires at least as many, so its instances are valid wherever the base is expected.
- `x-sdk-secret` (on a property): it holds a token or secret, so reprs leave it out.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Iterator, Mapping
from typing import Any

from .errors import SpecError as SpecError
from .errors import pointer as pointer
from .overlay import Overlay
from .overlay import load as load_overlay

Spec = dict[str, Any]

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
REF_PREFIX = "#/components/schemas/"

Notes = list[str]
"""What the pass skipped, and why: printed with the change report."""


def normalize(
    spec: Mapping[str, Any], overlay: Overlay | None = None, notes: Notes | None = None
) -> Spec:
    """Return a fixed copy of `spec`; the input is not modified.

    Each fix applies where its pattern is found; where the spec lacks it, the fix is skipped and
    a line saying so goes to `notes`.
    """
    out: Spec = copy.deepcopy(dict(spec))
    facts = overlay if overlay is not None else load_overlay()
    skipped = notes if notes is not None else []
    _check_shape(out)
    _keep_nullable_refs(out)
    _name_inline_objects(out)
    _camel_path_params(out)
    _mark_subtypes(out, facts, skipped)
    _select_by_sibling(out, facts, skipped)
    _discriminate_unions(out, facts, skipped)
    _rails_array_params(out)
    _mark_results(out)
    _apply_operation_facts(out, facts, skipped)
    _mark_external_urls(out)
    _mark_secrets(out, facts, skipped)
    return out


def operations(spec: Spec) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every (path, method, operation) in document order."""
    for path, item in spec.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method in item:
                yield path, method, item[method]


def schemas(spec: Spec) -> dict[str, Any]:
    result: dict[str, Any] = spec.get("components", {}).get("schemas", {})
    return result


def ref_name(node: Mapping[str, Any]) -> str | None:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(REF_PREFIX):
        return ref[len(REF_PREFIX) :]
    return None


def _check_shape(spec: Spec) -> None:
    """Fail early, with a pointer, on what the generator cannot work with at all."""
    version = spec.get("openapi")
    if not isinstance(version, str) or not version.startswith("3."):
        raise SpecError(pointer("openapi"), f"expected an OpenAPI 3.x document, got {version!r}")
    if not isinstance(spec.get("paths"), dict):
        raise SpecError(pointer("paths"), "missing or not a mapping")
    names = schemas(spec)
    seen: dict[str, str] = {}
    for path, method, op in operations(spec):
        where = pointer("paths", path, method)
        op_id = op.get("operationId")
        if not isinstance(op_id, str) or "_" not in op_id:
            raise SpecError(where + "/operationId", "expected 'Group_methodName'")
        if op_id in seen:
            raise SpecError(where + "/operationId", f"duplicate of {seen[op_id]}")
        seen[op_id] = where
        if not op.get("tags"):
            raise SpecError(where + "/tags", "every operation needs a tag (its service)")
    for where, node in _walk(spec, ""):
        name = ref_name(node)
        if "$ref" in node and (name is None or name not in names):
            raise SpecError(where + "/$ref", f"unresolvable reference {node['$ref']!r}")


def _walk(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every mapping in the document with its pointer, parents first."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from _walk(value, f"{where}{pointer(key)}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{where}/{index}")


def _keep_nullable_refs(spec: Spec) -> None:
    """`{type: object, allOf: [$ref], nullable: true}` loses `null`: drop the redundant `type`.

    The generator treats the `type` sibling as a plain object and forgets `nullable`, so a real
    `null` (`Message.forwarding`, `User.user_status`, ...) would fail to parse. It ignores every
    sibling of a bare `$ref` too, so `{$ref, nullable: true}` becomes `{allOf: [$ref], ...}`:
    without it a field (or array item) the spec lets be `null` would not accept `None`.
    """
    for _, node in _walk(spec, ""):
        if node.get("nullable") is True and "$ref" in node:
            node["allOf"] = [{"$ref": node.pop("$ref")}]
        all_of = node.get("allOf")
        if node.get("nullable") is True and isinstance(all_of, list) and len(all_of) == 1:
            node.pop("type", None)


def _name_inline_objects(spec: Spec) -> None:
    """Give inline object schemas a title: their class is named `<Parent><Property>`.

    Without it the generator names nullable inline objects `MessageThreadType0`.
    """

    def visit(node: dict[str, Any], name: str) -> None:
        for prop, sub in node.get("properties", {}).items():
            child, target = name + _pascal(prop), sub
            while target.get("type") == "array" and isinstance(target.get("items"), dict):
                child, target = child + "Item", target["items"]
            if target.get("type") == "object" and "properties" in target:
                target.setdefault("title", child)
                visit(target, child)

    for name, node in schemas(spec).items():
        visit(node, name)
    for _, _, op in operations(spec):
        for media in op.get("requestBody", {}).get("content", {}).values():
            body = media.get("schema", {})
            if "properties" in body:
                name = _pascal(op["operationId"].split("_", 1)[1]) + "Request"
                body.setdefault("title", name)
                visit(body, name)


def _camel_path_params(spec: Spec) -> None:
    """Path parameters spelled `{chatId}` become `{chat_id}`, as on Pachca's other paths.

    The name inside the braces never reaches the wire, and the generator looks parameters up by
    their snake_case name: renaming the template and the parameter together changes nothing sent.
    """
    paths = spec["paths"]
    for path in list(paths):
        names = re.findall(r"{([^}]+)}", path)
        renames = {n: _snake(n) for n in names if _snake(n) != n}
        if not renames:
            continue
        new_path = path
        for old, new in renames.items():
            new_path = new_path.replace("{" + old + "}", "{" + new + "}")
        if new_path in paths:
            raise SpecError(pointer("paths", path), f"clashes with {new_path} once snake_cased")
        item = paths.pop(path)
        paths[new_path] = item
        for node in [item, *(item[m] for m in HTTP_METHODS if m in item)]:
            for param in node.get("parameters", []):
                if param.get("in") == "path" and param.get("name") in renames:
                    param["name"] = renames[param["name"]]


def _snake(text: str) -> str:
    words = re.split(r"[^0-9A-Za-z]+|(?<=[a-z0-9])(?=[A-Z])", text)
    return "_".join(w.lower() for w in words if w)


def _titled(spec: Spec) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every named object schema (component or titled inline object) with its pointer."""
    found = {
        node["title"]: (where, node)
        for where, node in _walk(spec, "")
        if isinstance(node.get("title"), str) and "properties" in node
    }
    for name, node in schemas(spec).items():
        if isinstance(node, dict) and "properties" in node:
            found.setdefault(name, (pointer("components", "schemas", name), node))
    return found


def _mark_subtypes(spec: Spec, overlay: Overlay, notes: Notes) -> None:
    """Mark the overlay's `extends` pairs with `x-sdk-extends`, once objects are named.

    The pair must have the same properties, and the subtype must require everything the base
    requires; where that does not hold (or either is missing), the pair is skipped.
    """
    titled = _titled(spec)
    for name, entry in overlay.schemas.items():
        base = entry.get("extends")
        if base is None:
            continue
        if name not in titled or base not in titled:
            notes.append(f"skipped: {name} extends {base} (not both in the spec)")
            continue
        node = titled[name][1]
        base_node = titled[base][1]
        missing = set(base_node.get("required", [])) - set(node.get("required", []))
        if list(node["properties"]) != list(base_node["properties"]) or missing:
            notes.append(f"skipped: {name} extends {base} (properties or required differ)")
            continue
        node["x-sdk-extends"] = base


def _pascal(text: str) -> str:
    words = re.split(r"[^0-9A-Za-z]+|(?<=[a-z0-9])(?=[A-Z])", text)
    return "".join(w[:1].upper() + w[1:] for w in words if w)


def _variants(spec: Spec, union: Mapping[str, Any]) -> list[str]:
    names = []
    for item in union.get("anyOf", []) + union.get("oneOf", []):
        name = ref_name(item)
        if name is None:
            return []
        names.append(name)
    return names


def _enum_values(spec: Spec, prop: Mapping[str, Any] | None) -> list[Any]:
    """The allowed values of an enum property, following `$ref` / single `allOf`."""
    if prop is None:
        return []
    if "enum" in prop:
        return list(prop["enum"])
    target = ref_name(prop) or (
        ref_name(prop["allOf"][0]) if len(prop.get("allOf", [])) == 1 else None
    )
    return _enum_values(spec, schemas(spec).get(target)) if target else []


def _enum_keys(spec: Spec, schema: Mapping[str, Any]) -> dict[str, list[str]]:
    """The properties of an object that only take listed values, with those values."""
    found = {}
    for key, prop in schema.get("properties", {}).items():
        values = _enum_values(spec, prop)
        if values and all(isinstance(v, str | int | bool) for v in values):
            found[key] = [str(v) for v in values]
    return found


def _discriminate_unions(spec: Spec, overlay: Overlay, notes: Notes) -> None:
    """Unions of objects get a discriminator, found from the variants' shapes.

    By value first: the properties every variant restricts to listed values (`type`, `event`,
    ...) are tried as growing prefixes in the first variant's order (`type`, then `type` and
    `event`), then any other set of up to three; the first whose value tuples pick one variant
    each wins. Else by presence: properties each variant either requires or does not declare,
    whose presence pattern picks one variant each. Unions a sibling selects (the overlay's
    `select`) are left to that rule, and unions nothing refers to are skipped. Two variants
    nothing tells apart are an error naming both.
    """
    all_schemas = schemas(spec)
    used = {ref_name(node) for _, node in _walk(spec, "") if "$ref" in node}
    for name, union in list(all_schemas.items()):
        variants = _variants(spec, union)
        if len(variants) < 2 or union.get("x-sdk-selected"):
            continue
        if name not in used:
            notes.append(f"skipped: telling {name}'s variants apart (nothing refers to it)")
            continue
        nodes = [all_schemas[v] for v in variants]
        shapes = [_enum_keys(spec, node) for node in nodes]
        common = [k for k in shapes[0] if all(k in s for s in shapes)]
        rule = _by_value(variants, shapes, common) or _by_presence(variants, nodes)
        if rule is None:
            clash = _value_mapping(variants, shapes, tuple(common[:3]))[1]
            first, second, label = clash or (variants[0], variants[1], "")
            matched = f" both match {label!r}" if label else " have no property to tell them by"
            raise SpecError(
                pointer("components", "schemas", name), f"variants {first} and {second}{matched}"
            )
        union["x-sdk-discriminator"] = rule
        fallback = overlay.schemas.get(name, {}).get("fallback")
        if fallback:
            keys = [] if rule.get("presence") else rule["properties"]
            extra = {k: {"type": "string", "description": f"`{k}`, as sent."} for k in keys}
            what = overlay.schemas[name].get("description", f"A `{name}` this SDK does not know.")
            _add_fallback(spec, name, fallback, what, extra)


def _by_value(
    variants: list[str], shapes: list[dict[str, list[str]]], common: list[str]
) -> dict[str, Any] | None:
    for keys in _key_sets(common):
        mapping = _value_mapping(variants, shapes, keys)[0]
        if mapping is not None:
            return {"properties": list(keys), "mapping": mapping}
    return None


def _by_presence(variants: list[str], nodes: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Which of some properties an object has picks its variant (`1`: present, `0`: absent)."""
    required = [set(node.get("required", [])) for node in nodes]
    declared = [set(node.get("properties", {})) for node in nodes]
    candidates = sorted(
        key
        for key in set().union(*required)
        if all(key in req or key not in dec for req, dec in zip(required, declared, strict=True))
    )
    for size in (1, 2, 3):
        for keys in itertools.combinations(candidates, size):
            labels = [" ".join("1" if k in req else "0" for k in keys) for req in required]
            if len(set(labels)) == len(labels):
                mapping = dict(zip(labels, variants, strict=True))
                return {"properties": list(keys), "mapping": mapping, "presence": True}
    return None


def _key_sets(keys: list[str]) -> Iterator[tuple[str, ...]]:
    prefixes = [tuple(keys[:n]) for n in range(1, min(len(keys), 3) + 1)]
    yield from prefixes
    for size in (1, 2, 3):
        yield from (c for c in itertools.combinations(keys, size) if c not in prefixes)


def _value_mapping(
    variants: list[str], shapes: list[dict[str, list[str]]], keys: tuple[str, ...]
) -> tuple[dict[str, str] | None, tuple[str, str, str] | None]:
    """Value tuple → variant, or None and the first two variants that share a tuple."""
    mapping: dict[str, str] = {}
    for variant, shape in zip(variants, shapes, strict=True):
        combos: list[list[str]] = [[]]
        for key in keys:
            combos = [[*c, v] for c in combos for v in shape[key]]
        for combo in combos:
            label = " ".join(combo)
            if label in mapping and mapping[label] != variant:
                return None, (mapping[label], variant, label)
            mapping[label] = variant
    return mapping, None


def _add_fallback(
    spec: Spec, union: str, name: str, description: str, extra: dict[str, Any] | None = None
) -> None:
    """Add schema `name` (`raw` plus `extra` properties) as the fallback of `union`."""
    raw = {
        "type": "object",
        "additionalProperties": True,
        "description": "The whole object as received.",
    }
    schemas(spec).setdefault(
        name,
        {
            "type": "object",
            "description": description,
            "required": ["raw"],
            "properties": {**(extra or {}), "raw": raw},
        },
    )
    schemas(spec)[union]["x-sdk-fallback"] = name


def _select_by_sibling(spec: Spec, overlay: Overlay, notes: Notes) -> None:
    """The overlay's `select`: a union property picked by a sibling's value.

    `AuditEvent.details` has no discriminator and its first variant matches anything, so the
    variant is picked by `event_key`, as Pachca's audit guide pairs them; variants the spec does
    not have are left out, other documented keys take `default`, unknown keys the fallback.
    """
    all_schemas = schemas(spec)
    for name, entry in overlay.schemas.items():
        rule = entry.get("select")
        if rule is None:
            continue
        node = all_schemas.get(name, {})
        props = node.get("properties", {})
        prop = props.get(rule["property"])
        union = None if prop is None else ref_name(prop) or ref_name((prop.get("allOf") or [{}])[0])
        if prop is None or union is None or rule["by"] not in props:
            notes.append(
                f"skipped: {name}.{rule['property']} selected by {rule['by']} (not in spec)"
            )
            continue
        variants = set(_variants(spec, all_schemas[union]))
        mapping = {
            str(key): variant
            for variant, keys in rule.get("variants", {}).items()
            if variant in variants
            for key in keys
        }
        default = rule.get("default")
        if default in variants:
            for key in _enum_values(spec, props[rule["by"]]):
                mapping.setdefault(str(key), default)
        prop["x-sdk-select-by"] = {"property": rule["by"], "mapping": dict(sorted(mapping.items()))}
        all_schemas[union]["x-sdk-selected"] = True
        if rule.get("fallback"):
            what = rule.get("description", f"A `{union}` this SDK does not know.")
            _add_fallback(spec, union, rule["fallback"], what)


def _rails_array_params(spec: Spec) -> None:
    """Array query parameters go out as `name[]=a&name[]=b`, as the live API reads them.

    The spec says `explode: false` (comma-separated), which the API does not understand. The
    array may be a named schema (`names`: `$ref: TagNamesFilter`).
    """
    for _, _, op in operations(spec):
        for param in op.get("parameters", []):
            schema = param.get("schema", {})
            schema = schemas(spec).get(ref_name(schema) or "", schema)
            if param.get("in") == "query" and schema.get("type") == "array":
                param["explode"] = True
                param["x-sdk-wire-name"] = param["name"] + "[]"


def _mark_results(spec: Spec) -> None:
    """A 3xx whose only content is a `Location` header returns that URL, unfollowed."""
    for _, _, op in operations(spec):
        for code, response in op.get("responses", {}).items():
            if str(code).startswith("3") and "location" in {
                h.lower() for h in response.get("headers", {})
            }:
                op["x-sdk-result"] = "location"


def _apply_operation_facts(spec: Spec, overlay: Overlay, notes: Notes) -> None:
    """The overlay's facts by operationId: rate class, rate-key source, helpers."""
    present = set()
    for _, _, op in operations(spec):
        op_id = op["operationId"]
        facts = overlay.operation(op_id)
        present.add(op_id)
        op["x-sdk-rate-class"] = facts.get("rate", "other")
        if facts.get("rate_key"):
            op["x-sdk-rate-key"] = dict(facts["rate_key"])
        if facts.get("helpers"):
            op["x-sdk-helpers"] = facts["helpers"]
    for op_id in overlay.operations:
        if op_id not in present:
            notes.append(f"skipped: overlay facts of {op_id} (no such operation)")


def _mark_external_urls(spec: Spec) -> None:
    """`x-external-url: directUrl`: call the absolute URL the caller passes, not the path."""
    for path, method, op in operations(spec):
        name = op.get("x-external-url")
        if name is None:
            continue
        if not isinstance(name, str) or not name:
            raise SpecError(pointer("paths", path, method, "x-external-url"), "expected a name")
        op["x-sdk-url-param"] = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _mark_secrets(spec: Spec, overlay: Overlay, notes: Notes) -> None:
    """Mark the overlay's `secrets` properties with `x-sdk-secret`, where the spec has them."""
    for name, entry in overlay.schemas.items():
        fields = entry.get("secrets")
        if not fields:
            continue
        node = schemas(spec).get(name)
        if node is None:
            notes.append(f"skipped: secrets of {name} (not in the spec)")
            continue
        properties = node.get("properties", {})
        for field in fields:
            if field in properties:
                properties[field]["x-sdk-secret"] = True
