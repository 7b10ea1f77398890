"""A fast yes/no check of a document against the flag schema, for the load path.

`jsonschema` takes longer to import than a whole flagkit start may take, so a
valid document (the usual case) is checked here: the schema file itself is
compiled once into nested closures that implement exactly the keywords it
uses. Any keyword this module does not implement makes compiling fail, so the
schema cannot grow past it unnoticed. When a document fails, `flagkit.schema`
asks `jsonschema` for the full list of problems; the tests hold the two to the
same verdicts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Check", "compile_check", "ecma_pattern", "is_json_integer", "is_json_number"]

Check = Callable[["Any"], bool]

_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "title", "description"})
_STRING_KEYWORDS = frozenset({"type", "minLength", "maxLength", "pattern"})
_TYPES: Mapping[str, Callable[[Any], bool]] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
    "number": lambda value: is_json_number(value),
    "integer": lambda value: is_json_integer(value),
}


def is_json_number(value: Any) -> bool:
    """A number JSON can hold: an int or a finite float, never a bool (NaN is no number)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def is_json_integer(value: Any) -> bool:
    """An int, not a bool; `1.0` is not one, as draft-04 (and so AppConfig) reads it."""
    return isinstance(value, int) and not isinstance(value, bool)


def ecma_pattern(pattern: str) -> re.Pattern[str]:
    """`pattern` with ECMA-262's `$`, the end of the text (Python's also matches before a final
    newline)."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + "\\Z"  # The schema's patterns use `$` only as the final anchor.
    return re.compile(pattern)


def compile_check(root: Mapping[str, Any]) -> Check:
    """Compile `root` (a 2020-12 schema with local `$ref`s only) into one predicate."""
    definitions: Mapping[str, Any] = root.get("$defs", {})
    compiled: dict[str, Check] = {}
    building: set[str] = set()

    def reference(ref: str) -> Check:
        prefix = "#/$defs/"
        if not ref.startswith(prefix):
            raise ValueError(f"unsupported $ref {ref!r}")
        name = ref[len(prefix) :]
        if name in building:  # A recursive reference: look the check up when it runs.
            return lambda value: compiled[name](value)
        if name not in compiled:
            building.add(name)
            compiled[name] = build(definitions[name])
            building.discard(name)
        return compiled[name]

    def build(schema: Any) -> Check:
        if schema is True:
            return lambda value: True
        if schema is False:
            return lambda value: False
        keys = set(schema) - _ANNOTATIONS
        if schema.get("type") == "string" and keys <= _STRING_KEYWORDS:
            return string_check(schema)
        checks = [
            check for key in schema if key not in _ANNOTATIONS for check in keyword(key, schema)
        ]
        if len(checks) == 1:
            return checks[0]

        def every(value: Any) -> bool:
            for check in checks:  # noqa: SIM110 - a plain loop: no generator per value on the load path
                if not check(value):
                    return False
            return True

        return every

    def string_check(schema: Mapping[str, Any]) -> Check:
        """`type: string` with its length and pattern limits, fused: the most common leaf."""
        shortest, longest = schema.get("minLength", 0), schema.get("maxLength")
        pattern = schema.get("pattern")
        search = ecma_pattern(pattern).search if pattern is not None else None

        def check(value: Any) -> bool:
            if value.__class__ is not str and not isinstance(value, str):
                return False
            size = len(value)
            if size < shortest or (longest is not None and size > longest):
                return False
            return search is None or search(value) is not None

        return check

    def keyword(key: str, schema: Mapping[str, Any]) -> list[Check]:
        value = schema[key]
        if key == "$ref":
            return [reference(value)]
        if key == "type":
            kinds = [_TYPES[kind] for kind in (value if isinstance(value, list) else [value])]
            return [lambda instance: any(kind(instance) for kind in kinds)]
        if key in ("properties", "patternProperties", "additionalProperties"):
            return (
                []
                if key != "additionalProperties" and "additionalProperties" in schema
                else [object_members(schema)]
            )
        if key == "required":
            names = tuple(value)
            return [
                lambda instance: not isinstance(instance, dict) or all(n in instance for n in names)
            ]
        if key == "minProperties":
            return [lambda instance: not isinstance(instance, dict) or len(instance) >= value]
        if key == "minItems":
            return [lambda instance: not isinstance(instance, list) or len(instance) >= value]
        if key == "items":
            strings = _plain_strings(value, definitions)
            if strings is not None:
                return [strings]
            item = build(value)

            def items(instance: Any) -> bool:
                if isinstance(instance, list):
                    for element in instance:
                        if not item(element):
                            return False
                return True

            return [items]
        if key == "minimum":
            return [lambda instance: not is_json_number(instance) or instance >= value]
        if key == "maximum":
            return [lambda instance: not is_json_number(instance) or instance <= value]
        if key == "minLength":
            return [lambda instance: not isinstance(instance, str) or len(instance) >= value]
        if key == "maxLength":
            return [lambda instance: not isinstance(instance, str) or len(instance) <= value]
        if key == "pattern":
            search = ecma_pattern(value).search
            return [lambda instance: not isinstance(instance, str) or search(instance) is not None]
        if key == "oneOf":
            options = [build(option) for option in value]
            return [lambda instance: sum(1 for option in options if option(instance)) == 1]
        raise ValueError(f"schema keyword {key!r} is not implemented by flagkit's fast check")

    def object_members(schema: Mapping[str, Any]) -> Check:
        """properties, patternProperties and additionalProperties: they only work together."""
        named = {name: build(sub) for name, sub in schema.get("properties", {}).items()}
        patterned = [
            (ecma_pattern(pattern).search, build(sub))
            for pattern, sub in schema.get("patternProperties", {}).items()
        ]
        additional = build(schema.get("additionalProperties", True))

        def check(instance: Any) -> bool:
            if not isinstance(instance, dict):
                return True
            for name, member in instance.items():
                matched = False
                if name in named:
                    matched = True
                    if not named[name](member):
                        return False
                for search, sub in patterned:
                    if search(name) is not None:
                        matched = True
                        if not sub(member):
                            return False
                if not matched and not additional(member):
                    return False
            return True

        return check

    return build(root)


def _plain_strings(item: Any, definitions: Mapping[str, Any]) -> Check | None:
    """A check for arrays of strings with length limits and no pattern, one loop, no calls.

    Tenant lists are most of a large document; None when `item` is anything else.
    """
    if isinstance(item, dict) and set(item) == {"$ref"}:
        item = definitions.get(item["$ref"].removeprefix("#/$defs/"))
    if not isinstance(item, dict) or item.get("type") != "string":
        return None
    if not set(item) - _ANNOTATIONS <= {"type", "minLength", "maxLength"}:
        return None
    shortest, longest = item.get("minLength", 0), item.get("maxLength", float("inf"))

    def strings(instance: Any) -> bool:
        if isinstance(instance, list):
            for element in instance:
                if not isinstance(element, str) or not shortest <= len(element) <= longest:
                    return False
        return True

    return strings
