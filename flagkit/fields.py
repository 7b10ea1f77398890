"""The names a flag document gives meaning to, and the small helpers every check shares."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from flagkit.flagset import Operator

__all__ = [
    "CONDITION_MODIFIERS",
    "CONDITION_TESTS",
    "DECLARED_ATTRIBUTES",
    "LAUNCH_WINDOW",
    "RESERVED_FLAG_KEYS",
    "TEXT_TESTS",
    "flag_items",
    "is_unicode_text",
]

RESERVED_FLAG_KEYS = frozenset(
    {
        "enabled",
        "description",
        "activeFrom",
        "activeUntil",
        "requires",
        "excludedTenants",
        "rules",
        "tenants",
        "segments",
        "tiers",
        "percentage",
        "stickiness",
        "salt",
        "variants",
        "defaultVariant",
        "offVariant",
        "split",
        "declaredAttributes",
        "impressions",
    }
)
"""Flag keys with a meaning; every other key of a flag is an attribute."""

LAUNCH_WINDOW = ("activeFrom", "activeUntil")
"""The flag fields bounding when a flag can be on: `[activeFrom, activeUntil)`."""

CONDITION_TESTS = tuple(operator.value for operator in Operator)
"""Every test a condition can make; a condition makes exactly one."""

TEXT_TESTS = ("equals", "notEquals", "in", "notIn", "startsWith", "endsWith", "contains", "matches")
"""The tests that compare text, the only ones `ignoreCase` may modify."""

CONDITION_MODIFIERS = ("ignoreCase", "negate")
"""A condition's optional modifiers: compare text case-insensitively, invert the test."""

DECLARED_ATTRIBUTES = "declaredAttributes"
"""The field listing attributes whose names are one edit away from a field's, meant as they are."""


def flag_items(document: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The (key, flag) pairs of a document: every key that is not metadata."""
    for key, flag in document.items():
        if not key.startswith(("$", "_")):
            yield key, flag


def is_unicode_text(text: str) -> bool:
    """Whether UTF-8 can encode `text`: False when it has a lone surrogate (`"\\ud800"`)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
