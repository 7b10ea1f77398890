"""The shapes of the service's JSON bodies, for `/openapi.json` only.

Routes build their bodies by hand (that is most of their speed); these models
describe them, and the schemathesis tests hold the two equal.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "BulkEvaluationFailure",
    "BulkEvaluationSuccess",
    "ErrorBody",
    "EvaluationFailure",
    "EvaluationSuccess",
    "PlainEvaluation",
    "Readiness",
    "RejectedDocument",
    "ServiceStatus",
    "TenantFlags",
]

WireReason = Literal["STATIC", "TARGETING_MATCH", "SPLIT", "DISABLED", "DEFAULT", "UNKNOWN"]
EvaluationErrorCode = Literal[
    "PARSE_ERROR", "TARGETING_KEY_MISSING", "INVALID_CONTEXT", "TYPE_MISMATCH", "GENERAL"
]
Metadata = dict[str, bool | str | int | float]


class EvaluationSuccess(BaseModel):
    """One flag's value. No `value` means: use the default in your code."""

    model_config = ConfigDict(extra="allow")

    key: str
    value: Any = Field(default=None, description="Absent when the caller's default applies.")
    reason: WireReason
    variant: str = Field(description="`on`/`off` for boolean flags; empty for a code default.")
    metadata: Metadata = Field(description="The flag's scalar attributes, `version` and `rule`.")


class EvaluationFailure(BaseModel):
    """A flag that could not be evaluated for this context."""

    key: str
    errorCode: EvaluationErrorCode
    errorDetails: str


class FlagNotFound(BaseModel):
    """The document has no flag with this key."""

    key: str
    errorCode: Literal["FLAG_NOT_FOUND"]
    errorDetails: str


class BulkEvaluationSuccess(BaseModel):
    """Every flag of the document, evaluated for one context."""

    flags: list[EvaluationSuccess | EvaluationFailure]
    metadata: Metadata = Field(description="`version`: the document version.")


class BulkEvaluationFailure(BaseModel):
    """A request that could not be evaluated at all."""

    errorCode: str
    errorDetails: str


class ErrorBody(BaseModel):
    """Any other error: 401, 403, 413, 503."""

    errorCode: str
    errorDetails: str


class PlainEvaluation(BaseModel):
    """One flag for one tenant, for humans and shell scripts."""

    flag: str
    enabled: bool
    value: Any
    variant: str | None
    reason: str
    rule: str | None
    errorCode: str | None
    errorMessage: str | None
    attributes: dict[str, Any]
    version: str | None


class TenantFlags(BaseModel):
    """Every flag for one tenant."""

    tenant: str
    tier: str | None
    version: str | None
    flags: dict[str, PlainEvaluation]


class RejectedDocument(BaseModel):
    """A refused document: its version label and every problem, each with its JSON path."""

    version: str | None
    problems: list[str]


class OverridesInForce(BaseModel):
    """Whether local overrides force answers now, and for how many flags (never which)."""

    active: bool = Field(description="True while at least one flag's answer is forced.")
    count: int = Field(description="How many flags the overrides force now.")


class OverridesState(OverridesInForce):
    """The overrides in force, where they come from, and why their file was last refused."""

    origin: str | None = Field(
        default=None, description="`file:PATH`, `env:FLAGKIT_OVERRIDES`; null without overrides."
    )
    error: str | None = Field(
        default=None,
        description="Why the overrides file's current content was refused (the last good "
        "overrides serve meanwhile).",
    )


class Readiness(BaseModel):
    """What a probe needs: whether a valid document is served, its version, how stale it is.

    Nothing here comes from a document's content or the deployment's layout: the
    source, the errors and a rejection's problems are on `/v1/status`, behind the API keys.
    """

    status: Literal["ready", "loading"]
    version: str | None = None
    staleFor: float | None = None
    rejected: bool = Field(
        default=False,
        description="True while a document the source delivered is refused and not yet "
        "replaced (the last good document serves meanwhile); `/v1/status` says why.",
    )
    overrides: OverridesInForce | None = Field(
        default=None, description="Local overrides in force (absent while loading)."
    )


class ServiceStatus(BaseModel):
    """Everything about the served document: where it comes from, the last error, a rejection."""

    status: Literal["ready", "loading"]
    version: str | None = None
    source: str | None = None
    origin: str | None = None
    staleFor: float | None = None
    lastError: str | None = None
    rejected: RejectedDocument | None = Field(
        default=None,
        description="The document the source delivered and flagkit refused, until a valid "
        "one replaces it (the last good document serves meanwhile).",
    )
    overrides: OverridesState | None = Field(
        default=None, description="Local overrides (absent while loading)."
    )
