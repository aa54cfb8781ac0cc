"""Forms (modal views): build one, open it from a button click, answer its submission.

```python
from pachca_async import forms

FEEDBACK = forms.Form(
    "Feedback",
    [
        forms.header("How did we do?"),
        forms.radio("score", "Score", ["1", "2", "3", "4", "5"], required=True),
        forms.text_input("comment", "Comment", multiline=True, max_length=500),
    ],
    submit_text="Send",
    callback_id="feedback",
)

@dp.button_click(lambda click: click.data == "feedback")
async def ask(click, pachca, trigger):
    await forms.open_form(pachca, trigger, FEEDBACK)  # within 3 s of the click

@dp.view_submit(CallbackId("feedback"))
async def received(submit, pachca):
    if not submit.data.get("comment"):
        return forms.FormErrors(comment="Tell us a little more")  # the form stays open
    # returning anything else closes the form
```

A submission is answered once: by the webhook's HTTP answer (within 3 s), or, for a bot that
reads its events without a webhook URL, by `views.submit_view_response`. Pachca does not say how
long that call is accepted, so nothing here guesses: a late answer is refused by Pachca, as
`SubmitExpiredError`. A handler returning its verdict works either way; one that wants to answer
first and work on can `await answer(...)` (the `FormAnswer` the bot layer hands it), and
`answer_form` answers a submission read by hand.

Every builder checks the limits Pachca documents (lengths, option counts, one preselected
option) and raises `InvalidRequestError` naming the field; `Form` checks the whole view
again, so blocks built by hand as models are checked too.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

import attrs

from ._exceptions import InvalidRequestError, SubmitExpiredError
from ._generated.models import (
    OpenViewRequest,
    OpenViewRequestView,
    ViewBlockCheckbox,
    ViewBlockCheckboxOption,
    ViewBlockDate,
    ViewBlockDivider,
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
    ViewBlockUnion,
    ViewSubmitWebhookPayload,
)
from ._limits import FORM_ERROR_LENGTH, check, fail
from ._types import UNSET, Unset

if TYPE_CHECKING:
    from ._client import PachcaClient

T = TypeVar("T")
B = TypeVar("B")
_Option = TypeVar("_Option", ViewBlockSelectableOption, ViewBlockCheckboxOption)

TRIGGER_LIFETIME = 3.0
"""Seconds a button click's `trigger_id` can open a form."""


def _given(value: T | None) -> T | Unset:
    return UNSET if value is None else value


def _checked(block: T) -> T:
    check(block, type(block).__name__)
    return block


# -- content blocks ------------------------------------------------------------------------


def header(text: str) -> ViewBlockHeader:
    """A heading (at most 150 characters)."""
    return _checked(ViewBlockHeader(text=text))


def plain_text(text: str) -> ViewBlockPlainText:
    """Unformatted text (at most 12000 characters)."""
    return _checked(ViewBlockPlainText(text=text))


def markdown(text: str) -> ViewBlockMarkdown:
    """Formatted text (at most 12000 characters); lists and quotes are not rendered."""
    return _checked(ViewBlockMarkdown(text=text))


def divider() -> ViewBlockDivider:
    """A separator line."""
    return ViewBlockDivider()


# -- fields --------------------------------------------------------------------------------
# `name` is the key of the field's value in the submission's `data`; `required` fields must be
# filled in; `hint` is grey text under the field (at most 2000 characters).


def _field(
    cls: Callable[..., B],
    name: str,
    label: str,
    required: bool | None,
    hint: str | None,
    **rest: Any,
) -> B:
    """A checked field block; `None` arguments are left out."""
    given = {key: _given(value) for key, value in rest.items()}
    return _checked(
        cls(name=name, label=label, required=_given(required), hint=_given(hint), **given)
    )


def text_input(
    name: str,
    label: str,
    *,
    placeholder: str | None = None,
    multiline: bool | None = None,
    initial_value: str | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    required: bool | None = None,
    hint: str | None = None,
) -> ViewBlockInput:
    """A text field; Pachca enforces `min_length`/`max_length` (0–3000) on what users type."""
    return _field(
        ViewBlockInput,
        name,
        label,
        required,
        hint,
        placeholder=placeholder,
        multiline=multiline,
        initial_value=initial_value,
        min_length=min_length,
        max_length=max_length,
    )


@attrs.frozen
class Option:
    """A choice in a select, radio or checkbox block; `selected` preselects (checks) it.

    On the wire a select option says `selected`, radio and checkbox options say `checked`.
    """

    text: str
    value: str
    description: str | None = None
    """Grey text under the choice."""
    selected: bool = False


OptionLike = Option | str
"""An `Option`, or a string used as both its text and its value."""


def _options(items: Sequence[OptionLike]) -> list[Option]:
    return [Option(item, item) if isinstance(item, str) else item for item in items]


def _checkable(options: Sequence[OptionLike], make: Callable[..., _Option]) -> list[_Option]:
    """Radio and checkbox options: both say `checked` where a select option says `selected`."""
    return [
        make(
            text=o.text,
            value=o.value,
            description=_given(o.description),
            checked=o.selected or UNSET,
        )
        for o in _options(options)
    ]


