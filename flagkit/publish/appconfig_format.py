"""AppConfig's feature-flag form: `AWS.AppConfig.FeatureFlags` definitions, to and from.

```
definition = appconfig_definition(document)      # AWS.AppConfig.FeatureFlags form
document = document_from_definition(definition)  # and back
```

`appconfig_definition` turns a boolean-form document into what a hosted configuration
version of an `AWS.AppConfig.FeatureFlags` profile holds (`{"version": "1", "flags":
{...}, "values": {...}}`, the format of AWS's "Type reference for
AWS.AppConfig.FeatureFlags"); `load_flag_document` reads either form.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from flagkit.document import (
    CheckedDocument,
    check_document,
    flag_items,
    is_unicode_text,
    parse_document,
)
from flagkit.errors import DocumentError, Problem
from flagkit.schema import FLAG_KEY_PATTERN, format_path, json_excerpt

__all__ = [
    "FEATURE_FLAGS_TYPE",
    "appconfig_definition",
    "document_from_definition",
    "is_definition",
    "load_flag_document",
    "unencodable_text",
]

FEATURE_FLAGS_TYPE = "AWS.AppConfig.FeatureFlags"
"""The configuration profile type whose hosted versions hold the feature-flag definition form."""

_APPCONFIG_NAME = re.compile(r"[a-z][a-zA-Z0-9_-]{0,63}")
"""AppConfig's pattern for flag keys and attribute names (`^[a-z][a-zA-Z\\d_-]{0,63}$`)."""

_MAX_ATTRIBUTES = 25  # attributeDefinitions: "maxProperties": 25
_MAX_TEXT = 1024  # attribute string values and descriptions: "maxLength": 1024
_FREEFORM_ONLY = ("rules", "variants")
_VARIANT_COMPANIONS = ("defaultVariant", "offVariant", "split")
_LIST_FIELDS = ("requires", "excludedTenants", "tenants", "segments", "tiers")
_MAX_ENUM = 100  # stringConstraints' enum: "maxLength": 100


def _text_pattern(shortest: int, longest: int) -> str:
    """A pattern for any text of `shortest` to `longest` characters (code points).

    A surrogate pair counts as one character, so that engines counting UTF-16 code
    units (JavaScript, Java) agree with flagkit's JSON Schema, which counts code points.
    """
    return rf"^(?:[\uD800-\uDBFF][\uDC00-\uDFFF]|[\s\S]){{{shortest},{longest}}}$"


