"""What a successful call returns: typed models, `None`, a URL."""

from __future__ import annotations

import datetime

import pytest

from pachca_async import PachcaClient, ResponseDecodeError
from pachca_async.models import (
    Button,
    CustomPropertyDataType,
    CustomPropertyDefinition,
    File,
    FileType,
    Forwarding,
    Message,
    MessageEntityType,
    MessageThread,
    Reaction,
    UploadParams,
    UserStatus,
    UserStatusAwayMessage,
)
from pachca_async.testing import FakePachca, Reply, message
from tests.scripting import count, reaction, reply_json, root, status

UTC = datetime.UTC


async def test_envelope_is_unwrapped_into_typed_models(
    server: FakePachca, pachca: PachcaClient
) -> None:
    reply_json(server, "GET", "/messages/5", {"data": message(5)})
    msg = await pachca.messages.get_message(5)
    assert type(msg) is Message
    assert msg.id == 5
    assert msg.entity_type is MessageEntityType.DISCUSSION
    assert msg.created_at == datetime.datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert msg.files == [
        File(
            id=3,
            key="attaches/files/3/report.pdf",
            name="report.pdf",
            file_type=FileType.FILE,
            url="https://files.example/3",
            width=None,
            height=None,
        )
    ]
    assert msg.buttons == [[Button(text="Open", url="https://example.com")]]
    assert msg.thread == MessageThread(id=7, chat_id=700)
    assert type(msg.forwarding) is Forwarding
    assert msg.forwarding.original_thread_id is None
    assert msg.voice_content is None


async def test_unwrapped_list_result(server: FakePachca, pachca: PachcaClient) -> None:
    reply_json(
        server,
        "GET",
        "/custom_properties",
        {"data": [{"id": 1, "name": "City", "data_type": "string"}]},
    )
    found = await pachca.custom_properties.list_properties(entity_type="User")
    assert found == [
        CustomPropertyDefinition(id=1, name="City", data_type=CustomPropertyDataType.STRING)
    ]
    assert server.calls[-1].query_string == "entity_type=User"


async def test_no_content_returns_none(server: FakePachca, pachca: PachcaClient) -> None:
    server.reply("DELETE", "/messages/5", Reply(204))
    assert await pachca.messages.delete_message(5) is None
    assert count(server, "DELETE", "/messages/5") == 1


@pytest.mark.parametrize("document", [None, {"data": None}])
async def test_status_calls_return_none_for_null(
    server: FakePachca, pachca: PachcaClient, document: object
) -> None:
    reply_json(server, "GET", "/profile/status", document)
    reply_json(server, "GET", "/users/12/status", document)
    assert await pachca.profile.get_status() is None
    assert await pachca.users.get_user_status(12) is None
    assert server.calls[0].raw == b""


async def test_status_calls_return_the_status(server: FakePachca, pachca: PachcaClient) -> None:
    reply_json(server, "GET", "/users/12/status", {"data": status()})
    found = await pachca.users.get_user_status(12)
    assert found == UserStatus(
        emoji="🏖",
        title="On vacation",
        expires_at=None,
        is_away=True,
        away_message=UserStatusAwayMessage(text="Back on Monday"),
    )


async def test_null_is_not_accepted_where_the_spec_forbids_it(
    server: FakePachca, pachca: PachcaClient
) -> None:
    reply_json(server, "GET", "/messages/5", None)
    with pytest.raises(ResponseDecodeError):
        await pachca.messages.get_message(5)


async def test_export_download_returns_location_without_following(
    server: FakePachca, pachca: PachcaClient
) -> None:
    archive = f"{root(server)}/storage/export-7.zip"
    server.reply("GET", "/chats/exports/7", Reply(302, headers={"Location": archive}))
    server.reply("GET", "/storage/export-7.zip", Reply(200, body=b"PK..."))
    assert await pachca.chats.download_export(7) == archive
    assert [r.path for r in server.calls] == ["/chats/exports/7"]


async def test_relative_location_is_made_absolute(server: FakePachca, pachca: PachcaClient) -> None:
    server.reply("GET", "/chats/exports/7", Reply(302, headers={"Location": "/storage/e.zip"}))
    assert await pachca.chats.download_export(7) == f"{root(server)}/storage/e.zip"


async def test_redirect_without_location_is_a_decode_error(
    server: FakePachca, pachca: PachcaClient
) -> None:
    server.reply("GET", "/chats/exports/7", Reply(302))
    with pytest.raises(ResponseDecodeError, match="no Location header") as caught:
        await pachca.chats.download_export(7)
    assert caught.value.status == 302


async def test_upload_params_are_not_enveloped(server: FakePachca, pachca: PachcaClient) -> None:
    reply_json(
        server,
        "POST",
        "/uploads",
        {
            "Content-Disposition": "attachment",
            "acl": "private",
            "policy": "eyJ...",
            "x-amz-credential": "cred/20240501/s3/aws4_request",
            "x-amz-algorithm": "AWS4-HMAC-SHA256",
            "x-amz-date": "20240501T000000Z",
            "x-amz-signature": "abc123",
            "key": "attaches/files/93746/${filename}",
            "direct_url": "https://storage.example/upload",
        },
        status=201,
    )
    params = await pachca.files.get_upload_params()
    assert type(params) is UploadParams
    assert params.content_disposition == "attachment"
    assert params.x_amz_signature == "abc123"
    assert params.x_amz_credential == "cred/20240501/s3/aws4_request"
    assert params.direct_url == "https://storage.example/upload"
    assert server.calls[-1].raw == b""


async def test_add_reaction_is_not_enveloped(server: FakePachca, pachca: PachcaClient) -> None:
    reply_json(server, "POST", "/messages/5/reactions", reaction("👍"), status=201)
    added = await pachca.reactions.add_reaction(5, code="👍")
    assert added == Reaction(
        user_id=12,
        created_at=datetime.datetime(2024, 5, 1, 10, 0, tzinfo=UTC),
        code="👍",
        name=":+1:",
    )
    assert server.calls[-1].body == {"code": "👍"}


async def test_page_of_plain_ids(server: FakePachca, pachca: PachcaClient) -> None:
    reply_json(
        server,
        "GET",
        "/messages/5/read_member_ids",
        {"data": [12, 13], "meta": {"paginate": {"next_page": "n", "has_next": False}}},
    )
    page = await pachca.read_members.list_read_members(5, limit=300)
    assert page.items == [12, 13]
    assert page.has_next is False
