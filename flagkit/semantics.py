"""The checks a JSON Schema cannot express, on a document that passed the schema.

Unknown flags, segments and variants; cycles in `requires` and chains too long
(`flagkit.prerequisites`); duplicate rule ids; splits that weigh nothing; percentages
with more than two decimals; a salt that is not text; keys one edit away from a
field's name, which are mistakes unless the flag declares them in `declaredAttributes`;
and launch windows and condition operands that do not parse (`flagkit.condition_checks`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from flagkit.condition_checks import condition_problems, launch_window_problems
from flagkit.errors import Problem
from flagkit.field_hints import likely_meant
from flagkit.fields import DECLARED_ATTRIBUTES, RESERVED_FLAG_KEYS, flag_items, is_unicode_text
from flagkit.prerequisites import prerequisite_problems
from flagkit.schema import format_path

__all__ = ["semantic_problems"]

_RESERVED_FLAG_KEYS_SORTED = tuple(sorted(RESERVED_FLAG_KEYS))


def semantic_problems(document: Mapping[str, Any]) -> Iterator[Problem]:
    """Every problem of a document that matches the schema, in no particular order."""
    flags = dict(flag_items(document))
    segments: Mapping[str, Any] = document.get("_segments", {})
    for key, flag in flags.items():
        yield from _flag_problems(key, flag, flags, segments)
        yield from _unknown_field_problems(key, flag)
    requires = {
        key: [r for r in flag.get("requires", []) if r in flags] for key, flag in flags.items()
    }
    yield from prerequisite_problems(requires)


def _unknown_field_problems(key: str, flag: Mapping[str, Any]) -> Iterator[Problem]:
    """A key one edit from a field's name is a mistake unless `declaredAttributes` lists it."""
    declared = flag.get(DECLARED_ATTRIBUTES, [])
    for index, name in enumerate(declared):
        if name in RESERVED_FLAG_KEYS:
            yield Problem(
                format_path([key, DECLARED_ATTRIBUTES, index]),
                f"{json.dumps(name)} is a field, not an attribute; remove it from this list",
            )
    for field in flag:
        if field in RESERVED_FLAG_KEYS or field in declared:
            continue
        hint = likely_meant(field, _RESERVED_FLAG_KEYS_SORTED)
        if hint:
            name = json.dumps(field, ensure_ascii=False)
            yield Problem(
                format_path([key, field]),
                f"unknown field, did you mean {json.dumps(hint)}? (if it is an attribute, "
                f'declare it: "{DECLARED_ATTRIBUTES}": [{name}])',
            )


def _flag_problems(
    key: str, flag: Mapping[str, Any], flags: Mapping[str, Any], segments: Mapping[str, Any]
) -> Iterator[Problem]:
    def at(*parts: str | int) -> str:
        return format_path([key, *parts])

    for index, required in enumerate(flag.get("requires", [])):
        if required not in flags:
            yield Problem(at("requires", index), f"unknown flag {json.dumps(required)}")
    for index, segment in enumerate(flag.get("segments", [])):
        if segment not in segments:
            yield Problem(at("segments", index), f"unknown segment {json.dumps(segment)}")
    yield from launch_window_problems(key, flag)
    if "percentage" in flag:
        yield from _percentage_problems(flag["percentage"], at("percentage"))
    salt = flag.get("salt")
    if salt is not None and not is_unicode_text(salt):
        yield Problem(at("salt"), "not valid Unicode text (it has a lone surrogate)")

    variants: Mapping[str, Any] | None = flag.get("variants")
    yield from _variant_problems(flag, variants, at)
    seen_ids: dict[str, int] = {}
    for index, rule in enumerate(flag.get("rules", [])):
        rule_id = rule.get("id")
        if rule_id is not None:
            if rule_id in seen_ids:
                yield Problem(
                    at("rules", index, "id"),
                    f"duplicate rule id {json.dumps(rule_id)} (also rules[{seen_ids[rule_id]}])",
                )
            else:
                seen_ids[rule_id] = index
        if "percentage" in rule:
            yield from _percentage_problems(rule["percentage"], at("rules", index, "percentage"))
        if "serve" in rule:
            yield from _serve_problems(rule["serve"], variants, at("rules", index, "serve"))
        if "split" in rule:
            yield from _split_problems(rule["split"], variants, at("rules", index, "split"))
        for position, condition in enumerate(rule.get("when", [])):
            yield from condition_problems((key, "rules", index, "when", position), condition)
            for operator in ("inSegment", "notInSegment"):
                segment = condition.get(operator)
                if segment is not None and segment not in segments:
                    yield Problem(
                        at("rules", index, "when", position, operator),
                        f"unknown segment {json.dumps(segment)}",
                    )


def _variant_problems(
    flag: Mapping[str, Any], variants: Mapping[str, Any] | None, at: Any
) -> Iterator[Problem]:
    if variants is None:
        for field in ("defaultVariant", "offVariant", "split"):
            if field in flag:
                yield Problem(at(field), 'needs "variants" in the same flag')
        return
    if "defaultVariant" not in flag:
        yield Problem(at("defaultVariant"), 'is required when the flag has "variants"')
    for field in ("defaultVariant", "offVariant"):
        name = flag.get(field)
        if name is not None and name not in variants:
            yield Problem(at(field), _unknown_variant(name, variants))
    if "split" in flag:
        yield from _split_problems(flag["split"], variants, at("split"))


def _serve_problems(serve: Any, variants: Mapping[str, Any] | None, path: str) -> Iterator[Problem]:
    if isinstance(serve, bool):
        return
    if variants is None:
        yield Problem(
            path, f"{json.dumps(serve)} is not true or false, and the flag has no variants"
        )
    elif serve not in variants:
        yield Problem(path, _unknown_variant(serve, variants))


def _split_problems(
    split: Mapping[str, int], variants: Mapping[str, Any] | None, path: str
) -> Iterator[Problem]:
    if variants is None:
        yield Problem(path, 'needs "variants" in the same flag')
        return
    for name in split:
        if name not in variants:
            yield Problem(f"{path}.{name}", _unknown_variant(name, variants))
    if sum(split.values()) == 0:
        yield Problem(path, "weights add up to 0; at least one must be positive")


def _percentage_problems(percentage: float, path: str) -> Iterator[Problem]:
    if abs(percentage * 100 - round(percentage * 100)) > 1e-6:
        yield Problem(path, f"{percentage} has more than two decimal places (steps of 0.01)")


def _unknown_variant(name: str, variants: Mapping[str, Any]) -> str:
    return f"unknown variant {json.dumps(name)} (variants: {', '.join(variants)})"
