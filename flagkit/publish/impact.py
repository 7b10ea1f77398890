"""The impact of a change to a flag document: who gains, loses or changes variant, per flag.

```
diff = diff_documents(old, new, read_tenants("tenants.txt"))
for line in format_diff(diff):
    print(line)
```

`diff_documents` compiles both documents and evaluates every flag that differs (or
requires one that does) for every tenant; `format_diff` says it in lines a product
manager reads, and `Diff.as_dict` in JSON for CI. A flag whose change depends on
something no tenant of the file carries (an attribute a rule tests, tiers, a tenant the
change names) is reported as not assessed (`FlagDiff.missing`, `Diff.unassessed`;
`flagkit.publish.coverage`), never as "no tenant's answer changes".
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from flagkit.compiler import compile_document
from flagkit.document import changed_flags, flag_items, load_document, segments_used
from flagkit.evaluation import evaluate
from flagkit.flagset import FlagSet
from flagkit.model import Tenant
from flagkit.publish.coverage import ChangeCoverage, MissingInput, TenantsCoverage
from flagkit.schema import format_path
from flagkit.sources.memory import MemorySource

__all__ = ["Diff", "FlagDiff", "FlagStatus", "VariantChange", "diff_documents", "format_diff"]

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
    is filled for variant flags only. `missing` lists what the change depends on that
    no tenant evaluated carries: when it is not empty, the lists above are only the
    changes among those tenants, and other tenants' answers may change too.
    """

    flag: str
    status: FlagStatus
    fields: tuple[str, ...] = ()
    gained: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()
    variant_changes: tuple[VariantChange, ...] = ()
    missing: tuple[MissingInput, ...] = ()

    @property
    def changes_answers(self) -> bool:
        """True when some evaluated tenant gets a different answer (on/off or variant)."""
        return bool(self.gained or self.lost or self.variant_changes)

    @property
    def assessed(self) -> bool:
        """False when the change depends on something the tenants evaluated do not carry."""
        return not self.missing

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
            "assessed": self.assessed,
            "missing": [missing.as_dict() for missing in self.missing],
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
    def unassessed(self) -> tuple[str, ...]:
        """The flags whose change could not be assessed with the tenants given: the gate
        `flagkit diff` exits 4 on. Empty without tenants (then nothing is assessed, and
        `changes_answers` counts every change)."""
        return tuple(flag.flag for flag in self.flags if flag.missing)

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
            "unassessed": list(self.unassessed),
        }


def _compiled(document: Mapping[str, Any]) -> FlagSet:
    """`document` through the checks every source's document passes, then compiled."""
    snapshot = MemorySource(document).fetch()
    return compile_document(load_document(snapshot.content), version=snapshot.version)


def diff_documents(
    old: Mapping[str, Any], new: Mapping[str, Any], tenants: Sequence[Tenant] = ()
) -> Diff:
    """Compare two flag documents and, for each tenant, the answers they give.

    Both documents are checked and compiled first, exactly as `Flags.from_dict` would
    (`DocumentError` if either is invalid: not JSON data, too large, or failing a
    check). Every flag that was added, removed or changed, or that requires one, is
    evaluated in both for every tenant, as `Flags.evaluate` does: an absent flag
    answers off with no variant. With tenants, each such flag's `missing` names what
    its change depends on that no tenant carries (`flagkit.publish.coverage`).
    """
    old_flags, new_flags = _compiled(old), _compiled(new)
    old_keys = [key for key, _ in flag_items(old)]
    new_keys = [key for key, _ in flag_items(new)]
    changed = changed_flags(old, new)
    added = tuple(key for key in new_keys if key not in old)
    removed = tuple(key for key in old_keys if key not in new)
    edited = tuple(key for key in new_keys if key in changed and key in old)
    reaching = _requiring(old, changed) | _requiring(new, changed)
    coverage = ChangeCoverage(old, new, TenantsCoverage.of(tenants)) if tenants else None
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
            before = evaluate(old_flags, key, tenant)
            after = evaluate(new_flags, key, tenant)
            tenant_id = tenant.id or ""
            if before.enabled != after.enabled:
                (gained if after.enabled else lost).append(tenant_id)
            if variant_flag and before.variant != after.variant:
                variants.append(VariantChange(tenant_id, before.variant, after.variant))
        missing = coverage.missing(key) if coverage is not None else ()
        if status == "prerequisite" and not (gained or lost or variants or missing):
            continue
        results.append(
            FlagDiff(key, status, fields, tuple(gained), tuple(lost), tuple(variants), missing)
        )
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
    used = segments_used(before) | segments_used(after)
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
    `limit` caps the ids shown per line (None shows every id). A flag whose change
    depends on what the tenants file does not carry says "could not assess" and, on a
    `  ? not in the tenants file: ...` line, what is missing and where the flag reads it.
    The last line sums up.
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
        if flag.missing:
            parts.append("could not assess the rest" if parts else "could not assess")
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
        if flag.missing:
            lines.append("  ? not in the tenants file: " + _missing(flag.missing, limit))
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


def _missing(missing: Sequence[MissingInput], limit: int | None) -> str:
    """`attribute "plan", read by rules; a tier, read by tiers; tenant newco, named by tenants`."""
    described: list[str] = []
    tenants: dict[str, list[str]] = {}
    for item in missing:
        places = ", ".join(item.read_by)
        if item.kind == "tenant":
            tenants.setdefault(places, []).append(item.name)
        elif item.kind == "tier":
            described.append(f"a tier, read by {places}")
        else:
            name = json.dumps(item.name, ensure_ascii=False)
            described.append(f"attribute {name}, read by {places}")
    for places, ids in tenants.items():
        noun = "tenant" if len(ids) == 1 else "tenants"
        described.append(f"{noun} {_capped(ids, limit)}, named by {places}")
    return "; ".join(described)


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
    summary = f"{flags}; a different answer for {affected} of {_tenants(diff.tenants)}"
    if diff.unassessed:
        count = len(diff.unassessed)
        whose = "its answers depend" if count == 1 else "their answers depend"
        summary += (
            f"; {_plural(count, 'flag')} could not be assessed "
            f"({whose} on what the tenants file does not carry)"
        )
    return summary
