"""The normalize pass: each fix, on the real spec and on small documents."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from codegen.normalize import SpecError, normalize

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def fixed(spec: dict[str, Any]) -> dict[str, Any]:
    return normalize(spec)


def schema(doc: dict[str, Any], name: str) -> dict[str, Any]:
    result: dict[str, Any] = doc["components"]["schemas"][name]
    return result


def op(doc: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    result: dict[str, Any] = doc["paths"][path][method]
    return result


def test_input_is_not_modified(spec: dict[str, Any]) -> None:
    before = copy.deepcopy(spec)
    normalize(spec)
    assert spec == before


def test_is_deterministic(spec: dict[str, Any]) -> None:
    assert normalize(spec) == normalize(spec)


@pytest.mark.parametrize(
    ("model", "field"),
    [
        ("Message", "voice_content"),
        ("Message", "forwarding"),
        ("User", "user_status"),
        ("MessageWebhookPayload", "thread"),
    ],
)
def test_nullable_refs_keep_null(fixed: dict[str, Any], model: str, field: str) -> None:
    prop = schema(fixed, model)["properties"][field]
    assert prop["nullable"] is True
    assert "type" not in prop  # the sibling that made the generator drop `nullable`
    assert len(prop["allOf"]) == 1


def test_audit_details_are_selected_by_event_key(fixed: dict[str, Any]) -> None:
    rule = schema(fixed, "AuditEvent")["properties"]["details"]["x-sdk-select-by"]
    assert rule["property"] == "event_key"
    assert rule["mapping"]["user_updated"] == "AuditDetailsUserUpdated"
    assert rule["mapping"]["tag_removed_from_chat"] == "AuditDetailsChatId"
    assert rule["mapping"]["search_chats_api"] == "AuditDetailsSearch"
    assert rule["mapping"]["user_login"] == "AuditDetailsEmpty"  # events with empty details
    union = schema(fixed, "AuditEventDetailsUnion")
    assert union["x-sdk-fallback"] == "UnknownAuditDetails"
    assert "raw" in schema(fixed, "UnknownAuditDetails")["properties"]


def test_every_audit_variant_is_reachable(fixed: dict[str, Any]) -> None:
    rule = schema(fixed, "AuditEvent")["properties"]["details"]["x-sdk-select-by"]
    variants = {
        i["$ref"].rsplit("/", 1)[1] for i in schema(fixed, "AuditEventDetailsUnion")["anyOf"]
    }
    assert set(rule["mapping"].values()) == variants


def test_webhook_payloads_by_type_and_event(fixed: dict[str, Any]) -> None:
    union = schema(fixed, "WebhookPayloadUnion")
    rule = union["x-sdk-discriminator"]
    assert rule["properties"] == ["type", "event"]
    assert rule["mapping"]["message new"] == "MessageWebhookPayload"
    assert rule["mapping"]["message link_shared"] == "LinkSharedWebhookPayload"
    assert rule["mapping"]["reaction delete"] == "ReactionWebhookPayload"
    assert rule["mapping"]["view submit"] == "ViewSubmitWebhookPayload"
    assert union["x-sdk-fallback"] == "UnknownWebhookPayload"


def test_view_blocks_by_type(fixed: dict[str, Any]) -> None:
    rule = schema(fixed, "ViewBlockUnion")["x-sdk-discriminator"]
    assert rule["properties"] == ["type"]
    assert rule["mapping"]["select"] == "ViewBlockSelect"
    assert len(rule["mapping"]) == 11


def test_array_query_parameters_go_rails_style(fixed: dict[str, Any]) -> None:
    params = {p["name"]: p for p in op(fixed, "/search/messages", "get")["parameters"]}
    assert params["chat_ids"]["x-sdk-wire-name"] == "chat_ids[]"
    assert params["chat_ids"]["explode"] is True
    assert "x-sdk-wire-name" not in params["query"]


def test_array_query_parameters_behind_a_ref_go_rails_style(fixed: dict[str, Any]) -> None:
    """`names` is a `$ref` to an array schema: the API reads `names[]=a&names[]=b` too."""
    params = {p["name"]: p for p in op(fixed, "/group_tags", "get")["parameters"]}
    assert params["names"]["x-sdk-wire-name"] == "names[]"
    assert "x-sdk-wire-name" not in params["limit"]


def test_export_download_returns_location(fixed: dict[str, Any]) -> None:
    assert op(fixed, "/chats/exports/{id}", "get")["x-sdk-result"] == "location"
    assert "x-sdk-result" not in op(fixed, "/chats/exports", "post")


@pytest.mark.parametrize(
    ("path", "method", "rate_class"),
    [
        ("/messages", "post", "message_write"),
        ("/messages/{id}", "put", "message_write"),
        ("/messages/{id}", "delete", "message_write"),
        ("/messages", "get", "message_read"),
        ("/messages/{id}", "get", "message_read"),
        ("/webhooks/events", "get", "webhook_events"),
        ("/chats", "get", "other"),
        ("/messages/{id}/reactions", "post", "other"),
    ],
)
def test_rate_classes(fixed: dict[str, Any], path: str, method: str, rate_class: str) -> None:
    assert op(fixed, path, method)["x-sdk-rate-class"] == rate_class


def test_direct_upload_uses_the_absolute_url(fixed: dict[str, Any]) -> None:
    upload = op(fixed, "/direct_url", "post")
    assert upload["x-sdk-url-param"] == "direct_url"
    assert upload["x-requirements"]["auth"] is False


def test_inline_objects_get_readable_names(fixed: dict[str, Any]) -> None:
    assert schema(fixed, "Message")["properties"]["thread"]["title"] == "MessageThread"
    request = schema(fixed, "MessageCreateRequest")["properties"]["message"]
    assert request["title"] == "MessageCreateRequestMessage"
    assert (
        request["properties"]["files"]["items"]["title"] == "MessageCreateRequestMessageFilesItem"
    )


def _tiny(**paths: Any) -> dict[str, Any]:
    return {"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": paths}


def test_rejects_non_openapi_3() -> None:
    with pytest.raises(SpecError) as caught:
        normalize({"swagger": "2.0", "paths": {}})
    assert caught.value.pointer == "/openapi"


def test_rejects_duplicate_operation_ids() -> None:
    item = {"get": {"operationId": "A_x", "tags": ["A"], "responses": {}}}
    with pytest.raises(SpecError) as caught:
        normalize(_tiny(**{"/a": item, "/b": copy.deepcopy(item)}))
    assert caught.value.pointer == "/paths/~1b/get/operationId"


def test_rejects_operation_without_tag() -> None:
    with pytest.raises(SpecError) as caught:
        normalize(_tiny(**{"/a": {"get": {"operationId": "A_x", "responses": {}}}}))
    assert caught.value.pointer == "/paths/~1a/get/tags"


def test_rejects_unresolvable_refs() -> None:
    schema_ref = {"schema": {"$ref": "#/components/schemas/Missing"}}
    doc = _tiny(
        **{
            "/a": {
                "get": {
                    "operationId": "A_x",
                    "tags": ["A"],
                    "responses": {
                        "200": {"description": "ok", "content": {"application/json": schema_ref}}
                    },
                }
            }
        }
    )
    with pytest.raises(SpecError) as caught:
        normalize(doc)
    assert (
        caught.value.pointer == "/paths/~1a/get/responses/200/content/application~1json/schema/$ref"
    )


def test_new_message_files_extend_edited_message_files(fixed: dict[str, Any]) -> None:
    create = schema(fixed, "MessageCreateRequest")["properties"]["message"]["properties"]
    assert create["files"]["items"]["x-sdk-extends"] == "MessageUpdateRequestMessageFilesItem"


def test_subtype_that_no_longer_requires_what_its_base_does_is_skipped(
    spec: dict[str, Any],
) -> None:
    broken = copy.deepcopy(spec)
    message = schema(broken, "MessageCreateRequest")["properties"]["message"]
    message["properties"]["files"]["items"]["required"] = ["key"]
    notes: list[str] = []
    fixed = normalize(broken, notes=notes)
    files = schema(fixed, "MessageCreateRequest")["properties"]["message"]["properties"]["files"]
    assert "x-sdk-extends" not in files["items"]
    assert notes == [
        "skipped: MessageCreateRequestMessageFilesItem extends "
        "MessageUpdateRequestMessageFilesItem (properties or required differ)"
    ]


def test_every_overlay_fact_applies_to_todays_spec(spec: dict[str, Any]) -> None:
    notes: list[str] = []
    normalize(spec, notes=notes)
    assert notes == []


def test_facts_the_spec_lacks_are_skipped_and_reported(spec: dict[str, Any]) -> None:
    """An older spec without the audit log or message writes still normalizes."""
    old = copy.deepcopy(spec)
    del old["components"]["schemas"]["AuditEventDetailsUnion"]
    del old["components"]["schemas"]["AuditEvent"]["properties"]["details"]
    del old["paths"]["/messages/{id}"]["delete"]
    notes: list[str] = []
    fixed = normalize(old, notes=notes)
    assert "UnknownAuditDetails" not in fixed["components"]["schemas"]
    assert "skipped: AuditEvent.details selected by event_key (not in spec)" in notes
    assert "skipped: overlay facts of MessageOperations_deleteMessage (no such operation)" in notes


def _union_of(*variants: dict[str, Any]) -> dict[str, Any]:
    names = {f"V{i}": v for i, v in enumerate(variants)}
    doc = _tiny()
    doc["components"] = {
        "schemas": {
            **names,
            "U": {"anyOf": [{"$ref": f"#/components/schemas/{n}"} for n in names]},
            "Holder": {"type": "object", "properties": {"u": {"$ref": "#/components/schemas/U"}}},
        }
    }
    return doc


def _payload(kind: str, events: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type", "event"],
        "properties": {
            "type": {"type": "string", "enum": [kind]},
            "event": {"type": "string", "enum": events},
        },
    }


def test_unions_without_discriminator_are_told_apart_by_shape() -> None:
    """Two payloads share `type: message`: the pair (`type`, `event`) tells them apart."""
    doc = _union_of(_payload("message", ["new", "update"]), _payload("message", ["link_shared"]))
    rule = normalize(doc)["components"]["schemas"]["U"]["x-sdk-discriminator"]
    assert rule == {
        "properties": ["type", "event"],
        "mapping": {"message new": "V0", "message update": "V0", "message link_shared": "V1"},
    }


def test_variants_nothing_tells_apart_are_refused_naming_both() -> None:
    doc = _union_of(_payload("message", ["new"]), _payload("message", ["new"]))
    with pytest.raises(SpecError) as caught:
        normalize(doc)
    assert caught.value.pointer == "/components/schemas/U"
    assert caught.value.detail == "variants V0 and V1 both match 'message new'"


def test_camel_case_path_parameters_become_snake_case() -> None:
    param = {"name": "chatId", "in": "path", "required": True, "schema": {"type": "integer"}}
    item = {"get": {"operationId": "A_x", "tags": ["A"], "parameters": [param], "responses": {}}}
    fixed = normalize(_tiny(**{"/chats/{chatId}": item}))
    assert list(fixed["paths"]) == ["/chats/{chat_id}"]
    assert fixed["paths"]["/chats/{chat_id}"]["get"]["parameters"][0]["name"] == "chat_id"


def test_unions_without_values_to_go_by_are_told_apart_by_required_keys() -> None:
    doc = _union_of(
        {"type": "object", "required": ["chat_id"], "properties": {"chat_id": {"type": "integer"}}},
        {"type": "object", "required": ["user_id"], "properties": {"user_id": {"type": "integer"}}},
    )
    rule = normalize(doc)["components"]["schemas"]["U"]["x-sdk-discriminator"]
    assert rule == {"properties": ["chat_id"], "mapping": {"1": "V0", "0": "V1"}, "presence": True}


def test_variants_with_the_same_required_keys_and_no_values_are_refused() -> None:
    same = {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}}
    with pytest.raises(SpecError) as caught:
        normalize(_union_of(same, copy.deepcopy(same)))
    assert caught.value.detail == "variants V0 and V1 have no property to tell them by"
