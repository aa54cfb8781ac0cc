"""Pieces of spec evolution on their own: overlay checks, update-spec merging, breaking exits."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from codegen import overlay as overlays
from codegen import update_spec
from codegen.__main__ import main
from codegen.errors import SpecError
from pachca_async import OperationUnavailableError
from pachca_async._service import operation

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "pachca_async" / "_generated"
PUBLISHED = ROOT.parent / "shared" / "pachca-api" / "openapi.yaml"


@pytest.fixture
def ours() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    return spec


def test_a_helper_whose_operation_is_gone_says_so_when_called() -> None:
    assert operation("MessageOperations_createMessage").name == "messages.create_message"
    with pytest.raises(OperationUnavailableError, match=r"Gone_call is not in the openapi\.yaml"):
        operation("Gone_call")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("operations:\n  A_b:\n    rate: fastest\n", "/operations/A_b/rate"),
        ("operations:\n  A_b: fast\n", "/operations/A_b"),
        ("schemas:\n  AuditEvent: 1\n", "/schemas/AuditEvent"),
        ("schemas:\n  Bot:\n    secrets: access_token\n", "/schemas/Bot/secrets"),
        (
            "schemas:\n  AuditEvent:\n    select: {property: details, by: event_key,"
            " variants: {AuditDetailsKms: kms_encrypt}}\n",
            "/schemas/AuditEvent/select",
        ),
        ("operations:\n  A_b:\n    rate_key: {chat: x}\n", "/operations/A_b/rate_key"),
        ("operations:\n  A_b:\n    helpers: no-colon\n", "/operations/A_b/helpers"),
        ("webhooks:\n  message new: nowhere\n", "/webhooks/message new"),
        ("webhooks:\n  message: x\n", "/webhooks/message"),
        ("schemas: [1]\n", "/schemas"),
        ("schemas:\n  AuditEvent:\n    select: {by: event_key}\n", "/schemas/AuditEvent/select"),
    ],
)
def test_a_malformed_overlay_names_the_pointer_inside_it(
    tmp_path: Path, text: str, where: str
) -> None:
    path = tmp_path / "overlay.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        overlays.load(path)
    assert caught.value.pointer == where
    assert caught.value.detail.startswith("overlay.yaml: expected")


def test_renames_are_recorded_at_the_end_of_the_overlay_keeping_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "overlay.yaml"
    shutil.copy(overlays.DEFAULT, path)
    before = path.read_text(encoding="utf-8")
    facts = overlays.load(path)
    assert overlays.record_renames(facts, {"files.upload_file": "X_uploadFile"}) == [
        "files.upload_file"
    ]
    assert overlays.record_renames(facts, {"files.upload_file": "X_uploadFile"}) == []
    after = path.read_text(encoding="utf-8")
    assert after.startswith(before[: before.rindex("\nrenamed:")])
    assert after.endswith("\nrenamed:\n  files.upload_file: X_uploadFile\n")
    assert overlays.load(path).renamed == {"files.upload_file": "X_uploadFile"}


def test_fail_on_breaking_exits_2_and_still_writes(
    tmp_path: Path, ours: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    del ours["paths"]["/messages/{id}/pin"]["delete"]
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(ours), encoding="utf-8")
    out = tmp_path / "pkg"
    shutil.copytree(COMMITTED, out)
    overlay = tmp_path / "overlay.yaml"
    shutil.copy(overlays.DEFAULT, overlay)
    args = ["--spec", str(spec), "--output", str(out), "--overlay", str(overlay)]
    assert main([*args, "--fail-on-breaking"]) == 2
    assert "  - messages.unpin_message (breaking)" in capsys.readouterr().out
    assert "UNPIN_MESSAGE" not in (out / "services" / "messages.py").read_text(encoding="utf-8")
    assert main([*args, "--fail-on-breaking", "--quiet"]) == 0  # nothing changed the second time


def test_merge_keeps_our_text_and_lists_the_new(ours: dict[str, Any]) -> None:
    theirs = copy.deepcopy(ours)
    post = theirs["paths"]["/messages/{id}/pin"].pop("post")
    post["description"] = "Закрепление сообщения."
    post["tags"] = ["Pins"]
    theirs["paths"]["/pins/{id}"] = {"post": post}  # the same operationId on a new path
    theirs["components"]["schemas"]["Message"]["properties"]["pinned"] = {
        "type": "boolean",
        "description": "Закреплено ли.",
    }
    merged, new_text = update_spec.merge(ours, theirs)
    ours_post = ours["paths"]["/messages/{id}/pin"]["post"]
    assert merged["paths"]["/pins/{id}"]["post"]["description"] == ours_post["description"]
    assert new_text == ["/components/schemas/Message/properties/pinned/description"]
    assert update_spec.renames(ours, merged) == {
        "messages.pin_message": "MessageOperations_pinMessage"
    }
    again, _ = update_spec.merge(merged, theirs)
    assert again == merged


def test_elements_ahead_of_pachca_are_kept_until_published(ours: dict[str, Any]) -> None:
    theirs = copy.deepcopy(ours)
    ahead = copy.deepcopy(ours["paths"]["/messages/{id}/pin"]["post"])
    ahead.update(operationId="MessageOperations_starMessage", description="Stars a message.")
    ahead["x-sdk-ahead"] = "pachca-sdk-1.6.1-operations.json: MessageOperations_starMessage"
    ours["paths"]["/messages/{id}/star"] = {"post": ahead}
    merged, _ = update_spec.merge(ours, theirs)
    assert merged["paths"]["/messages/{id}/star"]["post"] == ahead

    published = copy.deepcopy(ahead)
    del published["x-sdk-ahead"]
    published["description"] = "Избранное."
    theirs["paths"]["/messages/{id}/star"] = {"post": published}
    merged, new_text = update_spec.merge(ours, theirs)
    star = merged["paths"]["/messages/{id}/star"]["post"]
    assert "x-sdk-ahead" not in star
    assert star["description"] == "Stars a message."
    assert new_text == []


@pytest.mark.skipif(not PUBLISHED.exists(), reason=f"Pachca's published spec is not at {PUBLISHED}")
def test_merging_the_release_we_match_changes_nothing(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    shutil.copy(ROOT / "openapi.yaml", spec)
    overlay = tmp_path / "overlay.yaml"
    shutil.copy(overlays.DEFAULT, overlay)
    args = [str(PUBLISHED), "--spec", str(spec), "--overlay", str(overlay)]
    assert update_spec.main(args) == 0
    assert spec.read_bytes() == (ROOT / "openapi.yaml").read_bytes()
    assert overlay.read_bytes() == overlays.DEFAULT.read_bytes()


def test_routers_have_the_overlays_observers_and_routes() -> None:
    from pachca_async._generated.routes import ROUTES
    from pachca_async.bot import Router

    facts = overlays.load()
    assert set(Router().observers) == set(facts.observers)
    assert dict(ROUTES) == facts.webhooks


def test_a_property_ahead_of_pachca_stays_required(ours: dict[str, Any]) -> None:
    theirs = copy.deepcopy(ours)
    message = ours["components"]["schemas"]["Message"]
    message["properties"]["starred"] = {"type": "boolean", "x-sdk-ahead": "newer: Message.starred"}
    message["required"].insert(0, "starred")
    merged, _ = update_spec.merge(ours, theirs)
    assert merged["components"]["schemas"]["Message"] == message


def test_a_typed_event_no_route_names_goes_to_unknown() -> None:
    import attrs

    from pachca_async.bot import observer_name
    from pachca_async.webhooks import parse_payload
    from tests.bot.fake_api import SAMPLES

    reaction = next(raw for raw, _ in SAMPLES if raw["type"] == "reaction")
    routed = parse_payload({**reaction, "event": "delete"})
    assert observer_name(routed) == "reaction"  # `reaction *` in the overlay
    assert observer_name(attrs.evolve(routed, type="poll", event="closed")) == "unknown"


def test_a_bug_a_new_spec_trips_is_a_message_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import codegen.build

    def broken(*_: object) -> None:
        raise KeyError("SomeSchema")

    monkeypatch.setattr(codegen.build, "render", broken)
    out = tmp_path / "pkg"
    shutil.copytree(COMMITTED, out)
    overlay = tmp_path / "overlay.yaml"
    shutil.copy(overlays.DEFAULT, overlay)
    args = ["--output", str(out), "--overlay", str(overlay)]
    assert main(args) == 1
    assert "render failed on this spec: KeyError: 'SomeSchema'" in capsys.readouterr().err
    assert (out / "models.py").read_bytes() == (COMMITTED / "models.py").read_bytes()


def test_update_spec_refuses_a_malformed_file_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    published = tmp_path / "published.yaml"
    published.write_text("openapi: 3.0.0\npaths:\n  /a:\n    get: nothing\n", encoding="utf-8")
    spec = tmp_path / "openapi.yaml"
    shutil.copy(ROOT / "openapi.yaml", spec)
    args = [str(published), "--spec", str(spec), "--overlay", str(tmp_path / "o.yaml")]
    assert update_spec.main(args) == 1
    assert capsys.readouterr().err.startswith(f"update-spec: cannot merge {published}: ")
    assert spec.read_bytes() == (ROOT / "openapi.yaml").read_bytes()


def test_an_enum_ahead_gives_way_once_a_release_has_its_values(ours: dict[str, Any]) -> None:
    theirs = copy.deepcopy(ours)
    file_type = theirs["components"]["schemas"]["FileType"]
    file_type.pop("x-sdk-ahead", None)
    file_type["enum"] = [v for v in file_type["enum"] if v != "video"]
    assert (
        update_spec.merge(ours, theirs)[0]["components"]["schemas"]["FileType"]
        == (ours["components"]["schemas"]["FileType"])
    )  # the release lacks `video`: ours stays, mark and all
    file_type["enum"] = [*ours["components"]["schemas"]["FileType"]["enum"], "archive"]
    merged = update_spec.merge(ours, theirs)[0]["components"]["schemas"]["FileType"]
    assert merged["enum"][-2:] == ["video", "archive"]
    assert "x-sdk-ahead" not in merged


def test_schemas_an_element_ahead_needs_come_along(ours: dict[str, Any]) -> None:
    theirs = copy.deepcopy(ours)
    del theirs["paths"]["/bot/webhook"]
    del theirs["components"]["schemas"]["BotWebhookSelfUpdateRequest"]
    merged, _ = update_spec.merge(ours, theirs)
    assert merged["paths"]["/bot/webhook"] == ours["paths"]["/bot/webhook"]
    assert "BotWebhookSelfUpdateRequest" in merged["components"]["schemas"]
