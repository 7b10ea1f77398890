"""Publishing flag documents: the impact of a change, AppConfig's feature-flag form, a push.

```
diff = diff_documents(old, new, read_tenants("tenants.txt"))
for line in format_diff(diff):
    print(line)

definition = appconfig_definition(document)      # AWS.AppConfig.FeatureFlags form
document = document_from_definition(definition)  # and back

result = push(document, application="shop", environment="prod", profile="flags")
```

`diff_documents` evaluates both documents for every tenant and says exactly who gains,
loses or changes variant on each flag. `appconfig_definition` turns a boolean-form
document into what a hosted configuration version of an `AWS.AppConfig.FeatureFlags`
profile holds (`{"version": "1", "flags": {...}, "values": {...}}`, the format of
AWS's "Type reference for AWS.AppConfig.FeatureFlags"). `push` validates a document,
diffs it against what is deployed, creates a hosted configuration version guarded by
`LatestVersionNumber` and starts a deployment.

boto3 is imported inside the functions that talk to AppConfig, never when this module
or `flagkit` is imported.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from flagkit.client import Flags
from flagkit.document import (
    CheckedDocument,
    changed_flags,
    check_document,
    flag_items,
    parse_document,
)
from flagkit.errors import DocumentError, Problem, PublishError
from flagkit.model import Tenant
from flagkit.schema import FLAG_KEY_PATTERN, format_path

if TYPE_CHECKING:
    from mypy_boto3_appconfig import AppConfigClient

__all__ = [
    "FEATURE_FLAGS_TYPE",
    "AppConfigTarget",
    "Diff",
    "FlagDiff",
    "PushResult",
    "VariantChange",
    "appconfig_definition",
    "diff_documents",
    "document_from_definition",
    "format_diff",
    "is_definition",
    "load_flag_document",
    "parse_tenants",
    "push",
    "read_tenants",
]

FEATURE_FLAGS_TYPE = "AWS.AppConfig.FeatureFlags"
"""The configuration profile type whose hosted versions hold the feature-flag definition form."""

_T = TypeVar("_T")

# -- tenants files --------------------------------------------------------------------------


def parse_tenants(text: str, source: str = "<tenants>") -> tuple[Tenant, ...]:
    """The tenants of a tenants file: one per line, `ID` or `ID TIER`.

    Blank lines and everything from a word starting with `#` are ignored. A line
    with more than two words, or an id listed twice, raises `PublishError` naming
    `source`, the line number and the line.
    """
    tenants: list[Tenant] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split()
        for index, word in enumerate(words):
            if word.startswith("#"):
                del words[index:]
                break
        if not words:
            continue
        if len(words) > 2:
            raise PublishError(
                f"{source}:{number}: {line.strip()!r} has {len(words)} words; "
                "expected `ID` or `ID TIER` (a tenant id, then optionally its tier)"
            )
        tenant_id = words[0]
        if tenant_id in seen:
            raise PublishError(
                f"{source}:{number}: tenant {tenant_id!r} is listed again (first on line "
                f"{seen[tenant_id]}); expected each tenant once"
            )
        seen[tenant_id] = number
        tenants.append(Tenant(tenant_id, words[1] if len(words) == 2 else None))
    return tuple(tenants)


def read_tenants(path: str | os.PathLike[str]) -> tuple[Tenant, ...]:
    """`parse_tenants` of a UTF-8 file; an unreadable file raises `PublishError`."""
    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise PublishError(f"cannot read tenants file {name!r}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise PublishError(
            f"tenants file {name!r} is not UTF-8 text: {exc.reason} at byte {exc.start}"
        ) from None
    return parse_tenants(text, name)


# -- diff ---------------------------------------------------------------------------------

FlagStatus = Literal["added", "removed", "changed", "prerequisite"]
"""How a flag differs: added, removed, its own JSON (or a segment it uses) changed, or only
the answers of a flag it `requires` changed."""


@dataclass(frozen=True, slots=True)
class VariantChange:
    """One tenant whose served variant differs: `old` and `new` are variant names or None."""

    tenant: str
    old: str | None
    new: str | None


@dataclass(frozen=True, slots=True)
class FlagDiff:
    """What changed for one flag, and for exactly which of the tenants evaluated.

    `fields` lists the flag's fields whose JSON differs (`_segments.NAME` for a changed
    segment it uses); empty for added and removed flags. `gained` and `lost` are the
    tenant ids the flag turns on and off for, in tenants-file order; `variant_changes`
    is filled for variant flags only.
    """

    flag: str
    status: FlagStatus
    fields: tuple[str, ...] = ()
    gained: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()
    variant_changes: tuple[VariantChange, ...] = ()

    @property
    def changes_answers(self) -> bool:
        """True when some evaluated tenant gets a different answer (on/off or variant)."""
        return bool(self.gained or self.lost or self.variant_changes)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with camelCase keys, like `Evaluation.as_dict`."""
        return {
            "flag": self.flag,
            "status": self.status,
            "fields": list(self.fields),
            "gained": list(self.gained),
            "lost": list(self.lost),
            "variantChanges": [
                {"tenant": change.tenant, "old": change.old, "new": change.new}
                for change in self.variant_changes
            ],
        }


