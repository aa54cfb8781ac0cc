"""The normalize pass: a pure function from Pachca's spec to the spec the generator reads.

`openapi.yaml` keeps Pachca's published structure as it is, quirks included, so that their next
release can be dropped in unchanged. Everything the published spec gets wrong, and everything
openapi-python-client would misread, is fixed here instead. Facts the generated code needs but the
spec does not state are added as `x-sdk-*` extensions:

- `x-sdk-discriminator` (on a union): pick the variant by the values of some properties.
- `x-sdk-fallback` (on a union): the schema that anything unknown parses into; it keeps the whole
  object as `raw`, so a new kind of event from Pachca never fails parsing.
- `x-sdk-select-by` (on a property of an object): pick the union variant of this property by the
  value of a sibling property (the audit log's `details` by `event_key`).
- `x-sdk-wire-name` (on a query parameter): the name sent on the wire (`chat_ids[]`).
- `x-sdk-result` (on an operation): `location` when the result is the `Location` header.
- `x-sdk-rate-class` (on an operation): which of Pachca's rate limits the call counts against.
- `x-sdk-url-param` (on an operation): the argument that carries the absolute URL to call.
- `x-sdk-extends` (on an object): the class this one subclasses; it has the same properties and
  requires at least as many, so its instances are valid wherever the base is expected.
- `x-sdk-secret` (on a property): it holds a token or secret, so reprs leave it out.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from typing import Any

Spec = dict[str, Any]

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
REF_PREFIX = "#/components/schemas/"

# Which audit `details` shape belongs to which `event_key` (Pachca's audit-log guide). Events that
# are not listed here carry an empty object, as the guide says; unknown events keep their raw dict.
AUDIT_DETAILS_BY_EVENT_KEY: Mapping[str, tuple[str, ...]] = {
    "AuditDetailsUserUpdated": ("user_updated",),
    "AuditDetailsRoleChanged": ("user_role_changed",),
    "AuditDetailsInviter": ("user_chat_join",),
    "AuditDetailsInitiator": ("user_chat_leave", "user_added_to_tag", "user_removed_from_tag"),
    "AuditDetailsChatRenamed": ("chat_renamed",),
    "AuditDetailsChatPermission": ("chat_permission_changed",),
    "AuditDetailsTagName": ("tag_created", "tag_deleted"),
    "AuditDetailsTagChat": ("tag_added_to_chat",),
    "AuditDetailsChatId": ("tag_removed_from_chat",),
    "AuditDetailsTokenScopes": (
        "access_token_created",
        "access_token_updated",
        "access_token_destroy",
    ),
    "AuditDetailsBot": ("bot_deleted", "bot_token_recreated"),
    "AuditDetailsBotScopes": ("bot_scopes_updated",),
    "AuditDetailsBotWebhookSettings": ("bot_webhook_settings_updated",),
    "AuditDetailsBotOAuthClient": ("bot_oauth_client_updated",),
    "AuditDetailsOAuthAuthorizationGranted": ("oauth_authorization_granted",),
    "AuditDetailsOAuthAuthorizationRevoked": ("oauth_authorization_revoked",),
    "AuditDetailsKms": ("kms_encrypt", "kms_decrypt"),
    "AuditDetailsDlp": ("dlp_violation_detected",),
    "AuditDetailsSearch": ("search_users_api", "search_chats_api", "search_messages_api"),
    "AuditDetailsVideoCallStarted": ("video_call_started",),
    "AuditDetailsVideoCallFinished": ("video_call_finished",),
    "AuditDetailsVideoCallRecording": ("video_call_recording_ready",),
    # After 2026-08-08 (pachca-sdk 1.6.1); used once openapi.yaml has the classes.
    "AuditDetailsLoginGrantCreated": ("login_grant_created",),
    "AuditDetailsLoginGrantApproved": ("login_grant_approved",),
    "AuditDetailsLoginGrantDenied": ("login_grant_denied",),
    "AuditDetailsDeviceAuthorizationApproved": ("oauth_device_authorization_approved",),
    "AuditDetailsDeviceAuthorizationDenied": ("oauth_device_authorization_denied",),
    "AuditDetailsBotOAuthClientDisabled": ("bot_oauth_client_disabled",),
    "AuditDetailsBotOAuthClientSecretRotated": ("bot_oauth_client_secret_rotated",),
    "AuditDetailsToken": ("bot_token_created", "bot_token_reissued", "bot_token_deleted"),
    "AuditDetailsBotTokenUpdated": ("bot_token_updated",),
}
AUDIT_DETAILS_EMPTY = "AuditDetailsEmpty"

# Pachca's rate limits by kind of call (docs/api/limits.md).
MESSAGE_WRITE = {("post", "/messages"), ("put", "/messages/{id}"), ("delete", "/messages/{id}")}
WEBHOOK_EVENTS = {("get", "/webhooks/events")}

# Request objects that are stricter versions of another. A file attached to a new message (type
# and size required) is a valid file for an edit too, so one value, such as what
# `files.upload` returns, type-checks in both calls.
SUBTYPES: Mapping[str, str] = {
    "MessageCreateRequestMessageFilesItem": "MessageUpdateRequestMessageFilesItem",
}

# Fields that hold a token or a secret, by schema: no repr shows them.
SECRETS: Mapping[str, tuple[str, ...]] = {
    "BotCreateResponse": ("access_token", "client_secret"),
    "BotResponse": ("client_secret",),
    "BotSelfTokenResponse": ("access_token",),
    "BotAccessToken": ("token",),
    "BotWebhook": ("secret_token",),
    "OAuthToken": ("access_token", "refresh_token"),
    "OAuthTokenRequest": ("code", "client_secret", "code_verifier"),
    "OAuthRevokeRequest": ("token", "client_secret"),
}

# What unknown webhook payloads and unknown audit details parse into.
UNKNOWN_WEBHOOK_PAYLOAD = "UnknownWebhookPayload"
UNKNOWN_AUDIT_DETAILS = "UnknownAuditDetails"


class SpecError(ValueError):
    """The spec cannot be generated from; `pointer` is the JSON pointer at fault."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(f"{pointer}: {message}" if pointer else message)
        self.pointer = pointer
        self.detail = message


