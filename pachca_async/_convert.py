"""The one cattrs Converter: JSON-ready data ⇄ generated models, used for every body.

Parsing is the hot path of every list call (a 50-message page is hundreds of objects), so
every hook here is a direct function built once per type: no per-value dispatch.

Rules the API needs:
- absent keys stay `UNSET`, `null` is `None`, and `UNSET` fields are never sent;
- unknown keys are ignored and unknown enum values accepted (Pachca adds both over time);
- union variants are picked by the rules the normalize pass found (`DISCRIMINATORS`,
  `SELECTORS`), never by trial and error;
- JSON names that are not Python names (`x-amz-signature`, `type`) are renamed both ways.
"""

from __future__ import annotations

import datetime
import functools
import json
import types
import typing
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.gen import make_dict_unstructure_fn, override

from ._generated.models import DISCRIMINATORS, SELECTORS
from ._types import UNSET, Discriminator, LenientEnum, SelectBy, Unset

T = TypeVar("T")
StructureHook = Callable[[Any, Any], Any]


def _identity(value: Any, _: Any = None) -> Any:
    return value


def _is_union(t: Any) -> bool:
    return get_origin(t) in (Union, types.UnionType)


def _structure_datetime(value: Any, _: Any) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.fromisoformat(value)


def _structure_date(value: Any, _: Any) -> datetime.date:
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(value)


def _unstructure_datetime(value: datetime.datetime) -> str:
    if value.tzinfo is not None and value.utcoffset() == datetime.timedelta(0):
        return value.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
    return value.isoformat()


def _lenient_enum_hook(cls: type[LenientEnum]) -> StructureHook:
    known = cls._value2member_map_

    def structure(value: Any, _: Any) -> Any:
        member = known.get(value)
        return member if member is not None else cls(value)

    return structure


def _send_overrides(cls: type[Any]) -> dict[str, Any]:
    """Per-field overrides for sending: JSON names, and `UNSET` fields left out."""
    overrides = {}
    for a in attrs.fields(cls):
        options: dict[str, Any] = {}
        if "json" in a.metadata:
            options["rename"] = a.metadata["json"]
        if a.default is UNSET:
            options["omit_if_default"] = True
        if options:
            overrides[a.name] = override(**options)
    return overrides


