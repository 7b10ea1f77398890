"""What the Flags page shows of each flag: its state, launch window, targeting and usage.

Read from the served document as written (`FlagSet.document`), so the page says what a
product manager wrote, in the document's own words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flagkit.flagset import FlagSet

__all__ = ["FlagSummary", "UsageCount", "summarize_flags"]


@dataclass(frozen=True, slots=True)
class UsageCount:
    """How often one variant was served for one reason since the service started."""

    variant: str
    reason: str
    count: int


@dataclass(frozen=True, slots=True)
class FlagSummary:
    """One row of the Flags page."""

    key: str
    description: str
    state: str
    """`on`, `killed (enabled: false)`, `scheduled`, `ended`."""
    window: str
    """The launch window as written, or `none`."""
    targeting: tuple[str, ...]
    """One short phrase per targeting field the flag uses; `everyone` when it has none."""
    evaluations: int
    usage: tuple[UsageCount, ...]


def summarize_flags(
    flagset: FlagSet, counts: Mapping[tuple[str, str, str], float]
) -> tuple[FlagSummary, ...]:
    """A summary of every flag of `flagset`, in document order, with the usage `counts`
    (`Metrics.evaluation_counts()`: (flag, variant, reason) → count)."""
    now = flagset.clock()
    summaries = []
    for key, flag in flagset.flags.items():
        raw: Mapping[str, Any] = flagset.document[key]
        usage = tuple(
            sorted(
                (
                    UsageCount(variant or "(default)", reason, int(count))
                    for (counted, variant, reason), count in counts.items()
                    if counted == key and count > 0
                ),
                key=lambda usage: (-usage.count, usage.variant, usage.reason),
            )
        )
        start, end = flag.active_from, flag.active_until
        summaries.append(
            FlagSummary(
                key=key,
                description=str(raw.get("description", "")),
                state=_state(flag.enabled, start, end, now),
                window=_window(raw),
                targeting=_targeting(raw),
                evaluations=sum(count.count for count in usage),
                usage=usage,
            )
        )
    return tuple(summaries)


def _state(enabled: bool, start: float, end: float, now: float) -> str:
    if not enabled:
        return "killed (enabled: false)"
    if math.isfinite(start) and now < start:
        return "scheduled"
    if math.isfinite(end) and now >= end:
        return "ended"
    return "on"


def _window(raw: Mapping[str, Any]) -> str:
    start, end = raw.get("activeFrom"), raw.get("activeUntil")
    if start is None and end is None:
        return "none"
    return f"{start or '…'} → {end or '…'}"


def _targeting(raw: Mapping[str, Any]) -> tuple[str, ...]:
    phrases = []
    if raw.get("requires"):
        phrases.append("requires " + ", ".join(raw["requires"]))
    if raw.get("excludedTenants"):
        phrases.append(_count(len(raw["excludedTenants"]), "excluded tenant"))
    if raw.get("rules"):
        phrases.append(_count(len(raw["rules"]), "rule"))
    if raw.get("tenants"):
        phrases.append("tenants " + _listed(raw["tenants"]))
    if raw.get("segments"):
        phrases.append("segments " + _listed(raw["segments"]))
    if raw.get("tiers"):
        phrases.append("tiers " + _listed(raw["tiers"]))
    if raw.get("percentage") is not None:
        phrases.append(f"{raw['percentage']:g}% of tenants")
    if raw.get("variants"):
        phrases.append("variants " + _listed(list(raw["variants"])))
    if raw.get("split"):
        weights = ", ".join(f"{name} {weight}" for name, weight in raw["split"].items())
        phrases.append(f"split {weights}")
    return tuple(phrases) or ("everyone",)


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _listed(items: list[Any], shown: int = 5) -> str:
    names = ", ".join(str(item) for item in items[:shown])
    return names + (f" and {len(items) - shown} more" if len(items) > shown else "")