def normalize(spec: Mapping[str, Any]) -> Spec:
    """Return a fixed copy of `spec`; the input is not modified."""
    out: Spec = copy.deepcopy(dict(spec))
    _check_shape(out)
    for fix in (
        _keep_nullable_refs,
        _name_inline_objects,
        _mark_subtypes,
        _discriminate_unions,
        _select_audit_details,
        _rails_array_params,
        _mark_results,
        _classify_rate_limits,
        _mark_external_urls,
        _mark_secrets,
    ):
        fix(out)
    return out


def pointer(*parts: str | int) -> str:
    """A JSON pointer built from unescaped parts."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


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


def _mark_subtypes(spec: Spec) -> None:
    """Mark the objects of `SUBTYPES` with `x-sdk-extends`, once they are named.

    The pair must have the same properties, and the subtype must require everything the base
    requires; a spec where that no longer holds fails here instead of generating a wrong class.
    """
    titled = {
        node["title"]: (where, node)
        for where, node in _walk(spec, "")
        if isinstance(node.get("title"), str) and "properties" in node
    }
    for name, base in SUBTYPES.items():
        if name not in titled or base not in titled:
            continue
        where, node = titled[name]
        base_node = titled[base][1]
        if list(node["properties"]) != list(base_node["properties"]):
            raise SpecError(where, f"cannot extend {base}: the properties differ")
        missing = set(base_node.get("required", [])) - set(node.get("required", []))
        if missing:
            raise SpecError(where, f"cannot extend {base}: {sorted(missing)} not required")
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


def _discriminate_unions(spec: Spec) -> None:
    """Unions of objects get a value-based discriminator.

    Variants that all carry a one-value `type` enum are picked by `type`. The webhook payload
    union (`x-union-deserializer: webhook-payload`) is picked by (`type`, `event`), since two
    payloads share `type: message`; an unknown pair parses into `UnknownWebhookPayload`.
    """
    all_schemas = schemas(spec)
    for name, union in list(all_schemas.items()):
        variants = _variants(spec, union)
        if not variants:
            continue
        webhook = union.get("x-union-deserializer") == "webhook-payload"
        keys = ["type", "event"] if webhook else ["type"]
        mapping: dict[str, str] = {}
        for variant in variants:
            props = all_schemas[variant].get("properties", {})
            combos: list[list[str]] = [[]]
            for key in keys:
                values = _enum_values(spec, props.get(key))
                if not values or (key == "type" and len(values) != 1):
                    combos = []
                    break
                combos = [[*c, str(v)] for c in combos for v in values]
            if not combos:
                break
            for combo in combos:
                label = " ".join(combo)
                if label in mapping:
                    raise SpecError(
                        pointer("components", "schemas", name),
                        f"variants {mapping[label]} and {variant} both match {label!r}",
                    )
                mapping[label] = variant
        else:
            union["x-sdk-discriminator"] = {"properties": keys, "mapping": mapping}
            if webhook:
                _add_fallback(
                    spec,
                    name,
                    UNKNOWN_WEBHOOK_PAYLOAD,
                    "A webhook payload of a kind this SDK does not know yet.",
                    extra={
                        "type": {"type": "string", "description": "Payload kind, as sent."},
                        "event": {"type": "string", "description": "Event name, as sent."},
                    },
                )


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


def _select_audit_details(spec: Spec) -> None:
    """`AuditEventDetailsUnion` has no discriminator and its first variant matches anything.

    Pick the variant by the audit event's `event_key` instead; unknown keys parse into
    `UnknownAuditDetails`, which keeps the raw object.
    """
    all_schemas = schemas(spec)
    event = all_schemas.get("AuditEvent")
    if event is None or "details" not in event.get("properties", {}):
        return
    variants = set(_variants(spec, all_schemas.get("AuditEventDetailsUnion", {})))
    mapping = {
        key: name
        for name, keys in AUDIT_DETAILS_BY_EVENT_KEY.items()
        if name in variants
        for key in keys
    }
    if AUDIT_DETAILS_EMPTY in variants:
        for key in _enum_values(spec, event["properties"].get("event_key")):
            mapping.setdefault(str(key), AUDIT_DETAILS_EMPTY)
    event["properties"]["details"]["x-sdk-select-by"] = {
        "property": "event_key",
        "mapping": dict(sorted(mapping.items())),
    }
    _add_fallback(
        spec,
        "AuditEventDetailsUnion",
        UNKNOWN_AUDIT_DETAILS,
        "Details of an audit event this SDK does not know yet.",
    )


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


def _classify_rate_limits(spec: Spec) -> None:
    """Tag every operation with the rate limit it counts against (docs/api/limits.md)."""
    for path, method, op in operations(spec):
        if (method, path) in MESSAGE_WRITE:
            rate_class = "message_write"
        elif method == "get" and (path == "/messages" or path.startswith("/messages/")):
            rate_class = "message_read"
        elif (method, path) in WEBHOOK_EVENTS:
            rate_class = "webhook_events"
        else:
            rate_class = "other"
        op["x-sdk-rate-class"] = rate_class


def _mark_external_urls(spec: Spec) -> None:
    """`x-external-url: directUrl`: call the absolute URL the caller passes, not the path."""
    for path, method, op in operations(spec):
        name = op.get("x-external-url")
        if name is None:
            continue
        if not isinstance(name, str) or not name:
            raise SpecError(pointer("paths", path, method, "x-external-url"), "expected a name")
        op["x-sdk-url-param"] = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _mark_secrets(spec: Spec) -> None:
    """Mark the properties of `SECRETS` with `x-sdk-secret`, where the spec has them."""
    for name, fields in SECRETS.items():
        properties = schemas(spec).get(name, {}).get("properties", {})
        for field in fields:
            if field in properties:
                properties[field]["x-sdk-secret"] = True