@dataclass(frozen=True, slots=True)
class Diff:
    """The difference between two documents, flag by flag, for a list of tenants.

    `added`, `removed` and `changed` are flag keys (`changed` as `changed_flags` sees
    it: the flag's JSON or a segment it uses). `flags` has one entry per such flag and
    per unchanged flag whose answers changed through `requires`, new document's order
    first. `tenants` is how many tenants were evaluated (0 when none were given).
    """

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    flags: tuple[FlagDiff, ...]
    tenants: int

    @property
    def affected_tenants(self) -> tuple[str, ...]:
        """Every tenant id whose answer for some flag changes, each once, in first-seen order."""
        seen: dict[str, None] = {}
        for flag in self.flags:
            for tenant in (*flag.gained, *flag.lost, *(c.tenant for c in flag.variant_changes)):
                seen.setdefault(tenant, None)
        return tuple(seen)

    @property
    def changes_answers(self) -> bool:
        """Whether the change can reach a tenant: the gate `flagkit diff` exits 3 on.

        With tenants: some tenant's answer (on/off, or variant) changes. Without
        tenants the impact is unknown, so any added, removed or changed flag counts.
        A change of attributes or of a variant's value alone changes no answer.
        """
        if self.tenants:
            return any(flag.changes_answers for flag in self.flags)
        return bool(self.added or self.removed or self.changed)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict for CI: flag lists, per-flag tenant changes and the totals."""
        return {
            "added": list(self.added),
            "removed": list(self.removed),
            "changed": list(self.changed),
            "flags": [flag.as_dict() for flag in self.flags],
            "tenants": self.tenants,
            "affectedTenants": len(self.affected_tenants),
            "changesAnswers": self.changes_answers,
        }


def diff_documents(
    old: Mapping[str, Any], new: Mapping[str, Any], tenants: Sequence[Tenant] = ()
) -> Diff:
    """Compare two flag documents and, for each tenant, the answers they give.

    Both documents are checked first (`DocumentError` if either is invalid). Every
    flag that was added, removed or changed, or that requires one, is evaluated in
    both documents with `Flags.from_dict` for every tenant: an absent flag answers
    off with no variant, as `Flags.enabled` does.
    """
    old_flags = Flags.from_dict(old)
    new_flags = Flags.from_dict(new)
    old_keys = [key for key, _ in flag_items(old)]
    new_keys = [key for key, _ in flag_items(new)]
    changed = changed_flags(old, new)
    added = tuple(key for key in new_keys if key not in old)
    removed = tuple(key for key in old_keys if key not in new)
    edited = tuple(key for key in new_keys if key in changed and key in old)
    reaching = _requiring(old, changed) | _requiring(new, changed)
    results: list[FlagDiff] = []
    for key in [*new_keys, *removed]:
        if key not in changed and key not in reaching:
            continue
        status: FlagStatus
        if key in added:
            status = "added"
        elif key in removed:
            status = "removed"
        elif key in changed:
            status = "changed"
        else:
            status = "prerequisite"
        fields = _changed_fields(old, new, key) if status == "changed" else ()
        variant_flag = _is_variant_flag(old.get(key)) or _is_variant_flag(new.get(key))
        gained: list[str] = []
        lost: list[str] = []
        variants: list[VariantChange] = []
        for tenant in tenants:
            before = old_flags.evaluate(key, tenant)
            after = new_flags.evaluate(key, tenant)
            tenant_id = tenant.id or ""
            if before.enabled != after.enabled:
                (gained if after.enabled else lost).append(tenant_id)
            if variant_flag and before.variant != after.variant:
                variants.append(VariantChange(tenant_id, before.variant, after.variant))
        if status == "prerequisite" and not (gained or lost or variants):
            continue
        results.append(FlagDiff(key, status, fields, tuple(gained), tuple(lost), tuple(variants)))
    return Diff(added, removed, edited, tuple(results), len(tenants))


def _requiring(document: Mapping[str, Any], changed: frozenset[str]) -> set[str]:
    """The flags of `document` that require, directly or not, one of `changed`."""
    requires = {key: set(flag.get("requires", ())) for key, flag in flag_items(document)}
    reaching: set[str] = set()
    grew = True
    while grew:
        grew = False
        for key, required in requires.items():
            if key not in reaching and required & (changed | reaching):
                reaching.add(key)
                grew = True
    return reaching


def _is_variant_flag(flag: Any) -> bool:
    return isinstance(flag, Mapping) and "variants" in flag


def _changed_fields(old: Mapping[str, Any], new: Mapping[str, Any], key: str) -> tuple[str, ...]:
    before, after = old[key], new[key]
    fields = [
        field
        for field in sorted(set(before) | set(after))
        if _json(before.get(field)) != _json(after.get(field))
        or (field in before) != (field in after)
    ]
    used: set[str] = set(before.get("segments", ())) | set(after.get("segments", ()))
    for flag in (before, after):
        for rule in flag.get("rules", ()):
            for condition in rule.get("when", ()):
                used.update(
                    condition[operator]
                    for operator in ("inSegment", "notInSegment")
                    if operator in condition
                )
    old_segments = old.get("_segments", {})
    new_segments = new.get("_segments", {})
    fields.extend(
        format_path(["_segments", name])
        for name in sorted(used)
        if _json(old_segments.get(name)) != _json(new_segments.get(name))
    )
    return tuple(fields)


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def format_diff(diff: Diff, *, limit: int | None = 10) -> list[str]:
    """The diff as lines a product manager can read, one summary line per flag.

    ```
    featureA: +12 tenants, -3 tenants (changed: percentage, tenants)
      + acme, globex, hooli, … and 9 more
      - initech, umbrella, wayne
    ```
    `limit` caps the ids shown per line (None shows every id). The last line sums up.
    """
    lines: list[str] = []
    for flag in diff.flags:
        parts: list[str] = []
        if flag.gained:
            parts.append(f"+{_tenants(len(flag.gained))}")
        if flag.lost:
            parts.append(f"-{_tenants(len(flag.lost))}")
        if flag.variant_changes:
            count = len(flag.variant_changes)
            parts.append(f"{_tenants(count)} change{'s' if count == 1 else ''} variant")
        note = {
            "added": "added",
            "removed": "removed",
            "changed": "changed: " + ", ".join(flag.fields),
            "prerequisite": "through a flag it requires",
        }[flag.status]
        if not diff.tenants:
            lines.append(f"{flag.flag}: {note}")
            continue
        impact = ", ".join(parts) or "no tenant's answer changes"
        lines.append(f"{flag.flag}: {impact} ({note})")
        if flag.gained:
            lines.append("  + " + _capped(flag.gained, limit))
        if flag.lost:
            lines.append("  - " + _capped(flag.lost, limit))
        if flag.variant_changes:
            changes = [
                f"{c.tenant}: {c.old or '(none)'} -> {c.new or '(none)'}"
                for c in flag.variant_changes
            ]
            lines.append("  ~ " + _capped(changes, limit))
    lines.append("summary: " + _summary(diff))
    return lines


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def _tenants(count: int) -> str:
    return _plural(count, "tenant")


def _capped(items: Sequence[str], limit: int | None) -> str:
    if limit is None or len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f" … and {len(items) - limit} more"


def _summary(diff: Diff) -> str:
    count = len(diff.added) + len(diff.removed) + len(diff.changed)
    if count:
        kinds = (f"{len(diff.added)} added", f"{len(diff.removed)} removed")
        verb = "differs" if count == 1 else "differ"
        flags = f"{_plural(count, 'flag')} {verb} ({', '.join(kinds)}, "
        flags += f"{len(diff.changed)} changed)"
    else:
        flags = "no flag differs"
    if not diff.tenants:
        return flags + "; no tenants given, so which tenants are affected is unknown"
    affected = len(diff.affected_tenants)
    return f"{flags}; a different answer for {affected} of {_tenants(diff.tenants)}"


# -- the AWS.AppConfig.FeatureFlags definition form ------------------------------------------

_APPCONFIG_NAME = re.compile(r"[a-z][a-zA-Z0-9_-]{0,63}")
"""AppConfig's pattern for flag keys and attribute names (`^[a-z][a-zA-Z\\d_-]{0,63}$`)."""

