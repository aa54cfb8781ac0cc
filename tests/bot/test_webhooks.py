"""`pachca_async.webhooks`: verification failures name their check; every payload is typed."""

from __future__ import annotations

import datetime
import json
import logging
from typing import Any

import pytest
from multidict import CIMultiDict

from pachca_async import InvalidRequestError, PachcaError, models
from pachca_async.webhooks import (
    ExportReadyPayload,
    Failure,
    MessageWebhookPayload,
    UnknownWebhookPayload,
    WebhookVerificationError,
    parse_update,
    parse_webhook,
    signature,
    verify_signature,
)

from .fake_api import SAMPLES, SECRET, message, signed

NOW = 1_700_000_000.0


def _at_now(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "webhook_timestamp": int(NOW)}


@pytest.mark.parametrize(("payload", "model"), SAMPLES, ids=lambda v: getattr(v, "__name__", ""))
def test_every_documented_payload_parses_into_its_model(
    payload: dict[str, Any], model: type[Any]
) -> None:
    body, headers = signed(_at_now(payload))
    update = parse_webhook(body, headers, SECRET, now=NOW)
    assert type(update.payload) is model
    assert (update.type, update.event) == (payload["type"], payload["event"])
    assert update.raw == json.loads(body)


def test_parsed_fields_are_typed() -> None:
    body, headers = signed(
        _at_now({**message("hi"), "thread": {"message_id": 1, "message_chat_id": 2}})
    )
    event = parse_webhook(body, headers, SECRET, now=NOW).payload
    assert isinstance(event, MessageWebhookPayload)
    assert event.created_at == datetime.datetime(2025, 5, 15, 14, 30, tzinfo=datetime.UTC)
    assert event.thread is not None
    assert event.thread.message_chat_id == 2
    export = parse_update(json.dumps(SAMPLES[-1][0]).encode()).payload
    assert isinstance(export, models.ExportWebhookPayload)  # the spec's model
    assert ExportReadyPayload is models.ExportWebhookPayload  # the earlier name still works
    assert export.export_id == 22322
    assert export.created_at == datetime.datetime(2025, 3, 20, 12, 33, 58, tzinfo=datetime.UTC)


def test_header_names_are_case_insensitive_in_any_mapping() -> None:
    body, headers = signed(_at_now(message()))
    value = headers["Pachca-Signature"]
    for given in ({"pachca-signature": value}, {"PACHCA-SIGNATURE": value}, CIMultiDict(headers)):
        assert parse_webhook(body, given, SECRET, now=NOW).payload.type == "message"


def _failure(body: bytes, headers: dict[str, str], **options: Any) -> WebhookVerificationError:
    with pytest.raises(WebhookVerificationError) as caught:
        parse_webhook(body, headers, SECRET, **options)
    assert isinstance(caught.value, PachcaError)
    return caught.value


def test_each_failed_check_is_named() -> None:
    body, headers = signed(_at_now(message()))
    tampered = body.replace(b"hello", b"HELLO")
    cases = {
        Failure.MISSING_SIGNATURE: (body, {}),
        Failure.MALFORMED_SIGNATURE: (body, {"Pachca-Signature": "sha256=abc"}),
        Failure.WRONG_SIGNATURE: (tampered, headers),
    }
    for failure, (given_body, given_headers) in cases.items():
        error = _failure(given_body, given_headers, now=NOW)
        assert error.failure is failure
        assert failure.value in str(error)
    wrong_key = signed(_at_now(message()), secret="another-secret")
    assert _failure(*wrong_key, now=NOW).failure is Failure.WRONG_SIGNATURE


def test_timestamps_outside_the_tolerance_are_refused() -> None:
    body, headers = signed(_at_now(message()))
    assert parse_webhook(body, headers, SECRET, now=NOW + 60).payload is not None
    assert _failure(body, headers, now=NOW + 61).failure is Failure.STALE_TIMESTAMP
    assert _failure(body, headers, now=NOW - 61).failure is Failure.FUTURE_TIMESTAMP
    assert _failure(body, headers, now=NOW + 5, tolerance=2).failure is Failure.STALE_TIMESTAMP
    no_stamp = signed({k: v for k, v in message().items() if k != "webhook_timestamp"})
    assert _failure(*no_stamp, now=NOW).failure is Failure.MISSING_TIMESTAMP
    text_stamp = signed({**message(), "webhook_timestamp": "1700000000"})
    assert _failure(*text_stamp, now=NOW).failure is Failure.MISSING_TIMESTAMP


def test_a_signed_body_that_is_not_a_json_object_is_refused() -> None:
    for body in (b"not json", b"[1, 2]", b""):
        headers = {"Pachca-Signature": signature(body, SECRET)}
        assert _failure(body, headers, now=NOW).failure is Failure.NOT_JSON


def test_the_signature_is_checked_before_the_body_is_read() -> None:
    assert _failure(b"not json", {}, now=NOW).failure is Failure.MISSING_SIGNATURE


def test_unknown_kinds_keep_the_raw_object() -> None:
    payload = _at_now({"type": "poll", "event": "vote", "poll_id": 3, "answer": "b"})
    update = parse_webhook(*signed(payload), SECRET, now=NOW)
    assert isinstance(update.payload, UnknownWebhookPayload)
    assert (update.payload.type, update.payload.event) == ("poll", "vote")
    assert update.payload.raw == payload


def test_a_known_kind_with_unexpected_fields_degrades_to_unknown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = _at_now({"type": "button", "event": "click", "data": "x"})  # no message_id, ...
    with caplog.at_level(logging.WARNING, "pachca_async.webhooks"):
        update = parse_webhook(*signed(broken), SECRET, now=NOW)
    assert isinstance(update.payload, UnknownWebhookPayload)
    assert update.payload.raw == broken
    assert "button/click payload does not match its model" in caplog.text


def test_the_secret_never_shows() -> None:
    body, headers = signed(_at_now(message()))
    expected = headers["Pachca-Signature"]
    errors = [
        _failure(body.replace(b"hello", b"x"), headers, now=NOW),
        _failure(body, {"Pachca-Signature": "0" * 64}, now=NOW),
        _failure(body, headers, now=NOW + 600),
    ]
    for error in errors:
        assert SECRET not in str(error)
        assert SECRET not in repr(error)
        assert expected not in str(error)


def test_verify_signature_alone_and_an_empty_secret() -> None:
    body = b'{"a": 1}'
    verify_signature(body, signature(body, SECRET).upper(), SECRET)
    with pytest.raises(WebhookVerificationError):
        verify_signature(body, None, SECRET)
    with pytest.raises(InvalidRequestError, match="secret is empty"):
        verify_signature(body, "0" * 64, "")
