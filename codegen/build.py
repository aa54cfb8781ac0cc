"""From a loaded spec to rendered files: validation with pointers, normalize, parse, render."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pydantic
from openapi_python_client.config import Config, ConfigFile, MetaType
from openapi_python_client.parser import GeneratorData
from openapi_python_client.schema import OpenAPI

from .normalize import Notes, SpecError, normalize, operations, pointer
from .overlay import Overlay
from .render import ViewBuilder, render

CONFIG = ConfigFile(use_path_prefixes_for_title_model_names=False, docstrings_on_attributes=True)


class GenerationError(SpecError):
    """The spec cannot be generated from: the message names the JSON pointer at fault."""


def build(spec: dict[str, Any], out: Path, overlay: Overlay, notes: Notes) -> list[Path]:
    """Render the generated package for `spec` into the empty folder `out`.

    Whatever goes wrong comes out as a `GenerationError`, never a traceback: a bug of ours that
    a new spec trips over still names the step it happened in.
    """
    step = "normalize"
    try:
        fixed = normalize(spec, overlay, notes)
        step = "validate"
        validate(fixed)
        step = "parse"
        parsed = parse(fixed)
        step = "render"
        return render(ViewBuilder(fixed, parsed, overlay, notes).build(), out)
    except SpecError as error:
        raise GenerationError(error.pointer, error.detail) from None
    except Exception as error:  # reported with the step it failed in, instead of a traceback
        detail = f"{step} failed on this spec: {type(error).__name__}: {error}"
        raise GenerationError("", detail) from None


def validate(spec: dict[str, Any]) -> None:
    """Check the document against the OpenAPI 3 schema; report the first error's pointer."""
    try:
        OpenAPI.model_validate(spec)
    except pydantic.ValidationError as error:
        first = error.errors()[0]
        where = _pointer_of(spec, first["loc"])
        if first["type"] == "missing" and first["loc"]:
            where += pointer(first["loc"][-1])
        raise SpecError(where, first["msg"]) from None


def _pointer_of(spec: Any, loc: tuple[int | str, ...]) -> str:
    """Follow pydantic's error location through the document, skipping its model names."""
    parts: list[str | int] = []
    node = spec
    for key in loc:
        if isinstance(node, list) and isinstance(key, int):
            found = 0 <= key < len(node)
        else:
            found = isinstance(node, dict) and key in node
        if not found:
            continue  # a model name in pydantic's location, not a document key
        node = node[key]
        parts.append(key)
    return pointer(*parts)


def parse(spec: dict[str, Any]) -> GeneratorData:
    config = Config.from_sources(CONFIG, MetaType.NONE, Path("openapi.yaml"), "utf-8", False, None)
    parsed = GeneratorData.from_dict(spec, config=config)
    if not isinstance(parsed, GeneratorData):
        raise SpecError("", f"{parsed.header}: {parsed.detail}")
    errors = list(parsed.errors)
    for collection in parsed.endpoint_collections_by_tag.values():
        errors += collection.parse_errors
    if errors:
        first = errors[0]
        message = f"{first.header}: {first.detail}".strip(": ")
        raise SpecError(_locate(spec, message), message)
    return parsed


def _locate(spec: dict[str, Any], message: str) -> str:
    """The operation or schema an openapi-python-client error message names, if any."""
    for path, method, op in operations(spec):
        if op["operationId"] in message or re.search(rf"\b{re.escape(path)}\b", message):
            return pointer("paths", path, method)
    for name in spec.get("components", {}).get("schemas", {}):
        if re.search(rf"\b{re.escape(name)}\b", message):
            return pointer("components", "schemas", name)
    return ""