class _Converter(cattrs.Converter):
    def __init__(self) -> None:
        super().__init__(forbid_extra_keys=False, detailed_validation=False)
        self.register_structure_hook(datetime.datetime, _structure_datetime)
        self.register_structure_hook(datetime.date, _structure_date)
        self.register_unstructure_hook(datetime.datetime, _unstructure_datetime)
        self.register_unstructure_hook(datetime.date, lambda d: d.isoformat())
        self.register_structure_hook(Any, _identity)
        self.register_unstructure_hook(Unset, _identity)
        self.register_structure_hook_factory(
            lambda t: isinstance(t, type) and issubclass(t, LenientEnum), _lenient_enum_hook
        )
        self.register_unstructure_hook_func(
            lambda t: isinstance(t, type) and issubclass(t, Enum), lambda e: e.value
        )
        self.register_structure_hook_func(_is_passthrough, _identity)
        self.register_structure_hook_factory(_is_union, self._union_hook)
        self.register_structure_hook_factory(attrs.has, self._model_hook)
        self.register_unstructure_hook_factory(attrs.has, self._model_unstructure_hook)

    # -- unions ------------------------------------------------------------------------------

    def _union_hook(self, t: Any) -> StructureHook:
        """`X | Unset`, `X | None`, and discriminated unions of models."""
        rule = DISCRIMINATORS.get(t)
        if rule is not None:
            return self._discriminated_hook(rule)
        members = [m for m in get_args(t) if m is not Unset and m is not type(None)]
        nullable = type(None) in get_args(t)
        if len(members) == 1:
            inner = self._member_hook(members[0])
        else:
            rule = DISCRIMINATORS.get(Union[tuple(members)])  # noqa: UP007
            inner = self._discriminated_hook(rule) if rule else _undecidable(t)
        if not nullable:
            return inner

        def structure_nullable(value: Any, _: Any) -> Any:
            return None if value is None else inner(value, None)

        return structure_nullable

    def _member_hook(self, t: Any) -> StructureHook:
        """A hook for `t` that does not need its type argument (JSON scalars pass through)."""
        if t in (str, int, float, bool):
            return _identity
        hook = self.get_structure_hook(t)
        return lambda value, _: hook(value, t)

    def _discriminated_hook(self, rule: Discriminator) -> StructureHook:
        keys, presence = rule.keys, rule.presence
        hooks = {values: self._bound(cls) for values, cls in rule.variants.items()}
        fallback = self._fallback(rule.fallback)

        def structure_variant(value: Any, _: Any) -> Any:
            if not isinstance(value, Mapping):
                raise TypeError(f"expected an object, got {type(value).__name__}")
            if presence:
                hook = hooks.get(tuple("1" if k in value else "0" for k in keys))
            else:
                hook = hooks.get(tuple(str(value.get(k)) for k in keys))
            if hook is not None:
                return hook(value)
            if fallback is not None:
                return fallback(value)
            raise ValueError(f"unknown variant {tuple(value.get(k) for k in keys)!r}")

        return structure_variant

    def _bound(self, cls: type[T]) -> Callable[[Any], T]:
        hook = self.get_structure_hook(cls)
        return lambda value: hook(value, cls)

    def _fallback(self, cls: type[Any] | None) -> Callable[[Any], Any] | None:
        """Unknown variants keep the whole object as `raw` (and whatever else they declare)."""
        if cls is None:
            return None
        hook = self._bound(cls)
        return lambda value: hook({**value, "raw": value})

    # -- models ------------------------------------------------------------------------------

    def _model_hook(self, cls: type[Any]) -> StructureHook:
        return _ModelCompiler(self, cls).compile()

    def _selector(self, selector: SelectBy) -> Callable[[Any], Any]:
        """Structure `selector.field` of a JSON object by the variant its sibling names."""
        hooks = {key: self._bound(cls) for key, cls in selector.variants.items()}
        fallback = self._fallback(selector.fallback) or (lambda value: value)
        name, sibling = selector.field, selector.sibling

        def select(obj: Mapping[str, Any]) -> Any:
            return hooks.get(str(obj.get(sibling)), fallback)(obj[name])

        return select

    def _model_unstructure_hook(self, cls: type[Any]) -> Callable[[Any], Any]:
        overrides = _send_overrides(cls)
        return make_dict_unstructure_fn(cls, self, **overrides)


class _ModelCompiler:
    """Compiles one model's structure hook into straight-line Python.

    cattrs' generated hooks call the attrs `__init__` with keywords and a hook per field; for
    the pages this SDK parses that is most of the time spent. This compiler writes the fields
    into a fresh instance directly, inlines what JSON scalars, enums, datetimes, lists and
    `null` need, and calls out only for nested models and unions (through the converter, so
    every nested type still gets its registered hook).
    """

    def __init__(self, converter: _Converter, cls: type[Any]) -> None:
        self.converter = converter
        self.cls = cls
        self.names: dict[str, Any] = {
            "__cl": cls,
            "__new": object.__new__,
            "__UNSET": UNSET,
            "__fromiso": datetime.datetime.fromisoformat,
            "__date_fromiso": datetime.date.fromisoformat,
        }
        self.depth = 0

    def compile(self) -> StructureHook:
        attrs.resolve_types(self.cls)
        selector = SELECTORS.get(self.cls)
        lines = ["def structure(o, _=None):", "    i = __new(__cl)"]
        for a in attrs.fields(self.cls):
            key = a.metadata.get("json", a.name)
            if selector is not None and a.name == selector.field:
                self.names["__select"] = self.converter._selector(selector)
                value = "__select(o)"
            else:
                value = self.expression(a.type, f"o[{key!r}]")
            if a.default is UNSET and value == f"o[{key!r}]":
                lines.append(f"    i.{a.name} = o.get({key!r}, __UNSET)")
            elif a.default is UNSET:
                lines.append(f"    i.{a.name} = {value} if {key!r} in o else __UNSET")
            elif a.default is attrs.NOTHING:
                lines.append(f"    i.{a.name} = {value}")
            else:  # a one-value Literal: the API may leave it out
                self.names[f"__default_{a.name}"] = a.default
                lines.append(f"    i.{a.name} = o.get({key!r}, __default_{a.name})")
        lines.append("    return i")
        namespace = dict(self.names)
        exec(compile("\n".join(lines), f"<structure {self.cls.__name__}>", "exec"), namespace)
        return namespace["structure"]  # type: ignore[no-any-return]

    def expression(self, t: Any, source: str) -> str:
        """Python source turning the JSON value `source` into a value of type `t`."""
        if t in (str, int, float, bool, Any) or _is_passthrough(t):
            return source
        if t is datetime.datetime:
            return f"__fromiso({source})"
        if t is datetime.date:
            return f"__date_fromiso({source})"
        if isinstance(t, type) and issubclass(t, LenientEnum):
            name = self.bind(t.__name__, t)
            self.names[f"__known_{name}"] = t._value2member_map_
            var = self.variable()
            return f"(__known_{name}.get({var} := {source}) or {name}({var}))"
        if get_origin(t) is list:
            (item,) = get_args(t)
            var = self.variable()
            return f"[{self.expression(item, var)} for {var} in {source}]"
        if _is_union(t) and t not in DISCRIMINATORS:
            members = [m for m in get_args(t) if m is not Unset]
            rest = [m for m in members if m is not type(None)]
            if len(rest) < len(members):
                inner = Union[tuple(rest)] if len(rest) > 1 else rest[0]  # noqa: UP007
                var = self.variable()
                value = self.expression(inner, var)
                if value == var:
                    return source
                return f"(None if ({var} := {source}) is None else {value})"
            if len(rest) == 1:
                return self.expression(rest[0], source)
        hook = self.converter.get_structure_hook(t)
        name = self.bind("hook", hook)
        type_name = self.bind("type", t)
        return f"{name}({source}, {type_name})"

    def bind(self, prefix: str, value: Any) -> str:
        for name, bound in self.names.items():
            if bound is value and name.startswith(f"__{prefix}"):
                return name
        name = f"__{prefix}_{len(self.names)}"
        self.names[name] = value
        return name

    def variable(self) -> str:
        self.depth += 1
        return f"v{self.depth}"