def select(
    name: str,
    label: str,
    options: Sequence[OptionLike],
    *,
    required: bool | None = None,
    hint: str | None = None,
) -> ViewBlockSelect:
    """A dropdown: at most 100 options, at most one selected."""
    choices = [
        ViewBlockSelectOption(
            text=o.text,
            value=o.value,
            description=_given(o.description),
            selected=o.selected or UNSET,
        )
        for o in _options(options)
    ]
    return _field(ViewBlockSelect, name, label, required, hint, options=choices)


def radio(
    name: str,
    label: str,
    options: Sequence[OptionLike],
    *,
    required: bool | None = None,
    hint: str | None = None,
) -> ViewBlockRadio:
    """Radio buttons: at most 10 options, at most one selected."""
    choices = _checkable(options, ViewBlockSelectableOption)
    return _field(ViewBlockRadio, name, label, required, hint, options=choices)


def checkbox(
    name: str,
    label: str,
    options: Sequence[OptionLike],
    *,
    required: bool | None = None,
    hint: str | None = None,
) -> ViewBlockCheckbox:
    """Checkboxes: at most 10; the submission carries the list of checked values."""
    choices = _checkable(options, ViewBlockCheckboxOption)
    return _field(ViewBlockCheckbox, name, label, required, hint, options=choices)


def date_picker(
    name: str,
    label: str,
    *,
    initial: datetime.date | str | None = None,
    required: bool | None = None,
    hint: str | None = None,
) -> ViewBlockDate:
    """A date field; `initial` is a date or `YYYY-MM-DD`. The submission carries `YYYY-MM-DD`."""
    day = _date(initial, f"date_picker {name!r}.initial")
    return _field(ViewBlockDate, name, label, required, hint, initial_date=day)


def _date(value: datetime.date | str | None, where: str) -> datetime.date | None:
    if not isinstance(value, str):
        return value
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        fail(where, f"must be YYYY-MM-DD, got {value!r}")


def time_picker(
    name: str,
    label: str,
    *,
    initial: datetime.time | str | None = None,
    required: bool | None = None,
    hint: str | None = None,
) -> ViewBlockTime:
    """A time field; `initial` is a time or `HH:mm`. The submission carries `HH:mm`."""
    if isinstance(initial, datetime.time):
        initial = initial.strftime("%H:%M")
    return _field(ViewBlockTime, name, label, required, hint, initial_time=initial)


def file_input(
    name: str,
    label: str,
    *,
    filetypes: Sequence[str] | None = None,
    max_files: int | None = None,
    required: bool | None = None,
    hint: str | None = None,
) -> ViewBlockFileInput:
    """A file upload field: `filetypes` are extensions (`["pdf", "png"]`), `max_files` 1–10.

    The submission carries a list of `{name, size, url}`; the URLs live for one hour.
    """
    types = None if filetypes is None else list(filetypes)
    return _field(
        ViewBlockFileInput, name, label, required, hint, filetypes=types, max_files=max_files
    )


# -- the view ------------------------------------------------------------------------------


def _blocks(blocks: Iterable[ViewBlockUnion]) -> tuple[ViewBlockUnion, ...]:
    # A typed converter: with a bare `tuple`, type checkers cannot tell what `blocks` takes.
    return tuple(blocks)


@attrs.frozen
class Form:
    """A modal view: a title (at most 24 characters) and at most 100 blocks.

    `callback_id` (at most 255 characters) and `private_metadata` (at most 3000) come back
    with the submission: use the first to tell forms apart, the second to carry context.
    """

    title: str
    blocks: tuple[ViewBlockUnion, ...] = attrs.field(converter=_blocks)
    submit_text: str | None = attrs.field(default=None, kw_only=True)
    close_text: str | None = attrs.field(default=None, kw_only=True)
    """Shown on desktop only; mobile apps show a close icon."""
    callback_id: str | None = attrs.field(default=None, kw_only=True)
    private_metadata: str | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        check(self.request("-"), "form")

    def view(self) -> OpenViewRequestView:
        """The view as the API model."""
        return OpenViewRequestView(
            title=self.title,
            blocks=list(self.blocks),
            submit_text=_given(self.submit_text),
            close_text=_given(self.close_text),
        )

    def request(self, trigger_id: str) -> OpenViewRequest:
        """The `views.open_view` request that shows this form for `trigger_id`."""
        return OpenViewRequest(
            trigger_id=trigger_id,
            view=self.view(),
            callback_id=_given(self.callback_id),
            private_metadata=_given(self.private_metadata),
        )


@attrs.frozen
class Trigger:
    """A button click's permission to open a form, and when it runs out.

    The bot layer hands one to button click handlers as `trigger`.
    """

    id: str
    expires_at: float
    """On the event loop's clock (`loop.time()`): 3 s after the click reached the bot."""

    def remaining(self) -> float:
        """Seconds left to open a form (negative once expired)."""
        return self.expires_at - asyncio.get_running_loop().time()


