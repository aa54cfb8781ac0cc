"""The limits Pachca documents for buttons and forms, checked before anything is sent.

The API answers a request that breaks one of them with a 400 about some field; checking first
gives an `InvalidRequestError` naming the exact place (`view.blocks[2].options[0].text`) at
the line that made the mistake. Numbers come from the spec's `maxLength`/`maxItems` and the
buttons and forms guides.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

import attrs

from ._exceptions import InvalidRequestError
from ._generated.models import (
    Button,
    OpenViewRequest,
    OpenViewRequestView,
    ViewBlockCheckbox,
    ViewBlockCheckboxOption,
    ViewBlockDate,
    ViewBlockFileInput,
    ViewBlockHeader,
    ViewBlockInput,
    ViewBlockMarkdown,
    ViewBlockPlainText,
    ViewBlockRadio,
    ViewBlockSelect,
    ViewBlockSelectableOption,
    ViewBlockSelectOption,
    ViewBlockTime,
)
from ._types import UNSET

_FIELD = {"name": 255, "label": 150, "hint": 2000}
_OPTION = {"text": 75, "value": 150, "description": 75}

MAX_LENGTH: Mapping[type[Any], Mapping[str, int]] = {
    Button: {"text": 255, "data": 255},
    OpenViewRequest: {"private_metadata": 3000, "callback_id": 255},
    OpenViewRequestView: {"title": 24, "close_text": 24, "submit_text": 24, "blocks": 100},
    ViewBlockHeader: {"text": 150},
    ViewBlockPlainText: {"text": 12000},
    ViewBlockMarkdown: {"text": 12000},
    ViewBlockInput: {**_FIELD, "placeholder": 150, "initial_value": 3000},
    ViewBlockSelect: {**_FIELD, "options": 100},
    ViewBlockRadio: {**_FIELD, "options": 10},
    ViewBlockCheckbox: {**_FIELD, "options": 10},
    ViewBlockDate: _FIELD,
    ViewBlockTime: _FIELD,
    ViewBlockFileInput: _FIELD,
    ViewBlockSelectOption: _OPTION,
    ViewBlockSelectableOption: _OPTION,
    ViewBlockCheckboxOption: _OPTION,
}
"""Most characters (strings) or items (lists) per field, by model."""

FORM_ERROR_LENGTH = 2000
"""Most characters of one field's error text in an answer to a form submission."""

_HH_MM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def check(value: Any, where: str) -> None:
    """Raise `InvalidRequestError` for the first documented limit `value` breaks.

    `value` is a model or a list of models; nested models are checked too.
    """
    if isinstance(value, list):
        for index, item in enumerate(value):
            check(item, f"{where}[{index}]")
        return
    cls = type(value)
    if not attrs.has(cls):
        return
    limits = MAX_LENGTH.get(cls, {})
    for field in attrs.fields(cls):
        item = getattr(value, field.name)
        limit = limits.get(field.name)
        if limit is not None and isinstance(item, str | list) and len(item) > limit:
            unit = "characters" if isinstance(item, str) else "items"
            fail(f"{where}.{field.name}", f"at most {limit} {unit}, got {len(item)}")
        check(item, f"{where}.{field.name}")
    rule = _RULES.get(cls)
    if rule is not None:
        rule(value, where)


def fail(where: str, problem: str) -> NoReturn:
    raise InvalidRequestError(f"{where}: {problem}")


def _in_range(value: Any, low: int, high: int, where: str) -> None:
    if value is not UNSET and not low <= value <= high:
        fail(where, f"must be between {low} and {high}, got {value}")


def _button(button: Button, where: str) -> None:
    if (button.url is UNSET) == (button.data is UNSET):
        fail(where, "a button has either `url` (a link) or `data` (a click webhook), not both")


def _input(block: ViewBlockInput, where: str) -> None:
    _in_range(block.min_length, 0, 3000, f"{where}.min_length")
    _in_range(block.max_length, 1, 3000, f"{where}.max_length")
    low, high = block.min_length, block.max_length
    if low is not UNSET and high is not UNSET and low > high:
        fail(where, f"min_length {low} > max_length {high}")


def _single_choice(block: ViewBlockSelect | ViewBlockRadio, where: str) -> None:
    # A select option says `selected`; a radio option, like a checkbox, says `checked`.
    chosen = [
        o.value
        for o in block.options
        if (o.selected if isinstance(o, ViewBlockSelectOption) else o.checked) is True
    ]
    if len(chosen) > 1:
        fail(f"{where}.options", f"only one option may be selected, got {chosen}")


def _time(block: ViewBlockTime, where: str) -> None:
    if block.initial_time is not UNSET and not _HH_MM.fullmatch(block.initial_time):
        fail(f"{where}.initial_time", f"must be HH:mm, got {block.initial_time!r}")


def _file_input(block: ViewBlockFileInput, where: str) -> None:
    _in_range(block.max_files, 1, 10, f"{where}.max_files")


_RULES: Mapping[type[Any], Callable[[Any, str], None]] = {
    Button: _button,
    ViewBlockInput: _input,
    ViewBlockSelect: _single_choice,
    ViewBlockRadio: _single_choice,
    ViewBlockTime: _time,
    ViewBlockFileInput: _file_input,
}
