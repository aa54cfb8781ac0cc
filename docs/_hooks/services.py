"""mkdocs hook: the Services reference lists the services a `PachcaClient` really has.

The page is written at build time from the client's attributes, so a service added by
`make generate` (or a hand-written subclass such as `Files`) is documented without anyone
editing the page.
"""

from __future__ import annotations

from typing import Any

from pachca_async import PachcaClient
from pachca_async._service import Service

PAGE = "reference/services.md"
MARKER = "<!-- services -->"


def services() -> list[tuple[str, type[Service]]]:
    """`(attribute, class)` for every service of a client, by attribute name."""
    client = PachcaClient("documentation")  # makes no connection until a call is made
    found = [(name, value) for name, value in vars(client).items() if isinstance(value, Service)]
    return sorted((name, type(value)) for name, value in found)


def section(attribute: str, cls: type[Service]) -> str:
    return "\n".join(
        [
            f"## `pachca.{attribute}`",
            "",
            f"::: {cls.__module__}.{cls.__qualname__}",
            "    options:",
            "      show_root_heading: false",
            "      heading_level: 3",
            "      inherited_members: true",  # a hand-written subclass shows the generated calls
            '      filters: ["!^_"]',
            "",
        ]
    )


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    assert MARKER in markdown, f"{PAGE} has lost its {MARKER} line"
    return markdown.replace(MARKER, "\n".join(section(*found) for found in services()))
