"""Buttons and forms: what the builders send, and every documented limit checked first."""

from __future__ import annotations

import datetime
import json
import typing
from collections.abc import Iterable
from typing import Any

import pytest

from pachca_async import InvalidRequestError
from pachca_async._convert import unstructure
from pachca_async.buttons import data_button, keyboard, url_button
from pachca_async.forms import (
    Form,
    FormErrors,
    Option,
    checkbox,
    date_picker,
    divider,
    file_input,
    header,
    markdown,
    plain_text,
    radio,
    select,
    text_input,
    time_picker,
)
from pachca_async.models import (
    Button,
    ViewBlockInput,
    ViewBlockRadio,
    ViewBlockSelect,
    ViewBlockSelectOption,
    ViewBlockUnion,
)


def test_buttons_serialize_as_the_api_expects() -> None:
    rows = keyboard(
        [data_button("Yes", "vote:yes"), data_button("No", "vote:no")],
        [url_button("Docs", "https://example.com")],
    )
    assert unstructure(rows) == [
        [{"text": "Yes", "data": "vote:yes"}, {"text": "No", "data": "vote:no"}],
        [{"text": "Docs", "url": "https://example.com"}],
    ]
    assert keyboard() == []


def test_button_limits() -> None:
    data_button("x" * 255, "d" * 255)
    with pytest.raises(InvalidRequestError, match=r"button\.data: at most 255 characters, got 256"):
        data_button("ok", "d" * 256)
    with pytest.raises(InvalidRequestError, match=r"button\.text: at most 255"):
        url_button("t" * 256, "https://example.com")
    hand_made = Button(text="ok", data="d" * 300)
    with pytest.raises(InvalidRequestError, match=r"buttons\[1\]\[0\]\.data"):
        keyboard([data_button("a", "a")], [hand_made])
    with pytest.raises(InvalidRequestError, match="either `url`"):
        keyboard([Button(text="nothing")])
    with pytest.raises(InvalidRequestError, match="either `url`"):
        keyboard([Button(text="both", url="https://a", data="a")])
    with pytest.raises(InvalidRequestError, match="at most 32 rows"):
        keyboard(*[[data_button("a", "a")]] * 33)
    with pytest.raises(InvalidRequestError, match="at most 100 buttons"):
        keyboard(*[[data_button("a", "a")] * 4] * 26)
    with pytest.raises(InvalidRequestError, match="at least one button"):
        keyboard([])


