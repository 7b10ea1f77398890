"""The flag document's JSON Schema: the packaged copy, its draft-04 rendition, and validation.

`validate()` reports every problem, each as a `Problem` whose path is the JSON
path of the offending value (`featureA.percentage`), so that the message a
product manager reads points at the line to fix.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from flagkit._schema_check import (
    Check,
    compile_check,
    ecma_pattern,
    is_json_integer,
    is_json_number,
)
from flagkit.errors import Problem, SchemaValidationError

__all__ = [
    "FLAG_KEY_PATTERN",
    "draft4_schema",
    "format_path",
    "is_valid",
    "json_schema",
    "problem_order",
    "to_draft4",
    "validate",
]

FLAG_KEY_PATTERN = "^[a-z][a-zA-Z0-9_-]{0,63}$"
SCHEMA_FILE = "flags.v1.schema.json"
DRAFT4_SCHEMA_FILE = "flags.v1.draft4.schema.json"
ROOT = "(document)"
_FLAG_KEY_RULE = (
    "a flag key starts with a lowercase letter and has at most 64 letters, digits, '_' and '-'"
)
_SCHEMA_DIR = os.path.join(os.path.dirname(__file__), "schemas")
_DRAFT4_URI = "http://json-schema.org/draft-04/schema#"


@cache
def json_schema() -> Mapping[str, Any]:
    """The JSON Schema (2020-12) every flag document is validated against."""
    return _read_packaged(SCHEMA_FILE)


@cache
def draft4_schema() -> Mapping[str, Any]:
    """The same schema as draft-04, the only draft AppConfig's JSON Schema validator accepts."""
    return _read_packaged(DRAFT4_SCHEMA_FILE)


