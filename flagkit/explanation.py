"""What `flagkit.explain.explain` returns: an answer and the steps that led to it.

Frozen dataclasses, each with `as_dict` for JSON: an `Explanation` holds the
`Evaluation` and its `Step`s; a step may carry the `ConditionCheck`s of a rule, the
`PrerequisiteAnswer`s of `requires` and the `BucketCheck` of a percentage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flagkit.model import Evaluation

__all__ = [
    "NOT_REACHED",
    "PASSED",
    "SKIPPED",
    "BucketCheck",
    "ConditionCheck",
    "Explanation",
    "PrerequisiteAnswer",
    "Step",
]

PASSED = "passed"
"""The outcome of a step that looked at the tenant and did not decide."""
SKIPPED = "skipped: not used by this flag"
"""The outcome of a step the flag does not use."""
NOT_REACHED = "not reached"
"""The outcome of every step after the one that decided."""


@dataclass(frozen=True, slots=True)
class ConditionCheck:
    """One condition of a rule: what it tests, as written, the tenant's value and the result."""

    attribute: str
    test: str
    """The test's name as written: `in`, `notEquals`, `versionGte`, ..."""
    operand: Any
    """The operand as written in the document."""
    negate: bool
    ignore_case: bool
    present: bool
    """Whether the tenant has the attribute (`id` and `tier` when given; `now` always)."""
    value: Any
    """The tenant's value (None when missing); for `now`, the instant as RFC 3339 text."""
    held: bool

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; a missing value reads `"missing"` (and `present` is false)."""
        return {
            "attribute": self.attribute,
            "test": self.test,
            "operand": self.operand,
            "negate": self.negate,
            "ignoreCase": self.ignore_case,
            "present": self.present,
            "value": self.value if self.present else "missing",
            "held": self.held,
        }

    def describe(self) -> str:
        """`plan in ["pro", "enterprise"]: "free" → no`."""
        modifiers = "not " if self.negate else ""
        modifiers += "(ignoring case) " if self.ignore_case else ""
        shown = _json(self.value) if self.present else "missing"
        return (
            f"{self.attribute} {modifiers}{self.test} {_json(self.operand)}: {shown} → "
            f"{'holds' if self.held else 'does not hold'}"
        )


@dataclass(frozen=True, slots=True)
class BucketCheck:
    """A percentage's draw: the hashed key, its rank 0 ... 9999 (docs/flag-document.md's
    formula), the threshold (a hundred times the percentage) and whether the rank is below it."""

    salt: str
    key: str
    rank: int
    threshold: int
    inside: bool

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "salt": self.salt,
            "key": self.key,
            "rank": self.rank,
            "threshold": self.threshold,
            "inside": self.inside,
        }


@dataclass(frozen=True, slots=True)
class PrerequisiteAnswer:
    """A flag in `requires` and its own answer for the same tenant."""

    flag: str
    evaluation: Evaluation

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"flag": self.flag, "evaluation": self.evaluation.as_dict()}


@dataclass(frozen=True, slots=True)
class Step:
    """One step of the evaluation order and what it did for this tenant."""

    name: str
    """`kill switch`, `launch window`, `prerequisites`, `excludedTenants`, `rule LABEL`,
    `rules`, `tenants/segments`, `tiers`, `percentage` or `default`."""
    outcome: str
    """`decided: on`, `decided: off`, `decided: variant NAME`, `decided: error CODE`,
    `PASSED`, `SKIPPED` or `NOT_REACHED`."""
    sentence: str
    """One line a person reads: why the step did what it did."""
    conditions: tuple[ConditionCheck, ...] = ()
    prerequisites: tuple[PrerequisiteAnswer, ...] = ()
    bucket: BucketCheck | None = None

    @property
    def decided(self) -> bool:
        return self.outcome.startswith("decided")

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; the details a step does not have are left out."""
        shown: dict[str, Any] = {
            "name": self.name,
            "outcome": self.outcome,
            "sentence": self.sentence,
        }
        if self.conditions:
            shown["conditions"] = [check.as_dict() for check in self.conditions]
        if self.prerequisites:
            shown["prerequisites"] = [answer.as_dict() for answer in self.prerequisites]
        if self.bucket is not None:
            shown["bucket"] = self.bucket.as_dict()
        return shown


@dataclass(frozen=True, slots=True)
class Explanation:
    """One flag's answer for one tenant at one instant, and the path through the steps."""

    evaluation: Evaluation
    steps: tuple[Step, ...]
    now: float
    """The instant explained, in seconds since the epoch."""

    @property
    def deciding_step(self) -> Step | None:
        """The step that decided; None only for a flag the document does not have."""
        return next((step for step in self.steps if step.decided), None)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the evaluation, the instant and the steps."""
        from flagkit.timestamps import format_timestamp

        return {
            "evaluation": self.evaluation.as_dict(),
            "at": format_timestamp(self.now),
            "steps": [step.as_dict() for step in self.steps],
        }


def _json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)
