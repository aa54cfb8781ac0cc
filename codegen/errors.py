"""The one error of code generation, and JSON pointers to say where it is."""

from __future__ import annotations


class SpecError(ValueError):
    """The spec cannot be generated from; `pointer` is the JSON pointer at fault."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(f"{pointer}: {message}" if pointer else message)
        self.pointer = pointer
        self.detail = message


def pointer(*parts: str | int) -> str:
    """A JSON pointer built from unescaped parts."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)