def _read_packaged(name: str) -> dict[str, Any]:
    # A plain path rather than importlib.resources: flagkit installs as files, and
    # importlib.resources would add pathlib and urllib to every start.
    with open(os.path.join(_SCHEMA_DIR, name), encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema


def to_draft4(schema: Any) -> Any:
    """Render a 2020-12 schema that uses only draft-04 keywords in draft-04 spelling.

    `$defs` become `definitions` (and so do the `$ref`s into them), `$id` becomes
    `id`, and boolean schemas become `{}` / `{"not": {}}`.
    """
    if schema is True:
        return {}
    if schema is False:
        return {"not": {}}
    if isinstance(schema, list):
        return [to_draft4(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    rendered: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "$schema":
            rendered[key] = _DRAFT4_URI
        elif key == "$id":
            rendered["id"] = value.replace(SCHEMA_FILE, DRAFT4_SCHEMA_FILE)
        elif key == "$defs":
            rendered["definitions"] = {name: to_draft4(sub) for name, sub in value.items()}
        elif key == "$ref":
            rendered[key] = value.replace("#/$defs/", "#/definitions/")
        elif key in ("properties", "patternProperties"):
            rendered[key] = {name: to_draft4(sub) for name, sub in value.items()}
        else:
            rendered[key] = to_draft4(value)
    return rendered


def format_path(parts: Iterable[str | int]) -> str:
    """`["featureA", "rules", 2, "when"]` → `featureA.rules[2].when`; the root is `(document)`."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part and all(ch.isalnum() or ch in "_-$" for ch in part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part, ensure_ascii=False)}]"
    return text or ROOT


def is_valid(document: Any) -> bool:
    """Whether `document` matches the schema: the fast check alone, no messages."""
    return _fast_check()(document)


def validate(document: Any) -> None:
    """Raise `SchemaValidationError` listing every way `document` breaks the schema.

    A valid document is confirmed by the fast check alone; only a failing one
    loads `jsonschema` to name every problem.
    """
    if _fast_check()(document):
        return
    validator = _validator()
    problems = [
        problem for error in validator.iter_errors(document) for problem in _problems(error)
    ]
    if problems:
        raise SchemaValidationError(sorted(problems, key=problem_order))


@cache
def _fast_check() -> Check:
    return compile_check(json_schema())


@cache
def _validator() -> Any:
    """jsonschema's validator, made to read the schema as JSON and ECMA-262 do.

    Imported here, on the first invalid document: `import flagkit` stays light. Its
    integers are ints only (as draft-04 and so AppConfig read them), its numbers are
    finite, and its patterns end with `\\Z`, because Python's `$` also matches before a
    final newline, so `"featureA\\n"` would pass as a flag key.
    """
    from jsonschema import Draft202012Validator, validators

    Draft202012Validator.check_schema(json_schema())
    types = Draft202012Validator.TYPE_CHECKER.redefine_many(
        {
            "number": lambda _checker, value: is_json_number(value),
            "integer": lambda _checker, value: is_json_integer(value),
        }
    )
    validator_class = validators.extend(Draft202012Validator, type_checker=types)  # type: ignore[no-untyped-call]
    return validator_class(_python_patterns(json_schema()))


def problem_order(problem: Problem) -> tuple[Any, ...]:
    """Sort key for problems: by path, with `rules[2]` before `rules[10]`."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", problem.path))


def _python_patterns(schema: Any) -> Any:
    """`schema` with every regular expression's `$` spelled `\\Z` for Python's `re`."""
    if isinstance(schema, list):
        return [_python_patterns(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "pattern":
            converted[key] = ecma_pattern(value).pattern
        elif key == "patternProperties":
            converted[key] = {
                ecma_pattern(name).pattern: _python_patterns(sub) for name, sub in value.items()
            }
        else:
            converted[key] = _python_patterns(value)
    return converted


def json_excerpt(value: Any) -> str:
    """`value` as JSON for a message, cut to 60 characters (57 and `...` when longer)."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (RecursionError, ValueError):
        text = type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def _problems(error: Any) -> list[Problem]:
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        return [
            Problem(format_path([*path, key]), _unexpected_key(error.schema))
            for key in _unexpected_keys(error.schema, error.instance)
        ]
    return [Problem(format_path(path), _message(error))]


def _unexpected_keys(schema: Mapping[str, Any], instance: Mapping[str, Any]) -> list[str]:
    known = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    return sorted(
        key
        for key in instance
        if key not in known and not any(ecma_pattern(pattern).search(key) for pattern in patterns)
    )


def _unexpected_key(schema: Mapping[str, Any]) -> str:
    patterns = schema.get("patternProperties", {})
    if ecma_pattern(FLAG_KEY_PATTERN).pattern in patterns:
        return (
            f"not a valid flag key ({_FLAG_KEY_RULE}; keys starting with '$' or '_' are metadata)"
        )
    known = schema.get("properties", {})
    if known:
        return f"unknown field (expected one of: {', '.join(known)})"
    return "not a valid name (letters, digits, '_', '.', ':' and '-'; at most 64)"


def _message(error: Any) -> str:
    """jsonschema's message, reworded where it speaks Python instead of JSON or hides the fix."""
    validator, instance, expected = error.validator, error.instance, error.validator_value
    if validator == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        return f"{json_excerpt(instance)} is not of type {' or '.join(repr(k) for k in kinds)}"
    if validator == "oneOf" and all(
        set(option) == {"required"} for option in expected if isinstance(option, dict)
    ):
        names = [option["required"][0] for option in expected]
        present = [name for name in names if isinstance(instance, dict) and name in instance]
        wanted = ", ".join(names)
        if "attribute" in error.schema.get("properties", {}):  # a condition: name its tests
            if present:
                return f"has {len(present)} tests ({', '.join(present)}); keep exactly one"
            return f"has no test; give one of: {wanted}"
        if present:
            return f"has {', '.join(present)}; give exactly one of: {wanted}"
        return f"needs exactly one of: {wanted}"
    if validator == "pattern":
        if expected == ecma_pattern(FLAG_KEY_PATTERN).pattern:
            return f"{json_excerpt(instance)} is not a flag key ({_FLAG_KEY_RULE})"
        return f"{json_excerpt(instance)} does not match {expected.replace(chr(92) + 'Z', '$')}"
    if validator == "required":
        missing = [name for name in expected if isinstance(instance, dict) and name not in instance]
        return ", ".join(f'missing "{name}"' for name in missing)
    if validator == "minLength" and expected == 1:
        return "an empty string; give at least 1 character"
    if validator == "maxLength":
        return f"{json_excerpt(instance)} is longer than {expected} characters"
    if validator in ("minProperties", "minItems") and expected == 1:
        return "is empty; give at least one entry"
    return str(error.message)