_MAX_ATTRIBUTES = 25  # attributeDefinitions: "maxProperties": 25
_MAX_TEXT = 1024  # attribute string values and descriptions: "maxLength": 1024
_FREEFORM_ONLY = ("rules", "variants")
_VARIANT_COMPANIONS = ("defaultVariant", "offVariant", "split")
_LIST_FIELDS = ("requires", "excludedTenants", "tenants", "segments", "tiers")
_STRINGS = {"type": "array", "elements": {"type": "string"}}
_TYPED_ATTRIBUTES: dict[str, dict[str, Any]] = {
    "tenants": {
        "description": "Tenant ids the flag is on for.",
        "constraints": _STRINGS,
    },
    "excludedTenants": {
        "description": "Tenant ids the flag is off for, whatever else matches.",
        "constraints": _STRINGS,
    },
    "tiers": {
        "description": "Tenant tiers the flag is on for.",
        "constraints": _STRINGS,
    },
    "percentage": {
        "description": "Sticky rollout: the share of tenants (0 to 100, steps of 0.01) "
        "the flag is on for.",
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
        "constraints": {"type": "string"},
    },
    "salt": {
        "description": "Hash salt for the percentage; the flag key when absent.",
        "constraints": {"type": "string"},
    },
}
_CONSOLE_ATTRIBUTES = ("tenants", "excludedTenants", "tiers", "percentage")
"""Defined on every flag, so that the AppConfig console's attribute editor types them."""
_APPCONFIG_METADATA = frozenset({"_createdAt", "_updatedAt", "_deprecation"})


