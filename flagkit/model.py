"""The values flagkit hands out: tenants, evaluations, reasons and error codes."""

from __future__ import annotations

import copyreg
import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = [
    "EMPTY_ATTRIBUTES",
    "ErrorCode",
    "Evaluation",
    "Reason",
    "Tenant",
    "context_parts",
    "tenant_from_context",
    "tenant_problem",
]

EMPTY_ATTRIBUTES: Mapping[str, Any] = MappingProxyType({})
"""No attributes: a read-only mapping that every value without attributes shares."""


def read_only(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only view of a copy of `mapping`."""
    return MappingProxyType(dict(mapping))


def _copy_read_only(mapping: MappingProxyType[str, Any]) -> tuple[Any, tuple[dict[str, Any]]]:
    """Pickle and copy a read-only mapping as a read-only mapping of a plain copy."""
    return read_only, (dict(mapping),)


# flagkit's values hold read-only mappings (`EMPTY_ATTRIBUTES`, a flag's attributes), which
# the standard library cannot pickle or deep-copy; registering how to lets `pickle`, `copy`
# and `dataclasses.asdict` work on every flagkit value. Another registration is kept.
copyreg.dispatch_table.setdefault(MappingProxyType, _copy_read_only)


class Reason(enum.StrEnum):
    """Why an evaluation produced its value; exactly OpenFeature's reason names."""

    STATIC = "STATIC"
    TARGETING_MATCH = "TARGETING_MATCH"
    SPLIT = "SPLIT"
    DISABLED = "DISABLED"
    DEFAULT = "DEFAULT"
    ERROR = "ERROR"
    CACHED = "CACHED"
    STALE = "STALE"
    UNKNOWN = "UNKNOWN"


class ErrorCode(enum.StrEnum):
    """What went wrong when an evaluation fell back to the caller's default; OpenFeature's names."""

    FLAG_NOT_FOUND = "FLAG_NOT_FOUND"
    PARSE_ERROR = "PARSE_ERROR"
    TYPE_MISMATCH = "TYPE_MISMATCH"
    TARGETING_KEY_MISSING = "TARGETING_KEY_MISSING"
    INVALID_CONTEXT = "INVALID_CONTEXT"
    PROVIDER_NOT_READY = "PROVIDER_NOT_READY"
    GENERAL = "GENERAL"


@dataclass(frozen=True, slots=True, init=False)
class Tenant:
    """Who a flag is evaluated for.

    `id` is hashed for percentage rollouts and matched against tenant lists exactly
    as given; `tier` is matched against a flag's `tiers`; `attributes` are what
    `rules` and a custom `stickiness` look at (None means none).

    A Tenant checks its own field types once, when it is made, and never raises:
    evaluating with a malformed one returns the caller's default with
    `INVALID_CONTEXT`, like any other malformed tenant.
    """

    id: str | None
    tier: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=lambda: EMPTY_ATTRIBUTES)
    _problem: str | None = field(default=None, init=False, repr=False, compare=False)
    """Why the fields cannot be evaluated (see `tenant_problem`), found once by `__init__`."""

    # A hand-written __init__ (init=False above): `attributes=None` means none, and the
    # fields are checked once here rather than on every evaluation.
    def __init__(
        self,
        id: str | None,
        tier: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> None:
        if attributes is None:
            attributes = EMPTY_ATTRIBUTES
        initialize = object.__setattr__
        initialize(self, "id", id)
        initialize(self, "tier", tier)
        initialize(self, "attributes", attributes)
        initialize(self, "_problem", tenant_problem(id, tier, attributes))


def tenant_from_context(
    targeting_key: object, context: Mapping[str, Any], *, skip: Collection[str] = ()
) -> Tenant:
    """The tenant an OpenFeature/OFREP evaluation context describes (`context_parts`).

    Wrong types are not raised: the Tenant carries its problem, and evaluating it answers
    `INVALID_CONTEXT`.
    """
    return Tenant(*context_parts(targeting_key, context, skip=skip))  # type: ignore[arg-type]


def context_parts(
    targeting_key: object, context: Mapping[str, Any], *, skip: Collection[str] = ()
) -> tuple[object, object, dict[str, Any]]:
    """(id, tier, attributes) of an evaluation context: `targeting_key` is the tenant id,
    the context's `tier` its tier, and every other key (but those in `skip`) an attribute.
    Unchecked: `tenant_problem` says whether they can be evaluated."""
    attributes = {
        name: value for name, value in context.items() if name != "tier" and name not in skip
    }
    return targeting_key, context.get("tier"), attributes


def tenant_problem(tenant_id: object, tier: object, attributes: object) -> str | None:
    """Why (id, tier, attributes) cannot be evaluated, or None when they can."""
    if tenant_id is not None and not isinstance(tenant_id, str):
        return f"tenant id must be a str, got {type(tenant_id).__name__}"
    if tier is not None and not isinstance(tier, str):
        return f"tenant tier must be a str, got {type(tier).__name__}"
    if not isinstance(attributes, Mapping):
        return f"tenant attributes must be a mapping, got {type(attributes).__name__}"
    return None


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The full answer for one flag and one tenant; it never needs an exception to explain itself.

    `rule` names the step that decided (`kill-switch`, `requires:payments`,
    `excludedTenants`, `rules[2]` or the rule's id, `tenants`, `segments:NAME`,
    `tiers`, `percentage`, `default`, `static`), so "why does acme (not) see
    featureA?" has a one-line answer. `error_code` and `error_message` are set only
    when the caller's default was returned because of an error.
    """

    flag: str
    value: Any
    enabled: bool
    variant: str | None
    reason: Reason
    rule: str | None = None
    error_code: ErrorCode | None = None
    error_message: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=lambda: EMPTY_ATTRIBUTES)
    version: str | None = None

    def flag_metadata(self) -> dict[str, bool | str | int | float]:
        """OpenFeature flag metadata: the flag's scalar attributes, `version` and `rule`.

        OpenFeature metadata holds only booleans, strings and numbers, so attributes
        that are objects, lists or null are left out; the document `version` and the
        deciding `rule` (each when known) win over attributes of the same name.
        """
        metadata: dict[str, bool | str | int | float] = {
            name: value
            for name, value in self.attributes.items()
            if isinstance(value, bool | str | int | float)
        }
        if self.version is not None:
            metadata["version"] = self.version
        if self.rule is not None:
            metadata["rule"] = self.rule
        return metadata

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: enums as their names, attributes as a plain dict."""
        return {
            "flag": self.flag,
            "value": self.value,
            "enabled": self.enabled,
            "variant": self.variant,
            "reason": self.reason.value,
            "rule": self.rule,
            "errorCode": None if self.error_code is None else self.error_code.value,
            "errorMessage": self.error_message,
            "attributes": dict(self.attributes),
            "version": self.version,
        }
