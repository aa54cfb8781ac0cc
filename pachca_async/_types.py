"""The small vocabulary that models are written in: UNSET, lenient enums, union selectors."""

from __future__ import annotations

import enum
import os
from collections.abc import AsyncIterable, Mapping
from typing import IO, Any, Final, Literal, TypeAlias

import attrs


class Unset(enum.Enum):
    """The type of `UNSET`: a field that was not sent, as opposed to one sent as `null`."""

    UNSET = "UNSET"

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET
"""Marks an argument or field that is absent: never sent, or not in the response."""


class LenientEnum(enum.StrEnum):
    """A string enum that also accepts values it does not list.

    Pachca adds enum values over time; an unknown value parses into a member-like instance of
    the enum (equal to its string, not listed in iteration) instead of failing the response.
    """

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        return member


@attrs.frozen
class Discriminator:
    """How to tell the variants of a union apart: by the values of some keys of the object.

    `variants` maps a tuple of those values to a class; an unknown tuple goes to `fallback`
    (built with the whole object as `raw`), or fails when there is none. With `presence`, the
    tuple says which keys the object has (`"1"`) and which it lacks (`"0"`) instead.
    """

    keys: tuple[str, ...]
    variants: Mapping[tuple[str, ...], type[Any]]
    fallback: type[Any] | None = None
    presence: bool = False


@attrs.frozen
class SelectBy:
    """A field whose union variant is named by a sibling field (`details` by `event_key`)."""

    field: str
    sibling: str
    variants: Mapping[str, type[Any]]
    fallback: type[Any] | None = None


FileSource: TypeAlias = str | os.PathLike[str] | bytes | IO[bytes] | AsyncIterable[bytes]
"""Where file content comes from: a path, `bytes`, a binary file object or an async iterator."""


@attrs.frozen
class InputFile:
    """A file to send, with the name and MIME type it should carry.

    `source` is a path, `bytes`, a binary file object or an async iterator of `bytes`.
    Without `name`, a path's file name is used; without `content_type`, one is guessed.
    `size` declares the length of a stream whose length cannot be found out (an async
    iterator, a pipe), so it can be sent as it is read; sending fails if the stream ends
    early or runs on.
    """

    source: FileSource
    name: str | None = None
    content_type: str | None = None
    size: int | None = None


FileInput: TypeAlias = FileSource | InputFile
"""Anything accepted where the API takes a file: a source, or an `InputFile` naming it."""


__all__ = [
    "UNSET",
    "Discriminator",
    "FileInput",
    "FileSource",
    "InputFile",
    "LenientEnum",
    "SelectBy",
    "Unset",
]
