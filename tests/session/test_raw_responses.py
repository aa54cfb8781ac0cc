"""`with_raw_response`: status, headers and request id of a success answer, with its result."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pachca_async import InvalidRequestError, NotFoundError, RawResponse
from pachca_async.models import Message
from pachca_async.testing import FakePachca
from tests.readme import modules

ROOT = Path(__file__).resolve().parents[2]


async def test_a_raw_call_answers_status_headers_request_id_and_the_model() -> None:
    async with FakePachca() as api, api.client() as pachca:
        chat = api.add_chat("General")
        raw = await pachca.messages.with_raw_response.create_message(
            entity_id=chat["id"], content="Hello"
        )
    assert isinstance(raw, RawResponse)
    assert isinstance(raw.data, Message)
    assert (raw.status, raw.data.content, raw.operation) == (
        201,
        "Hello",
        "messages.create_message",
    )
    assert raw.headers["Content-Type"].startswith("application/json")
    assert raw.request_id is not None
    assert raw.request_id == raw.headers["X-Request-Id"]
    assert b'"Hello"' in raw.content
    assert api.calls_to("POST", "/messages") == [
        {"message": {"entity_id": chat["id"], "content": "Hello"}}
    ]


async def test_a_call_without_a_body_answers_none_as_data() -> None:
    async with FakePachca() as api, api.client() as pachca:
        said = api.add_message("bye", chat_id=5, user_id=7)
        raw = await pachca.messages.with_raw_response.delete_message(said["id"])
    assert (raw.status, raw.data, raw.content) == (204, None, b"")
    assert said["id"] not in api.messages


async def test_a_raw_list_call_answers_one_page_from_the_given_cursor() -> None:
    async with FakePachca() as api, api.client() as pachca:
        for n in range(3):
            api.add_message(f"m{n}", chat_id=5, user_id=7)
        first = await pachca.messages.with_raw_response.list_chat_messages(chat_id=5, limit=2)
        cursor = first.data.next_cursor
        second = await pachca.messages.with_raw_response.list_chat_messages(
            chat_id=5, limit=2, cursor=cursor
        )
    assert first.status == second.status == 200
    assert [m.content for m in first.data.items] == ["m2", "m1"]
    assert [m.content for m in second.data.items] == ["m0"]
    assert first.request_id != second.request_id


async def test_max_items_is_refused_for_a_raw_page() -> None:
    async with FakePachca() as api, api.client() as pachca:
        with pytest.raises(InvalidRequestError, match="max_items"):
            await pachca.messages.with_raw_response.list_chat_messages(chat_id=5, max_items=3)
    assert api.calls == []


async def test_an_error_status_raises_as_from_the_plain_call() -> None:
    async with FakePachca() as api, api.client() as pachca:
        with pytest.raises(NotFoundError) as raised:
            await pachca.messages.with_raw_response.get_message(404404)
    assert raised.value.status == 404
    assert raised.value.request_id  # the error carries it too


USAGE = """
from pachca_async import PachcaClient, Sink


async def main(pachca: PachcaClient, sink: Sink) -> None:
    raw = await pachca.messages.with_raw_response.create_message(entity_id=1, content="hi")
    reveal_type(raw)
    page = await pachca.chats.with_raw_response.list_chats(limit=5)
    reveal_type(page.data)
    reveal_type(raw.request_id)
    await pachca.messages.with_raw_response.create_message(entity_id="1", content="hi")
    reveal_type((await pachca.files.with_raw_response.download_file(7)).data)
    reveal_type((await pachca.files.with_raw_response.download_file(7, to="a.pdf")).data)
    reveal_type((await pachca.files.with_raw_response.download_file(7, to=sink)).data)
    await pachca.files.with_raw_response.download_file(7, to=3)
"""


def test_raw_calls_are_typed_with_their_result_models(tmp_path: Path) -> None:
    usage = tmp_path / "usage.py"
    usage.write_text(USAGE, encoding="utf-8")
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(usage)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    said = {
        int(line.split(":")[1]): line.split(": ", 2)[2]
        for line in checked.stdout.splitlines()
        if ": note: Revealed" in line or ": error:" in line
    }
    models, pages = "pachca_async._generated.models", "pachca_async._pagination"
    assert said == {
        7: f'Revealed type is "pachca_async._raw.RawResponse[{models}.Message]"',
        9: f'Revealed type is "{pages}.Page[{models}.Chat, {models}.PaginationMeta]"',
        10: 'Revealed type is "str | None"',
        11: 'No overload variant matches argument types "str", "str"  [call-overload]',
        12: 'Revealed type is "bytes"',  # raw_call keeps the plain call's overloads: `to=`
        13: 'Revealed type is "pathlib.Path"',
        14: 'Revealed type is "None"',
        15: 'No overload variant matches argument types "int", "int"  [call-overload]',
    }, checked.stdout


async def test_the_readme_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    namespace: dict[str, Any] = {}
    exec(modules()["raw_responses"], namespace)  # as written
    async with FakePachca() as api, api.client() as pachca:
        api.add_chat("General", id=198)
        api.add_chat("Random")
        await namespace["show_raw"](pachca)
    created, content, listed = capsys.readouterr().out.splitlines()
    assert content == "Hello"
    status, request_id = created.split()
    assert (status, len(request_id)) == ("201", 36)  # the fake's request id: a UUID, as Pachca's
    count, _cursor, content_type = listed.split(" ", 2)
    assert (count, content_type) == ("2", "application/json; charset=utf-8")
    assert api.calls_to("POST", "/messages") == [
        {"message": {"entity_id": 198, "content": "Hello"}}
    ]
