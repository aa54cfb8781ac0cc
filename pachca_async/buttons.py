"""Inline buttons under a bot's message, checked against Pachca's limits before sending.

```python
from pachca_async.buttons import data_button, keyboard, url_button

await pachca.messages.create_message(
    entity_id=chat_id,
    content="Deploy to production?",
    buttons=keyboard(
        [data_button("Yes", "deploy:yes"), data_button("No", "deploy:no")],
        [url_button("Changelog", "https://example.com/changes")],
    ),
)
```

A data button sends a `button`/`click` webhook carrying its `data`; a URL button opens a link.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._generated.models import Button
from ._limits import check, fail

MAX_ROWS = 32
MAX_BUTTONS = 100


def url_button(text: str, url: str) -> Button:
    """A button that opens `url` (Pachca asks the user to confirm first)."""
    button = Button(text=text, url=url)
    check(button, "button")
    return button


def data_button(text: str, data: str) -> Button:
    """A button whose click sends `data` (at most 255 characters) to the bot's webhook."""
    button = Button(text=text, data=data)
    check(button, "button")
    return button


def keyboard(*rows: Sequence[Button]) -> list[list[Button]]:
    """Rows of buttons for `create_message(buttons=...)` / `update_message(buttons=...)`.

    Checks every button (also ones built by hand) and the documented totals: at most
    32 rows and 100 buttons. `keyboard()` with no rows removes a message's buttons.
    """
    layout = [list(row) for row in rows]
    if len(layout) > MAX_ROWS:
        fail("buttons", f"at most {MAX_ROWS} rows, got {len(layout)}")
    total = sum(len(row) for row in layout)
    if total > MAX_BUTTONS:
        fail("buttons", f"at most {MAX_BUTTONS} buttons, got {total}")
    for index, row in enumerate(layout):
        if not row:
            fail(f"buttons[{index}]", "a row needs at least one button")
        check(row, f"buttons[{index}]")
    return layout


__all__ = ["MAX_BUTTONS", "MAX_ROWS", "Button", "data_button", "keyboard", "url_button"]
