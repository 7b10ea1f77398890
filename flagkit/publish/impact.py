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

Both documents are evaluated as of one instant (now, or `at=`); `old_at=` evaluates the
old one as of another, so that the same document diffed against itself shows what its
launch windows and conditions on `now` change between two instants (docs/previews.md).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from flagkit.compiler import compile_document, time_boundaries
from flagkit.document import changed_flags, flag_items, load_document, segments_used
from flagkit.evaluation import evaluate
from flagkit.flagset import CompiledFlag, FlagSet
from flagkit.model import Tenant
from flagkit.publish.coverage import ChangeCoverage, MissingInput, TenantsCoverage
from flagkit.schema import format_path
from flagkit.sources.memory import MemorySource
from flagkit.timestamps import format_timestamp

__all__ = ["Diff", "FlagDiff", "FlagStatus", "VariantChange", "diff_documents", "format_diff"]

FlagStatus = Literal["added", "removed", "changed", "prerequisite", "scheduled"]
"""How a flag differs: added, removed, its own JSON (or a segment it uses) changed, only
the answers of a flag it `requires` changed, or (`scheduled`) nothing but the time: the
documents are evaluated as of two instants, and its launch window or a condition on `now`
(its own or a prerequisite's) changes its answers between them."""


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
    per unchanged flag whose answers changed through `requires` or by the clock
    (`scheduled`), new document's order first. `tenants` is how many tenants were
    evaluated (0 when none were given).
    `at` is the instant NEW was evaluated as of and `old_at` OLD's (seconds since the
    epoch); None for the moment the diff ran, when no instant was given.
    """

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    flags: tuple[FlagDiff, ...]
    tenants: int
    at: float | None = None
    old_at: float | None = None

    @property
    def scheduled(self) -> tuple[str, ...]:
        """The flags whose JSON did not change but whose answers the time changes between
        `old_at` and `at` (without tenants: may change)."""
        return tuple(flag.flag for flag in self.flags if flag.status == "scheduled")

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
        tenants the impact is unknown, so any added, removed or changed flag counts, and
        any flag the time may change between the two instants (`scheduled`).
        A change of attributes or of a variant's value alone changes no answer.
        """
        if self.tenants:
            return any(flag.changes_answers for flag in self.flags)
        return bool(self.added or self.removed or self.changed or self.scheduled)

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
            "at": None if self.at is None else format_timestamp(self.at),
            "oldAt": None if self.old_at is None else format_timestamp(self.old_at),
        }


def _compiled(document: Mapping[str, Any], instant: float) -> FlagSet:
    """`document` through the checks every source's document passes, then compiled to
    answer as of `instant`."""
    snapshot = MemorySource(document).fetch()
    checked = load_document(snapshot.content)
    return compile_document(checked, version=snapshot.version, clock=lambda: instant)


def diff_documents(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    tenants: Sequence[Tenant] = (),
    *,
    at: float | None = None,
    old_at: float | None = None,
) -> Diff:
    """Compare two flag documents and, for each tenant, the answers they give.

    Both documents are checked and compiled first, exactly as `Flags.from_dict` would
    (`DocumentError` if either is invalid: not JSON data, too large, or failing a
    check). Every flag that was added, removed or changed, or that requires one, is
    evaluated in both for every tenant, as `Flags.evaluate` does: an absent flag
    answers off with no variant. With tenants, each such flag's `missing` names what
    its change depends on that no tenant carries (`flagkit.publish.coverage`).

    NEW is evaluated as of `at` (seconds since the epoch; default: now) and OLD as of
    `old_at` (default: the same instant). When they differ, an unchanged flag that the
    time may change between them (a launch window, a condition on `now`, its own or a
    prerequisite's) is evaluated too, and listed as `scheduled` when some tenant's
    answer changes or it could not be assessed (without tenants: when it may change).
    """
    new_instant = time.time() if at is None else at
    old_instant = new_instant if old_at is None else old_at
    old_flags, new_flags = _compiled(old, old_instant), _compiled(new, new_instant)
    old_keys = [key for key, _ in flag_items(old)]
    new_keys = [key for key, _ in flag_items(new)]
    changed = changed_flags(old, new)
    added = tuple(key for key in new_keys if key not in old)
    removed = tuple(key for key in old_keys if key not in new)
    edited = tuple(key for key in new_keys if key in changed and key in old)
    reaching = _requiring(old, changed) | _requiring(new, changed)
    timed = _timed(new_flags, old_instant, new_instant) | _timed(
        old_flags, old_instant, new_instant
    )
    coverage = ChangeCoverage(old, new, TenantsCoverage.of(tenants)) if tenants else None
    results: list[FlagDiff] = []
    for key in [*new_keys, *removed]:
        if key not in changed and key not in reaching and key not in timed:
            continue
        status: FlagStatus
        if key in added:
            status = "added"
        elif key in removed:
            status = "removed"
        elif key in changed:
            status = "changed"
        elif key in reaching:
            status = "prerequisite"
        else:
            status = "scheduled"
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
        missing = coverage.missing(key, time_moves=key in timed) if coverage is not None else ()
        quiet = not (gained or lost or variants or missing)
        if quiet and (status == "prerequisite" or (status == "scheduled" and tenants)):
            continue
        results.append(
            FlagDiff(key, status, fields, tuple(gained), tuple(lost), tuple(variants), missing)
        )
    old_at = at if old_at is None else old_at
    return Diff(added, removed, edited, tuple(results), len(tenants), at=at, old_at=old_at)


def _timed(flags: FlagSet, start: float, end: float) -> set[str]:
    """The flags of `flags` whose answers the time alone may change between `start` and
    `end`: a boundary of theirs (or of a flag they require) lies in between."""
    low, high = min(start, end), max(start, end)
    if low == high:
        return set()
    return {
        key
        for key, flag in flags.flags.items()
        if flag.reads_clock and time_boundaries(_with_prerequisites(flag)).next_change(low) <= high
    }


def _with_prerequisites(flag: CompiledFlag) -> Iterator[CompiledFlag]:
    """`flag` and every flag it requires, directly or not, that is not killed (a killed
    flag answers before reading the time)."""
    pending, seen = [flag], set()
    while pending:
        each = pending.pop()
        if each.key in seen or not each.enabled:
            continue
        seen.add(each.key)
        yield each
        pending.extend(required for required, _ in each.requires)


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
    The last line sums up. A diff as of given instants starts with a line naming them
    (`as of 2026-12-24T09:00:00Z`, or `old as of ..., new as of ...`).
    """
    lines: list[str] = []
    if diff.at is not None or diff.old_at is not None:
        lines.append(_instants(diff.old_at, diff.at))
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
            "scheduled": "by the clock",
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


def _instants(old_at: float | None, at: float | None) -> str:
    """`as of T` when both documents were evaluated as of one instant, else each's."""
    old, new = ("now" if instant is None else format_timestamp(instant) for instant in (old_at, at))
    return f"as of {new}" if old_at == at else f"old as of {old}, new as of {new}"


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
    if diff.scheduled:
        count = len(diff.scheduled)
        flags += f", {count} {'changes' if count == 1 else 'change'} by the clock"
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