def appconfig_definition(document: Mapping[str, Any]) -> dict[str, Any]:
    """The `AWS.AppConfig.FeatureFlags` definition of a boolean-form document.

    Returns `{"version": "1", "flags": {KEY: {"name", "description", "attributes"}},
    "values": {KEY: {"enabled": bool, NAME: value}}}`, what a hosted configuration
    version of a feature-flag profile holds. Every flag defines `tenants`,
    `excludedTenants`, `tiers` and `percentage` with typed constraints (so the
    console's attribute editor checks what a product manager types) and every other
    attribute it uses: typed for `requires`, `segments`, `stickiness`, `salt`, inferred
    from the value for the flag's own attributes. Empty targeting lists are left out
    (an empty list counts as absent); `$schema` and other metadata keys are dropped.

    The document is checked first. What the format cannot hold raises `DocumentError`
    listing every such place: `_segments`, `rules` and `variants` (they belong in a
    freeform profile), attribute names AppConfig refuses, values other than strings
    (at most 1024 characters), numbers, booleans and non-empty arrays of strings or of
    numbers, more than 25 attributes, descriptions over 1024 characters, text that is not
    valid Unicode (a lone surrogate, which a JSON escape such as `"\\ud800"` can carry).
    """
    check_document(document)
    problems: list[Problem] = list(_unencodable_text(document))
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
    for key, flag in flag_items(document):
        definition, value = _flag_definition(key, flag, problems)
        flags[key] = definition
        values[key] = value
    if problems:
        raise DocumentError(problems)
    return {"version": "1", "flags": flags, "values": values}


