"""The Preview page's work: a candidate document and tenants → the blast radius `flagkit diff`
prints, or every problem of the input, worded for the page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, get_args

from flagkit.errors import DocumentError, PublishError
from flagkit.publish import (
    TenantsFormat,
    diff_documents,
    format_diff,
    load_flag_document,
    parse_tenants,
)

__all__ = ["IDS_SHOWN", "Preview", "PreviewError", "preview_change"]

IDS_SHOWN = 10
"""Tenant ids shown per line, as `flagkit diff` shows without `--all`."""


class PreviewError(Exception):
    """The candidate or the tenants cannot be read; `problems` says every reason."""

    def __init__(self, problems: tuple[str, ...]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Preview:
    """What a candidate would change: the diff's lines, and the candidate's warnings."""

    lines: tuple[str, ...]
    warnings: tuple[str, ...]
    tenants: int
    changes_answers: bool


def preview_change(
    served: Mapping[str, Any], candidate: str, tenants: str, tenants_format: str
) -> Preview:
    """Diff `served` against the `candidate` document's text for the tenants in `tenants`
    (a tenants file's text in `tenants_format`: text, jsonl or csv); `PreviewError` when
    the candidate is missing or invalid or the tenants malformed, naming every problem."""
    if tenants_format not in get_args(TenantsFormat):
        raise PreviewError(
            (f"unknown tenants format {tenants_format!r}; expected text, jsonl or csv",)
        )
    problems: list[str] = []
    checked = None
    if not candidate.strip():
        problems.append("candidate document: paste or upload a flag document")
    else:
        try:
            checked = load_flag_document(candidate)
        except DocumentError as exc:
            problems.extend(f"candidate document: {problem}" for problem in exc.problems)
    try:
        listed = parse_tenants(tenants, "tenants", tenants_format)  # type: ignore[arg-type]
    except PublishError as exc:
        problems.append(str(exc))
        listed = ()
    if problems or checked is None:
        raise PreviewError(tuple(problems))
    diff = diff_documents(served, checked.document, listed)
    return Preview(
        lines=tuple(format_diff(diff, limit=IDS_SHOWN)),
        warnings=tuple(f"candidate document: warning: {warning}" for warning in checked.warnings),
        tenants=len(listed),
        changes_answers=diff.changes_answers,
    )