_TENANT_ID = {"type": "string", "pattern": _text_pattern(1, 256)}
"""A tenant id, a tier or a stickiness attribute: 1 to 256 characters (the JSON Schema's)."""
_TENANT_IDS = {"type": "array", "elements": _TENANT_ID}
_FULL_DATE = "[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
_TIME = "(?:[01][0-9]|2[0-3]):[0-5][0-9]"
_SECONDS = "(?:[0-5][0-9]|60)(?:[.][0-9]+)?"
_RFC3339_DATE_TIME = f"^{_FULL_DATE}[Tt]{_TIME}:{_SECONDS}(?:[Zz]|[+-]{_TIME})$"
"""RFC 3339's `date-time` (`2026-03-01T09:30:00Z`), as an AppConfig string pattern."""
_RFC3339_FULL_DATE = f"^{_FULL_DATE}$"
"""RFC 3339's `full-date` (`2026-03-01`), as an AppConfig string pattern."""
_TYPED_ATTRIBUTES: dict[str, dict[str, Any]] = {
    "tenants": {
        "description": "Tenant ids the flag is on for (1 to 256 characters each).",
        "constraints": _TENANT_IDS,
    },
    "excludedTenants": {
        "description": "Tenant ids the flag is off for, whatever else matches (1 to 256 "
        "characters each).",
        "constraints": _TENANT_IDS,
    },
    "tiers": {
        "description": "Tenant tiers the flag is on for (1 to 256 characters each).",
        "constraints": _TENANT_IDS,
    },
    "activeFrom": {
        "description": "Launch window start: before this instant the flag is off for everyone. "
        "An RFC 3339 timestamp with an offset, e.g. 2026-12-24T09:00:00+01:00.",
        "constraints": {"type": "string", "pattern": _RFC3339_DATE_TIME},
    },
    "activeUntil": {
        "description": "Launch window end: from this instant on the flag is off for everyone. "
        "An RFC 3339 timestamp with an offset, e.g. 2026-12-24T18:00:00+01:00.",
        "constraints": {"type": "string", "pattern": _RFC3339_DATE_TIME},
    },
    "percentage": {
        "description": "Sticky rollout: the share of tenants (0 to 100, steps of 0.01) "
        "the flag is on for. The console checks the range; flagkit's validator the steps.",
        "constraints": {"type": "number", "minimum": 0, "maximum": 100},
    },
    "requires": {
        "description": "Flag keys that must be on for the same tenant.",
        "constraints": {
            "type": "array",
            "elements": {"type": "string", "pattern": FLAG_KEY_PATTERN},
        },
    },
    "segments": {
        "description": "Names of _segments lists (only a freeform profile can hold _segments).",
        "constraints": {
            "type": "array",
            "elements": {"type": "string", "pattern": "^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$"},
        },
    },
    "stickiness": {
        "description": "The tenant attribute hashed for the percentage instead of the tenant id.",
        "constraints": _TENANT_ID,
    },
    "salt": {
        "description": "Hash salt for the percentage; the flag key when absent.",
        "constraints": {"type": "string", "pattern": _text_pattern(0, 256)},
    },
}
_CONSOLE_ATTRIBUTES = (
    "tenants",
    "excludedTenants",
    "tiers",
    "percentage",
    "activeFrom",
    "activeUntil",
)
"""Defined on every flag, so that the AppConfig console's attribute editor types them."""
_APPCONFIG_METADATA = frozenset({"_createdAt", "_updatedAt", "_deprecation"})


def appconfig_definition(document: Mapping[str, Any]) -> dict[str, Any]:
    """The `AWS.AppConfig.FeatureFlags` definition of a boolean-form document.

    Returns `{"version": "1", "flags": {KEY: {"name", "description", "attributes"}},
    "values": {KEY: {"enabled": bool, NAME: value}}}`, what a hosted configuration
    version of a feature-flag profile holds. Every flag defines `tenants`,
    `excludedTenants`, `tiers`, `percentage` and the launch window `activeFrom` /
    `activeUntil` with typed constraints (so the console's attribute editor checks what
    a product manager types) and every other attribute it uses: typed for `requires`,
    `segments`, `stickiness`, `salt`, inferred from the value for the flag's own
    attributes. Empty targeting lists are left out (an empty list counts as absent);
    `$schema` and other metadata keys are dropped.

    The constraints are as tight as AppConfig's can be: tenant ids, tiers and
    `stickiness` 1 to 256 characters, `salt` at most 256, `percentage` 0 to 100,
    `activeFrom` and `activeUntil` RFC 3339 timestamps with an offset,
    `requires` one of the document's other flag keys, and an attribute holding an
    RFC 3339 date-time or date keeps that form. What they cannot say (a percentage's
    steps of 0.01, cycles, flags deleted in the console) is left to the validator
    (`flagkit.appconfig_validator`).

    The document is checked first. What the format cannot hold raises `DocumentError`
    listing every such place: `_segments`, `rules` and `variants` (they belong in a
    freeform profile), attribute names AppConfig refuses, values other than strings
    (at most 1024 characters), numbers, booleans and non-empty arrays of strings or of
    numbers, more than 25 attributes, descriptions over 1024 characters, text that is not
    valid Unicode (a lone surrogate, which a JSON escape such as `"\\ud800"` can carry).
    """
    check_document(document)
    problems: list[Problem] = list(unencodable_text(document))
    if "_segments" in document:
        problems.append(
            Problem(
                "_segments",
                "named segments cannot be expressed in an AWS.AppConfig.FeatureFlags profile; "
                "deploy this document to a freeform (AWS.Freeform) profile, or list the "
                "tenants in each flag's `tenants`",
            )
        )
    flags: dict[str, Any] = {}
    values: dict[str, Any] = {}
    keys = [key for key, _ in flag_items(document)]
    for key, flag in flag_items(document):
        definition, value = _flag_definition(key, flag, keys, problems)
        flags[key] = definition
        values[key] = value
    if problems:
        raise DocumentError(problems)
    return {"version": "1", "flags": flags, "values": values}