def _unencodable_text(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[Problem]:
    """A problem for each key or string in `value` that UTF-8 cannot encode, in document order.

    `json.loads` turns an escaped lone surrogate (`"\\ud800"`) into such a string, and the
    document checks let it through (only a `salt` must be hashable); AppConfig stores UTF-8.
    """
    if isinstance(value, str):
        if not _is_utf8(value):
            yield Problem(format_path(path), _NOT_UNICODE)
    elif isinstance(value, Mapping):
        for key, member in value.items():
            if isinstance(key, str) and not _is_utf8(key):
                yield Problem(format_path((*path, key)), f"the name is {_NOT_UNICODE}")
            else:
                yield from _unencodable_text(member, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unencodable_text(item, (*path, index))


_NOT_UNICODE = (
    "not valid Unicode text (it has a lone surrogate); AppConfig stores UTF-8, which cannot hold it"
)


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _flag_definition(
    key: str, flag: Mapping[str, Any], problems: list[Problem]
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


def _inferred_constraints(value: Any) -> dict[str, Any] | None:
    """AppConfig constraints for an attribute value, or None when AppConfig cannot hold it."""
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int | float):
        return {"type": "number"}
    if isinstance(value, str):
        return {"type": "string"} if len(value) <= _MAX_TEXT else None
    if isinstance(value, list) and value:
        if all(isinstance(item, str) and len(item) <= _MAX_TEXT for item in value):
            return {"type": "array", "elements": {"type": "string"}}
        if all(isinstance(item, int | float) and not isinstance(item, bool) for item in value):
            return {"type": "array", "elements": {"type": "number"}}
    return None


def _unsupported_value(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    shown = text if len(text) <= 60 else text[:57] + "..."
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


# -- push -----------------------------------------------------------------------------------

_PREDEFINED_STRATEGIES = frozenset(
    {
        "AppConfig.AllAtOnce",
        "AppConfig.Linear50PercentEvery30Seconds",
        "AppConfig.Linear20PercentEvery6Minutes",
        "AppConfig.Canary10Percent20Minutes",
    }
)
_NOT_LIVE = frozenset({"ROLLING_BACK", "ROLLED_BACK", "REVERTED"})
"""Deployment states whose configuration is not (or no longer) what the environment serves."""


@dataclass(frozen=True, slots=True)
class AppConfigTarget:
    """Where a push goes: the application, environment and configuration profile, resolved."""

    application_id: str
    application_name: str
    environment_id: str
    environment_name: str
    profile_id: str
    profile_name: str
    profile_type: str

    @property
    def feature_flags(self) -> bool:
        """Whether the profile is an `AWS.AppConfig.FeatureFlags` profile."""
        return self.profile_type == FEATURE_FLAGS_TYPE


@dataclass(frozen=True, slots=True)
class PushResult:
    """What `push` found and did.

    `compared_with` says what the diff is against (`deployed version 3`, `latest
    version 4`, or `nothing` for a profile without versions), `diff` is None when that
    version could not be read as a flag document (`diff_problem` says why).
    `latest_version` is the hosted version the new one was created after (the
    `LatestVersionNumber` lock). `version_number` and `deployment_number` are None on a
    dry run. `content` is what was (or would be) stored.
    """

    target: AppConfigTarget
    strategy_id: str
    strategy_name: str
    compared_with: str
    diff: Diff | None
    diff_problem: str | None
    latest_version: int | None
    content: bytes
    content_type: str
    dry_run: bool
    version_number: int | None = None
    deployment_number: int | None = None
    deployment_state: str | None = None


def push(
    document: Mapping[str, Any],
    *,
    application: str,
    environment: str,
    profile: str,
    strategy: str = "AppConfig.AllAtOnce",
    description: str | None = None,
    tenants: Sequence[Tenant] = (),
    dry_run: bool = False,
    content_type: str = "application/json",
    endpoint_url: str | None = None,
    region: str | None = None,
    client: AppConfigClient | None = None,
    on_diff: Callable[[PushResult], None] | None = None,
) -> PushResult:
    """Validate `document`, diff it against what is deployed, store it and deploy it.

    1. The document is checked (`DocumentError`, also for text that is not valid Unicode,
       before AppConfig is called); for a feature-flag profile it is converted with
       `appconfig_definition` (`DocumentError` for what that cannot hold).
    2. `application`, `environment`, `profile` and `strategy` are resolved, each by id or
       by name, with AppConfig's list APIs (predefined strategies such as
       `AppConfig.AllAtOnce` resolve by name too).
    3. The latest hosted version, and the version deployed to the environment, are read;
       the diff is against the deployed one (else the latest, else nothing).
       `on_diff`, when given, sees the result so far before anything is created.
    4. Unless `dry_run`: `create_hosted_configuration_version` with
       `LatestVersionNumber` set to the latest version read, so that of two concurrent
       pushes the second fails instead of overwriting the first; then
       `start_deployment` of the new version (with `LatestDeploymentNumber` where the
       installed botocore knows it).

    AppConfig errors, unknown names and conflicts raise `PublishError` with a message
    that says what to do. `client` is an `appconfig` boto3 client; without one, one is
    made from `endpoint_url` and `region` and the usual AWS credential chain.
    """
    check_document(document)
    unencodable = list(_unencodable_text(document))
    if unencodable:
        raise DocumentError(unencodable)
    if client is None:
        client = _appconfig_client(endpoint_url, region)
    target = _resolve_target(client, application, environment, profile)
    if target.feature_flags:
        payload: Mapping[str, Any] = appconfig_definition(document)
        served: Mapping[str, Any] = document_from_definition(payload)  # as AppConfig keeps it
    else:
        payload = served = document
    content = (json.dumps(payload, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    strategy_id, strategy_name = _resolve_strategy(client, strategy)
    latest = _latest_version(client, target)
    latest_deployment, deployed = _deployed_version(client, target)
    base_version = deployed if deployed is not None else latest
    base: Mapping[str, Any] | None = {}
    problem: str | None = None
    if base_version is None:
        compared_with = "nothing (the profile has no version yet)"
    else:
        kind = "deployed" if deployed is not None else "latest"
        compared_with = f"{kind} version {base_version}"
        if deployed is not None and latest is not None and latest != deployed:
            compared_with += f" (the latest version is {latest})"
        base, problem = _read_version(client, target, base_version)
    diff = diff_documents(base, served, tenants) if base is not None else None
    result = PushResult(
        target=target,
        strategy_id=strategy_id,
        strategy_name=strategy_name,
        compared_with=compared_with,
        diff=diff,
        diff_problem=problem,
        latest_version=latest,
        content=content,
        content_type=content_type,
        dry_run=dry_run,
    )
    if on_diff is not None:
        on_diff(result)
    if dry_run:
        return result
    version = _create_version(client, target, content, content_type, description, latest)
    deployment = _start_deployment(
        client, target, strategy_id, version, description, latest_deployment
    )
    return replace(
        result,
        version_number=version,
        deployment_number=deployment.get("DeploymentNumber"),
        deployment_state=deployment.get("State"),
    )


def _appconfig_client(endpoint_url: str | None, region: str | None) -> AppConfigClient:
    import boto3
    from botocore.exceptions import BotoCoreError, NoRegionError

    try:
        return boto3.session.Session().client(
            "appconfig", endpoint_url=endpoint_url, region_name=region
        )
    except NoRegionError:
        raise PublishError(
            "no AWS region for AppConfig: pass --region (region=...) or set AWS_REGION"
        ) from None
    except BotoCoreError as exc:
        raise PublishError(f"cannot make an AppConfig client: {exc}") from None


def _call(operation: str, about: str, call: Callable[[], _T]) -> _T:
    """`call()`, with botocore's errors turned into a `PublishError` that names the call."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return call()
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code", "error")
        raise PublishError(
            f"AppConfig {operation} failed for {about}: {code}: {error.get('Message', '')}"
        ) from None
    except BotoCoreError as exc:
        raise PublishError(f"AppConfig {operation} failed for {about}: {exc}") from None


def _items(
    client: AppConfigClient, operation: str, about: str, **params: str
) -> list[Mapping[str, Any]]:
    """Every item of a paginated list operation."""

    def pages() -> list[Mapping[str, Any]]:
        paginator: Any = client.get_paginator(operation)  # type: ignore[call-overload]
        return [item for page in paginator.paginate(**params) for item in page.get("Items", [])]

    return _call(operation, about, pages)


def _pick(kind: str, wanted: str, items: Iterable[Mapping[str, Any]], where: str) -> Any:
    """The item whose Id, else whose Name, is `wanted`; `PublishError` naming the choices."""
    items = list(items)
    for item in items:
        if item.get("Id") == wanted:
            return item
    named = [item for item in items if item.get("Name") == wanted]
    if len(named) == 1:
        return named[0]
    if named:
        ids = ", ".join(str(item.get("Id")) for item in named)
        raise PublishError(
            f"{kind} {wanted!r}{where} is ambiguous: {len(named)} {kind}s have that name "
            f"(ids {ids}); pass the id instead"
        )
    known = [f"{item.get('Name')} ({item.get('Id')})" for item in items]
    shown = ", ".join(known[:20]) + (f" and {len(known) - 20} more" if len(known) > 20 else "")
    raise PublishError(
        f"no {kind} {wanted!r}{where}; expected the name or id of one of: {shown or 'none'}"
    )


def _resolve_target(
    client: AppConfigClient, application: str, environment: str, profile: str
) -> AppConfigTarget:
    app = _pick(
        "application",
        application,
        _items(client, "list_applications", f"application {application!r}"),
        "",
    )
    app_id = str(app["Id"])
    where = f" in application {app.get('Name')!r} ({app_id})"
    env = _pick(
        "environment",
        environment,
        _items(client, "list_environments", f"application {app_id}", ApplicationId=app_id),
        where,
    )
    prof = _pick(
        "configuration profile",
        profile,
        _items(
            client,
            "list_configuration_profiles",
            f"application {app_id}",
            ApplicationId=app_id,
        ),
        where,
    )
    location = prof.get("LocationUri", "hosted")
    if location != "hosted":
        raise PublishError(
            f"configuration profile {prof.get('Name')!r} ({prof.get('Id')}) reads its "
            f"configuration from {location!r}; flagkit push needs a profile whose location "
            "is 'hosted' (the AppConfig hosted configuration store)"
        )
    return AppConfigTarget(
        application_id=app_id,
        application_name=str(app.get("Name", app_id)),
        environment_id=str(env["Id"]),
        environment_name=str(env.get("Name", env["Id"])),
        profile_id=str(prof["Id"]),
        profile_name=str(prof.get("Name", prof["Id"])),
        profile_type=str(prof.get("Type") or "AWS.Freeform"),
    )


def _resolve_strategy(client: AppConfigClient, strategy: str) -> tuple[str, str]:
    items = _items(client, "list_deployment_strategies", f"deployment strategy {strategy!r}")
    try:
        found = _pick("deployment strategy", strategy, items, "")
    except PublishError:
        if strategy in _PREDEFINED_STRATEGIES:  # predefined ones are addressed by name
            return strategy, strategy
        raise
    return str(found["Id"]), str(found.get("Name", found["Id"]))


def _latest_version(client: AppConfigClient, target: AppConfigTarget) -> int | None:
    """The highest hosted version number, None when the profile has none yet.

    AppConfig lists versions newest first, so the first page is enough; should a page
    not be in that order, every page is read.
    """
    about = f"profile {target.profile_name!r} ({target.profile_id})"

    def latest() -> int | None:
        paginator = client.get_paginator("list_hosted_configuration_versions")
        found: int | None = None
        pages = paginator.paginate(
            ApplicationId=target.application_id, ConfigurationProfileId=target.profile_id
        )
        for page in pages:
            numbers = [item["VersionNumber"] for item in page.get("Items", [])]
            if numbers:
                found = max([*numbers, *([] if found is None else [found])])
                if numbers == sorted(numbers, reverse=True):
                    break
        return found

    return _call("list_hosted_configuration_versions", about, latest)


def _deployed_version(
    client: AppConfigClient, target: AppConfigTarget
) -> tuple[int | None, int | None]:
    """(the environment's latest deployment number, the hosted version of this profile it serves).

    Deployments are listed newest first; the first of this profile that was not rolled
    back is what the environment serves.
    """
    about = f"environment {target.environment_name!r} ({target.environment_id})"

    def scan() -> tuple[int | None, int | None]:
        paginator = client.get_paginator("list_deployments")
        latest: int | None = None
        pages = paginator.paginate(
            ApplicationId=target.application_id, EnvironmentId=target.environment_id
        )
        for page in pages:
            for item in page.get("Items", []):
                if latest is None:
                    latest = item.get("DeploymentNumber")
                profile_id = item.get("ConfigurationProfileId")
                ours = (
                    profile_id == target.profile_id
                    if profile_id
                    else item.get("ConfigurationName") == target.profile_name
                )
                version = str(item.get("ConfigurationVersion", ""))
                if ours and item.get("State") not in _NOT_LIVE and version.isdigit():
                    return latest, int(version)
        return latest, None

    return _call("list_deployments", about, scan)


def _read_version(
    client: AppConfigClient, target: AppConfigTarget, version: int
) -> tuple[Mapping[str, Any] | None, str | None]:
    """(the flag document of a hosted version, None) or (None, why it cannot be read)."""
    about = f"version {version} of profile {target.profile_name!r} ({target.profile_id})"

    def read() -> bytes:
        response = client.get_hosted_configuration_version(
            ApplicationId=target.application_id,
            ConfigurationProfileId=target.profile_id,
            VersionNumber=version,
        )
        with response["Content"] as body:
            return body.read()

    content = _call("get_hosted_configuration_version", about, read)
    try:
        return load_flag_document(content).document, None
    except DocumentError as exc:
        first = exc.problems[0] if exc.problems else "unreadable"
        more = f" (and {len(exc.problems) - 1} more problems)" if len(exc.problems) > 1 else ""
        return None, f"version {version} is not a flag document flagkit can read: {first}{more}"


def _create_version(
    client: AppConfigClient,
    target: AppConfigTarget,
    content: bytes,
    content_type: str,
    description: str | None,
    latest: int | None,
) -> int:
    from botocore.exceptions import ClientError

    params: dict[str, Any] = {
        "ApplicationId": target.application_id,
        "ConfigurationProfileId": target.profile_id,
        "Content": content,
        "ContentType": content_type,
    }
    if description:
        params["Description"] = description
    if latest is not None:
        params["LatestVersionNumber"] = latest
    about = f"profile {target.profile_name!r} ({target.profile_id})"

    def create() -> int:
        try:
            response = client.create_hosted_configuration_version(**params)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConflictException":
                after = f"version {latest}" if latest is not None else "no version"
                raise PublishError(
                    f"another hosted configuration version of {about} was created since this "
                    f"push read the latest one ({after}), so nothing was created or deployed; "
                    "re-run flagkit push to review the impact against the new version "
                    f"(AppConfig: {exc.response.get('Error', {}).get('Message', '')})"
                ) from None
            raise
        with response["Content"] as body:  # read and close the echoed content
            body.read()
        return int(response["VersionNumber"])

    return _call("create_hosted_configuration_version", about, create)


def _start_deployment(
    client: AppConfigClient,
    target: AppConfigTarget,
    strategy_id: str,
    version: int,
    description: str | None,
    latest_deployment: int | None,
) -> Mapping[str, Any]:
    from botocore.exceptions import ClientError

    params: dict[str, Any] = {
        "ApplicationId": target.application_id,
        "EnvironmentId": target.environment_id,
        "DeploymentStrategyId": strategy_id,
        "ConfigurationProfileId": target.profile_id,
        "ConfigurationVersion": str(version),
    }
    if description:
        params["Description"] = description
    if latest_deployment is not None and _knows(
        client, "StartDeployment", "LatestDeploymentNumber"
    ):
        params["LatestDeploymentNumber"] = latest_deployment
    about = f"version {version} to environment {target.environment_name!r}"

    def start() -> Mapping[str, Any]:
        try:
            return client.start_deployment(**params)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConflictException":
                raise PublishError(
                    f"created hosted configuration version {version} but could not deploy it to "
                    f"environment {target.environment_name!r}: another deployment is in "
                    "progress or started since this push read the environment; nothing was "
                    "deployed; re-run flagkit push to review the impact against what is "
                    f"deployed now (AppConfig: {exc.response.get('Error', {}).get('Message', '')})"
                ) from None
            raise

    return _call("start_deployment", about, start)


def _knows(client: AppConfigClient, operation: str, member: str) -> bool:
    """Whether the installed botocore's model of `operation` has the input `member`."""
    shape = client.meta.service_model.operation_model(operation).input_shape
    return shape is not None and member in shape.members
