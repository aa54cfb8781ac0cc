"""Form-encoded bodies and calls sent without the token, as the server receives them.

The OAuth exchange (`POST /oauth/token`) is both: a form, on Pachca's own host, and the one
call there that must not carry `Authorization` (the client proves itself with its secret).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import attrs
import pytest

from pachca_async import InvalidRequestError, PachcaClient
from pachca_async.models import (
    OAuthRevokeRequest,
    OAuthToken,
    OAuthTokenRequest,
    OAuthTokenTypeHint,
)
from pachca_async.testing import FakePachca, Reply
from tests.scripting import TOKEN, reply_json

TOKENS = {
    "access_token": "new-access",
    "token_type": "Bearer",
    "refresh_token": "new-refresh",
    "scope": "messages:read chats:read",
    "created_at": 1767225600,
}


def form(body: bytes) -> list[tuple[str, str]]:
    return parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=True)


async def test_exchange_token_is_a_form_sent_without_the_token(
    server: FakePachca, pachca: PachcaClient
) -> None:
    reply_json(server, "POST", "/oauth/token", TOKENS)
    tokens = await pachca.oauth.exchange_token(
        code="the code",
        redirect_uri="https://bot.example/cb?x=1",
        client_id="cid",
        client_secret="s&=t",
    )
    assert tokens == OAuthToken(**TOKENS)
    sent = server.calls[-1]
    assert "Authorization" not in sent.headers
    assert TOKEN not in str(dict(sent.headers))
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form(sent.raw) == [
        ("grant_type", "authorization_code"),
        ("code", "the code"),
        ("redirect_uri", "https://bot.example/cb?x=1"),
        ("client_id", "cid"),
        ("client_secret", "s&=t"),
    ]


async def test_exchange_token_takes_a_prebuilt_form(
    server: FakePachca, pachca: PachcaClient
) -> None:
    reply_json(server, "POST", "/oauth/token", TOKENS)
    body = OAuthTokenRequest(code="c", redirect_uri="https://bot.example/cb", code_verifier="v")
    await pachca.oauth.exchange_token(body=body)
    assert "Authorization" not in server.calls[-1].headers
    assert form(server.calls[-1].raw) == [
        ("grant_type", "authorization_code"),
        ("code", "c"),
        ("redirect_uri", "https://bot.example/cb"),
        ("code_verifier", "v"),
    ]


async def test_revoke_token_is_a_form_sent_with_the_token(
    server: FakePachca, pachca: PachcaClient
) -> None:
    server.reply("POST", "/oauth/revoke", Reply(200))
    await pachca.oauth.revoke_token(token="old-refresh", token_type_hint="refresh_token")
    await pachca.oauth.revoke_token(
        body=OAuthRevokeRequest(token="old", token_type_hint=OAuthTokenTypeHint.ACCESS_TOKEN)
    )
    first, second = server.calls
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"
    assert first.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form(first.raw) == [("token", "old-refresh"), ("token_type_hint", "refresh_token")]
    assert form(second.raw) == [("token", "old"), ("token_type_hint", "access_token")]


@pytest.mark.parametrize("value", [None, {"nested": "x"}])
async def test_a_value_a_form_cannot_carry_is_refused_unsent(
    server: FakePachca, pachca: PachcaClient, value: object
) -> None:
    with pytest.raises(InvalidRequestError, match="`client_secret` cannot be sent in a form"):
        await pachca.oauth.exchange_token(
            code="c",
            redirect_uri="https://bot.example/cb",
            client_secret=value,  # type: ignore[arg-type]
        )
    assert server.calls == []


def test_tokens_and_secrets_stay_out_of_reprs() -> None:
    """What the OAuth exchange sends and returns, and a bot's token, never show in a repr."""
    from pachca_async.models import BotAccessToken, BotCreateResponse

    shown = [
        repr(OAuthToken(**TOKENS)),
        repr(OAuthTokenRequest(code="the-code", redirect_uri="r", client_secret="s3cr3t")),
        repr(OAuthRevokeRequest(token="old-refresh", client_secret="s3cr3t")),
        repr(
            BotAccessToken(
                id=1,
                token="bot-token-value",
                user_id=7,
                scopes=[],
                created_at=None,  # type: ignore[arg-type]
            )
        ),
    ]
    for secret in (
        "new-access",
        "new-refresh",
        "the-code",
        "s3cr3t",
        "old-refresh",
        "bot-token-value",
    ):
        assert not any(secret in text for text in shown), secret
    assert "redirect_uri='r'" in shown[1]  # the rest of the model still shows
    created = attrs.fields(BotCreateResponse)  # a new bot's token and its client secret too
    assert created.access_token.repr is False
    assert created.client_secret.repr is False