def test_a_form_with_every_block_type() -> None:
    form = Form(
        "Time off",
        [
            header("Request"),
            plain_text("Fill in the dates."),
            markdown("See [policy](https://example.com)"),
            divider(),
            text_input("info", "Description", multiline=True, min_length=10, max_length=500),
            select("team", "Team", ["a", Option("Bee", "b", "buzz", selected=True)], required=True),
            radio(
                "reach",
                "Reachable",
                [
                    Option("Phone", "phone", description="calls only"),
                    Option("Mail", "m", selected=True),
                ],
            ),
            checkbox("news", "Newsletters", [Option("Tasks", "tasks", selected=True)]),
            date_picker("start", "Start", initial="2025-07-01"),
            time_picker("at", "At", initial=datetime.time(9, 30)),
            file_input("doc", "Document", filetypes=["pdf"], max_files=1),
        ],
        submit_text="Send",
        close_text="Cancel",
        callback_id="timeoff",
        private_metadata=json.dumps({"id": 4378}),
    )
    sent: dict[str, Any] = unstructure(form.request("trigger-1"))
    assert sent["type"] == "modal"
    assert sent["trigger_id"] == "trigger-1"
    assert sent["callback_id"] == "timeoff"
    assert sent["private_metadata"] == '{"id": 4378}'
    view = sent["view"]
    assert (view["title"], view["submit_text"], view["close_text"]) == (
        "Time off",
        "Send",
        "Cancel",
    )
    types = [b["type"] for b in view["blocks"]]
    assert types == [
        "header",
        "plain_text",
        "markdown",
        "divider",
        "input",
        "select",
        "radio",
        "checkbox",
        "date",
        "time",
        "file_input",
    ]
    blocks = {b.get("name"): b for b in view["blocks"]}
    assert blocks["info"] == {
        "type": "input",
        "name": "info",
        "label": "Description",
        "multiline": True,
        "min_length": 10,
        "max_length": 500,
    }
    assert blocks["team"]["options"] == [
        {"text": "a", "value": "a"},
        {"text": "Bee", "value": "b", "description": "buzz", "selected": True},
    ]
    assert blocks["reach"]["options"] == [
        {"text": "Phone", "value": "phone", "description": "calls only"},
        {"text": "Mail", "value": "m", "checked": True},
    ]
    assert blocks["news"]["options"] == [{"text": "Tasks", "value": "tasks", "checked": True}]
    assert blocks["start"]["initial_date"] == "2025-07-01"
    assert blocks["at"]["initial_time"] == "09:30"
    assert blocks["doc"] == {
        "type": "file_input",
        "name": "doc",
        "label": "Document",
        "filetypes": ["pdf"],
        "max_files": 1,
    }


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: header("h" * 151), r"text: at most 150 characters, got 151"),
        (lambda: plain_text("t" * 12001), r"text: at most 12000"),
        (lambda: markdown("t" * 12001), r"text: at most 12000"),
        (lambda: text_input("n" * 256, "label"), r"name: at most 255"),
        (lambda: text_input("n", "l" * 151), r"label: at most 150"),
        (lambda: text_input("n", "l", placeholder="p" * 151), r"placeholder: at most 150"),
        (lambda: text_input("n", "l", initial_value="v" * 3001), r"initial_value: at most 3000"),
        (lambda: text_input("n", "l", hint="h" * 2001), r"hint: at most 2000"),
        (lambda: text_input("n", "l", min_length=-1), r"min_length: must be between 0 and 3000"),
        (lambda: text_input("n", "l", max_length=0), r"max_length: must be between 1 and 3000"),
        (lambda: text_input("n", "l", max_length=3001), r"max_length: must be between 1 and 3000"),
        (lambda: text_input("n", "l", min_length=9, max_length=5), r"min_length 9 > max_length 5"),
        (lambda: select("n", "l", [str(i) for i in range(101)]), r"options: at most 100 items"),
        (lambda: radio("n", "l", [str(i) for i in range(11)]), r"options: at most 10 items"),
        (lambda: checkbox("n", "l", [str(i) for i in range(11)]), r"options: at most 10 items"),
        (lambda: select("n", "l", ["o" * 76]), r"options\[0\]\.text: at most 75"),
        (lambda: radio("n", "l", [Option("t", "v" * 151)]), r"options\[0\]\.value: at most 150"),
        (lambda: checkbox("n", "l", [Option("t", "v", "d" * 76)]), r"description: at most 75"),
        (lambda: select("n", "l", [Option("t", "v", "d" * 76)]), r"description: at most 75"),
        (
            lambda: radio(
                "n", "l", [Option("a", "a", selected=True), Option("b", "b", selected=True)]
            ),
            r"only one option may be selected",
        ),
        (lambda: date_picker("n", "l", initial="01.07.2025"), r"must be YYYY-MM-DD"),
        (lambda: time_picker("n", "l", initial="9:30"), r"initial_time: must be HH:mm"),
        (lambda: time_picker("n", "l", initial="24:00"), r"initial_time: must be HH:mm"),
        (lambda: file_input("n", "l", max_files=11), r"max_files: must be between 1 and 10"),
        (lambda: Form("t" * 25, [divider()]), r"form\.view\.title: at most 24"),
        (lambda: Form("t", [divider()], submit_text="s" * 25), r"submit_text: at most 24"),
        (lambda: Form("t", [divider()], close_text="c" * 25), r"close_text: at most 24"),
        (lambda: Form("t", [divider()] * 101), r"form\.view\.blocks: at most 100 items"),
        (lambda: Form("t", [divider()], callback_id="c" * 256), r"callback_id: at most 255"),
        (lambda: Form("t", [divider()], private_metadata="m" * 3001), r"private_metadata: at most"),
        (lambda: FormErrors(field="e" * 2001), r"at most 2000 characters"),
        (lambda: FormErrors(), r"at least one field error"),
    ],
)
def test_documented_limits_fail_before_sending(build: Any, message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        build()


def test_hand_built_blocks_are_checked_by_the_form() -> None:
    bad = ViewBlockInput(name="n", label="l", max_length=5000)
    with pytest.raises(InvalidRequestError, match=r"form\.view\.blocks\[1\]\.max_length"):
        Form("t", [divider(), bad])
    two = ViewBlockSelect(
        name="n",
        label="l",
        options=[ViewBlockSelectOption(text=v, value=v, selected=True) for v in "ab"],
    )
    with pytest.raises(InvalidRequestError, match="only one option"):
        Form("t", [two])


def test_form_errors_body() -> None:
    errors = FormErrors({"date-end": "Too early"}, request_doc="No signature")
    assert errors.body() == {"errors": {"date-end": "Too early", "request_doc": "No signature"}}


def test_form_blocks_have_a_type_checkers_can_use() -> None:
    """`Form(title, [radio(...), text_input(...)])` passes mypy --strict and pyright: the
    converter's parameter is what they check `blocks` against (`make lint` checks the README's
    forms too)."""
    import pachca_async.forms

    hints = typing.get_type_hints(Form.__init__, vars(pachca_async.forms))
    assert hints["blocks"] == Iterable[ViewBlockUnion]
    form = Form("t", (block for block in [radio("r", "R", ["1"]), text_input("c", "C")]))
    assert [type(block) for block in form.blocks] == [ViewBlockRadio, ViewBlockInput]