def _is_passthrough(t: Any) -> bool:
    """JSON values used as they are: one-value `Literal`s and free-form objects."""
    return get_origin(t) is Literal or _is_plain_mapping(t)


def _undecidable(t: Any) -> StructureHook:
    def structure(value: Any, _: Any) -> Any:
        raise TypeError(f"no rule tells the members of {t} apart")

    return structure


def _is_plain_mapping(t: Any) -> bool:
    """`dict[str, Any]`: free-form JSON objects pass through untouched."""
    return get_origin(t) in (dict, Mapping, typing.Mapping) and get_args(t)[1:] == (Any,)


@functools.cache
def _parsed_hook(t: Any) -> Callable[[Any], Any]:
    if get_origin(t) is not list:
        hook = converter.get_structure_hook(t)
        return lambda value: hook(value, t)
    (item_type,) = get_args(t)
    item_hook = converter.get_structure_hook(item_type)

    def consume(items: Any) -> list[Any]:
        if type(items) is not list:
            raise TypeError(f"expected a list, got {type(items).__name__}")
        items.reverse()  # then pop() hands the items back in order, each let go once read
        pop = items.pop
        return [item_hook(pop(), item_type) for _ in range(len(items))]

    return consume


def structure_parsed(value: Any, t: Any) -> Any:
    """`structure` for a JSON value this SDK just parsed and nothing else refers to.

    For a `list[...]` type, `value` must be a list (a `TypeError` otherwise) and is emptied as
    it is read, so each raw item is freed as soon as its model exists: the raw page and its
    models are never both whole in memory. CPython's garbage collector runs by the count of
    containers allocated and not yet freed; a 50-message page whose raw copy lives to the end
    crosses that count every time (about one collection a page, some of them full), read this
    way it stays below.
    """
    return _parsed_hook(t)(value)


def _json_loads() -> Callable[[bytes], Any]:
    try:  # the `speedups` extra: about three times faster on large pages
        import orjson
    except ImportError:  # pragma: no cover - depends on the environment
        return stdlib_loads
    return orjson.loads  # nesting past its limit (1,024) is a `JSONDecodeError` already


def stdlib_loads(data: bytes) -> Any:
    """`json.loads`, where nesting too deep for the interpreter's stack (`[[[[...]]]]` from a
    hostile server) is a `ValueError`, like any other body that is not usable JSON."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("the JSON is nested too deep to read") from None


loads = _json_loads()
"""Parses a JSON body (with orjson when it is installed)."""

converter = _Converter()
"""The converter every request and response body goes through."""

structure = converter.structure
unstructure = converter.unstructure
