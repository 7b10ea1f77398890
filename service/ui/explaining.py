"""The Explain page's work: the form's tenant → every flag's answer and deciding step, and
one flag's path through the evaluation order (`flagkit.explain`).

The answers are explained, not served: they are not counted as usage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flagkit.explain import explain
from flagkit.explanation import Explanation
from flagkit.flagset import FlagSet
from flagkit.model import Tenant
from service.context import ContextError, ContextLimits, attributes_from_pairs, tenant_from_context

__all__ = ["ExplainError", "FlagAnswer", "explain_tenant", "shown_value", "tenant_from_form"]


class ExplainError(Exception):
    """The form cannot be explained (a malformed attribute, an unknown flag)."""


@dataclass(frozen=True, slots=True)
class FlagAnswer:
    """One row of the Explain page: a flag's answer for the tenant and why."""

    key: str
    explanation: Explanation

    @property
    def deciding(self) -> str:
        """`step: sentence` of the step that decided."""
        step = self.explanation.deciding_step
        return "" if step is None else f"{step.name}: {step.sentence}"


def tenant_from_form(tenant_id: str, tier: str, attributes: str, limits: ContextLimits) -> Tenant:
    """The tenant the form describes: `attributes` holds `KEY=VALUE` lines (blank lines
    are skipped; VALUE is JSON when it parses, else text); empty id and tier are absent."""
    lines = [line.strip() for line in attributes.splitlines() if line.strip()]
    try:
        context = attributes_from_pairs(lines, what="attribute line")
        if tenant_id.strip():
            context["targetingKey"] = tenant_id.strip()
        if tier.strip():
            context["tier"] = tier.strip()
        return tenant_from_context(context, limits)
    except ContextError as exc:
        raise ExplainError(exc.message) from None


def explain_tenant(
    flagset: FlagSet, tenant: Tenant, flag: str
) -> tuple[tuple[FlagAnswer, ...], Explanation | None]:
    """Every flag's answer for `tenant`, and `flag`'s explanation when one is named (all
    at one instant); `ExplainError` for a flag the served document does not have."""
    if flag and flag not in flagset.flags:
        raise ExplainError(f"no flag {flag!r} in the served document (version {flagset.version})")
    now = flagset.clock()
    answers = tuple(
        FlagAnswer(key, explain(flagset, key, tenant, now=now)) for key in flagset.flags
    )
    chosen = next((answer.explanation for answer in answers if answer.key == flag), None)
    return answers, chosen


def shown_value(value: Any) -> str:
    """A value as JSON text, as the document would hold it."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)