def unencodable_text(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[Problem]:
    """A problem for each key or string in `value` that UTF-8 cannot encode, in document order.

    `json.loads` turns an escaped lone surrogate (`"\\ud800"`) into such a string, and the
    document checks let it through (only a `salt` must be hashable); AppConfig stores UTF-8.
    """
    if isinstance(value, str):
        if not is_unicode_text(value):
            yield Problem(format_path(path), _NOT_UNICODE)
    elif isinstance(value, Mapping):
        for key, member in value.items():
            if isinstance(key, str) and not is_unicode_text(key):
                yield Problem(format_path((*path, key)), f"the name is {_NOT_UNICODE}")
            else:
                yield from unencodable_text(member, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from unencodable_text(item, (*path, index))


_NOT_UNICODE = (
    "not valid Unicode text (it has a lone surrogate); AppConfig stores UTF-8, which cannot hold it"
)


def _flag_definition(
    key: str, flag: Mapping[str, Any], keys: list[str], problems: list[Problem]
) -> tuple[dict[str, Any], dict[str, Any]]:
    definition: dict[str, Any] = {"name": key}
    value: dict[str, Any] = {"enabled": flag["enabled"]}
    attributes = {name: copy.deepcopy(_TYPED_ATTRIBUTES[name]) for name in _CONSOLE_ATTRIBUTES}
    for field, member in flag.items():
        path = format_path([key, field])
        if field == "enabled":
            continue
        if field == "description":
            if len(member) > _MAX_TEXT:
                problems.append(
                    Problem(
                        path,
                        f"{len(member)} characters is longer than the {_MAX_TEXT} an "
                        "AWS.AppConfig.FeatureFlags flag description may have",
                    )
                )
            definition["description"] = member
        elif field in _FREEFORM_ONLY:
            problems.append(
                Problem(
                    path,
                    "cannot be expressed in an AWS.AppConfig.FeatureFlags profile, whose flags "
                    "hold only `enabled` and attributes (strings, numbers, booleans and arrays "
                    "of them); deploy this document to a freeform (AWS.Freeform) profile",
                )
            )
        elif field in _VARIANT_COMPANIONS:
            continue  # refused with `variants`, which they need
        elif field in _LIST_FIELDS and not member:
            continue  # an empty list counts as absent, and AppConfig cannot type one
        elif field in _TYPED_ATTRIBUTES:
            attributes[field] = copy.deepcopy(_TYPED_ATTRIBUTES[field])
            if field == "requires":
                attributes[field]["constraints"] = _prerequisite_constraints(key, keys)
            value[field] = member
        elif not _APPCONFIG_NAME.fullmatch(field):
            problems.append(
                Problem(
                    path,
                    f"{json.dumps(field, ensure_ascii=False)} is not an attribute name AppConfig "
                    "accepts: expected a lowercase letter, then at most 63 letters, digits, "
                    "'_' or '-'",
                )
            )
        else:
            constraints = _inferred_constraints(member)
            if constraints is None:
                problems.append(Problem(path, _unsupported_value(member)))
            else:
                attributes[field] = {"constraints": constraints}
                value[field] = member
    if len(attributes) > _MAX_ATTRIBUTES:
        problems.append(
            Problem(
                format_path([key]),
                f"{len(attributes)} attributes (with the {len(_CONSOLE_ATTRIBUTES)} every flag "
                f"defines: {', '.join(_CONSOLE_ATTRIBUTES)}) is more than the "
                f"{_MAX_ATTRIBUTES} an AWS.AppConfig.FeatureFlags flag may have",
            )
        )
    definition["attributes"] = attributes
    return definition, value


def _prerequisite_constraints(key: str, keys: list[str]) -> dict[str, Any]:
    """`requires` elements: one of the document's other flag keys (an enum, so that the
    console refuses `"paymnts"`), or any flag key when there are too many to list."""
    others = [other for other in keys if other != key]
    if len(others) > _MAX_ENUM:
        return copy.deepcopy(_TYPED_ATTRIBUTES["requires"]["constraints"])
    return {"type": "array", "elements": {"type": "string", "enum": others}}


def _inferred_constraints(value: Any) -> dict[str, Any] | None:
    """AppConfig constraints for an attribute value, or None when AppConfig cannot hold it.

    A string that is an RFC 3339 date-time or date keeps that form in the console.
    """
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int | float):
        return {"type": "number"}
    if isinstance(value, str):
        if len(value) > _MAX_TEXT:
            return None
        for pattern in (_RFC3339_DATE_TIME, _RFC3339_FULL_DATE):
            if re.fullmatch(pattern, value):
                return {"type": "string", "pattern": pattern}
        return {"type": "string"}
    if isinstance(value, list) and value:
        if all(isinstance(item, str) and len(item) <= _MAX_TEXT for item in value):
            return {"type": "array", "elements": {"type": "string"}}
        if all(isinstance(item, int | float) and not isinstance(item, bool) for item in value):
            return {"type": "array", "elements": {"type": "number"}}
    return None


def _unsupported_value(value: Any) -> str:
    shown = json_excerpt(value)
    if isinstance(value, str):
        found = f"a string of {len(value)} characters"
    elif isinstance(value, list):
        found = "an empty array" if not value else "an array mixing types, or of other values"
    else:
        found = "null" if value is None else "an object"
    return (
        f"{shown} is {found}; an AWS.AppConfig.FeatureFlags attribute holds a string (at most "
        f"{_MAX_TEXT} characters), a number, a boolean, or a non-empty array of strings or "
        "of numbers (deploy this document to a freeform profile to keep it)"
    )


def is_definition(value: Any) -> bool:
    """Whether a parsed JSON value is an `AWS.AppConfig.FeatureFlags` definition.

    True for an object with `"version": "1"` and a `flags` or `values` object; no flag
    document looks like that (a flag is an object, never the string "1").
    """
    return (
        isinstance(value, Mapping)
        and value.get("version") == "1"
        and ("flags" in value or "values" in value)
        and all(isinstance(value.get(name, {}), Mapping) for name in ("flags", "values"))
    )


def document_from_definition(definition: Mapping[str, Any]) -> dict[str, Any]:
    """The flag document an `AWS.AppConfig.FeatureFlags` definition describes.

    Each flag is its `values` entry (`enabled` and its attributes) plus the
    `description` of its `flags` entry; a flag with no `values` entry is disabled.
    AppConfig's own metadata (`_createdAt`, `_updatedAt`, `_deprecation`) is dropped.
    AppConfig's multi-variant flags (`_variants`) raise `DocumentError`: flagkit's
    variants live in freeform profiles. The result is not checked: pass it to
    `check_document` (or use `load_flag_document`).
    """
    problems: list[Problem] = []
    if definition.get("version") != "1":
        found = json.dumps(definition.get("version"))
        problems.append(Problem("version", f'{found} is not "1", the only definition version'))
    flags: Mapping[str, Any] = definition.get("flags") or {}
    values: Mapping[str, Any] = definition.get("values") or {}
    document: dict[str, Any] = {}
    for key in [*flags, *(key for key in values if key not in flags)]:
        entry: Mapping[str, Any] = values.get(key) or {}
        flag: dict[str, Any] = {"enabled": entry.get("enabled", False)}
        description = (flags.get(key) or {}).get("description")
        if description is not None:
            flag["description"] = description
        for name, member in entry.items():
            if name == "_variants":
                problems.append(
                    Problem(
                        format_path(["values", key, name]),
                        "AppConfig multi-variant flags cannot be read by flagkit; give the "
                        "flag flagkit `variants` in a freeform profile instead",
                    )
                )
            elif name != "enabled" and name not in _APPCONFIG_METADATA:
                flag[name] = member
        document[key] = flag
    if problems:
        raise DocumentError(problems)
    return document


def load_flag_document(content: bytes | str) -> CheckedDocument:
    """Parse and check a flag document, or a feature-flag definition read back into one."""
    parsed = parse_document(content)
    if is_definition(parsed):
        parsed = document_from_definition(parsed)
    return check_document(parsed)