class TriggerExpiredError(InvalidRequestError):
    """The 3 s to open a form from a click are over; nothing was sent.

    When the window closes on Pachca's side first, the API answers 410 (`GoneError`).
    """


async def open_form(pachca: PachcaClient, trigger: Trigger | str, form: Form) -> None:
    """Show `form` to the user who clicked; with a `Trigger`, fails fast once it expired."""
    if isinstance(trigger, str):
        trigger_id = trigger
    else:
        late = -trigger.remaining()
        if late >= 0:
            raise TriggerExpiredError(
                f"trigger {trigger.id} expired {late:.2f} s ago: a form opens only within "
                f"{TRIGGER_LIFETIME:.0f} s of the click"
            )
        trigger_id = trigger.id
    await pachca.views.open_view(body=form.request(trigger_id))


@attrs.frozen(init=False)
class FormErrors:
    """Return this from a form submission handler to keep the form open with these errors.

    ```python
    return FormErrors(date_end="Must be after the start date")
    return FormErrors({"date-end": "..."})  # names that are not Python identifiers
    ```

    The receiver answers HTTP 400 with `{"errors": {name: text}}`; anything else a handler
    returns closes the form (HTTP 200). Each text is at most 2000 characters.
    """

    errors: Mapping[str, str]

    def __init__(self, errors: Mapping[str, str] | None = None, /, **by_name: str) -> None:
        merged = {**(errors or {}), **by_name}
        if not merged:
            raise InvalidRequestError("FormErrors needs at least one field error")
        for name, text in merged.items():
            if len(text) > FORM_ERROR_LENGTH:
                fail(f"FormErrors[{name!r}]", f"at most {FORM_ERROR_LENGTH} characters")
        self.__attrs_init__(errors=merged)

    def body(self) -> dict[str, Any]:
        """The JSON body of the 400 answer."""
        return {"errors": dict(self.errors)}


async def answer_form(
    pachca: PachcaClient, submission: ViewSubmitWebhookPayload, errors: FormErrors | None = None
) -> None:
    """Answer `submission` through the API: `errors` keep the form open, none close it.

    For a submission read without a webhook (from the event history); a webhook's submission
    is answered by the HTTP answer to it instead (the bot layer does both). Raises
    `SubmitExpiredError` when Pachca no longer takes an answer to it.
    """
    await pachca.views.submit_view_response(
        submission.view_id,
        submit_id=submission.submit_id,
        errors=UNSET if errors is None else dict(errors.errors),
    )


Deliver: TypeAlias = Callable[[FormErrors | None], Awaitable[None]]
"""Where a `FormAnswer` goes: the webhook's HTTP answer, or `views.submit_view_response`."""


class FormAnswer:
    """The one answer to a form submission; the bot layer hands it to handlers as `answer`.

    ```python
    @dp.view_submit(CallbackId("order"))
    async def order(form, answer: FormAnswer, pachca) -> None:
        if not form.data.get("address"):
            await answer(FormErrors(address="Where should we deliver?"))
            return
        await answer()  # the form closes now ...
        await place_order(form.data)  # ... while the work goes on
    ```

    A handler that returns without answering is answered for: with the `FormErrors` it
    returned, or closed. A second answer raises before anything is sent, and so does one
    after the webhook receiver closed the form for lack of time. An answer through the API
    has no deadline on this side: Pachca refuses a late one (`SubmitExpiredError`).
    """

    def __init__(
        self, view_id: str, submit_id: str, deliver: Deliver, *, expires_at: float | None = None
    ) -> None:
        self.view_id = view_id
        self.submit_id = submit_id
        self.expires_at = expires_at
        """When the webhook's answer is due, on the event loop's clock (`loop.time()`); `None`
        for an answer through the API, whose deadline Pachca keeps to itself."""
        self.answered = False
        self._closed = False
        self._deliver = deliver

    def __repr__(self) -> str:
        return f"<FormAnswer {self.submit_id} answered={self.answered}>"

    def remaining(self) -> float | None:
        """Seconds left to answer (negative once expired); `None` when no deadline is known."""
        if self.expires_at is None:
            return None
        return self.expires_at - asyncio.get_running_loop().time()

    def close(self) -> None:
        """Mark the submission closed by the webhook receiver, whose time to answer ran out."""
        self.answered = self._closed = True

    async def __call__(self, errors: FormErrors | None = None) -> None:
        """Keep the form open with `errors`, or close it; once."""
        if self._closed:
            raise InvalidRequestError(
                f"form submission {self.submit_id} was closed already: the webhook's time to "
                "answer ran out before this answer"
            )
        if self.answered:
            raise InvalidRequestError(f"form submission {self.submit_id} was answered already")
        self.answered = True
        await self._deliver(errors)


__all__ = [
    "TRIGGER_LIFETIME",
    "Form",
    "FormAnswer",
    "FormErrors",
    "Option",
    "OptionLike",
    "SubmitExpiredError",
    "Trigger",
    "TriggerExpiredError",
    "answer_form",
    "checkbox",
    "date_picker",
    "divider",
    "file_input",
    "header",
    "markdown",
    "open_form",
    "plain_text",
    "radio",
    "select",
    "text_input",
    "time_picker",
]
