"""Plain JSON for humans and shell scripts: one flag, or every flag, for one tenant.

```
curl 'http://127.0.0.1:8000/v1/flags/featureA?tenant=acme&tier=enterprise'
curl 'http://127.0.0.1:8000/v1/tenants/acme/flags?tier=enterprise'
```
`attr=KEY=VALUE` (repeatable) adds a tenant attribute; VALUE is read as JSON when
it parses (`10`, `true`, `["a"]`) and as a string otherwise, as in `flagkit eval`.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from flagkit.model import ErrorCode, Tenant
from service.context import ContextError, attributes_from_pairs, tenant_from_context
from service.errors import ServiceError
from service.metrics import Metrics
from service.openapi_models import ErrorBody, PlainEvaluation, TenantFlags
from service.routes import served_flags

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["Plain JSON"])
"""The API key is checked before routing, by `service.auth.ApiKeyGuard`."""

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "A bad attribute, or no tenant where one is needed."},
    401: {"model": ErrorBody, "description": "A valid API key is required."},
    403: {"model": ErrorBody, "description": "No API keys configured and not on loopback."},
    503: {"model": ErrorBody, "description": "No valid flag document loaded yet."},
}
_ATTR = Query(
    default=[],
    description="KEY=VALUE, a tenant attribute; VALUE is JSON when it parses, else a string.",
    # Documents what `_tenant` checks (a KEY, then `=`); `_tenant` says what is wrong.
    json_schema_extra={"items": {"type": "string", "pattern": "^[^=]+="}},
)


def _tenant(request: Request, tenant: str | None, tier: str | None, attr: list[str]) -> Tenant:
    try:
        context = attributes_from_pairs(attr)
        if tenant is not None:
            context["targetingKey"] = tenant
        if tier is not None:
            context["tier"] = tier
        return tenant_from_context(context, request.app.state.context_limits)
    except ContextError as exc:
        raise ServiceError(400, exc.message, code=exc.code) from None


@router.get(
    "/flags/{key}",
    operation_id="getFlag",
    summary="One flag for one tenant",
    response_model=PlainEvaluation,
    responses={
        **_ERRORS,
        400: {
            "model": PlainEvaluation | ErrorBody,
            "description": "A bad attribute (an error body), or no tenant where the flag needs "
            "one (the evaluation, with its errorCode).",
        },
        404: {"model": PlainEvaluation, "description": "No flag with this key."},
    },
)
async def get_flag(
    key: str,
    request: Request,
    tenant: str | None = Query(default=None, description="The tenant id."),
    tier: str | None = Query(default=None, description="The tenant's tier."),
    attr: list[str] = _ATTR,
) -> Response:
    """`{"flag", "enabled", "value", "variant", "reason", "rule", "version", ...}`."""
    flags = served_flags(request)
    evaluation = flags.evaluate(key, _tenant(request, tenant, tier, attr))
    not_found = evaluation.error_code is ErrorCode.FLAG_NOT_FOUND
    metrics: Metrics = request.app.state.metrics
    metrics.count_evaluation(evaluation, known=not not_found)
    status = 200 if evaluation.error_code is None else 404 if not_found else 400
    return Response(
        json.dumps(evaluation.as_dict()), status_code=status, media_type="application/json"
    )


@router.get(
    "/tenants/{tenant:path}/flags",  # :path, so an id with a "/" (sent as %2F) still matches
    operation_id="getTenantFlags",
    summary="Every flag for one tenant",
    response_model=TenantFlags,
    responses=_ERRORS,
)
async def get_tenant_flags(
    tenant: str,
    request: Request,
    tier: str | None = Query(default=None, description="The tenant's tier."),
    attr: list[str] = _ATTR,
) -> Response:
    """`{"tenant", "tier", "version", "flags": {KEY: evaluation, ...}}`."""
    flags = served_flags(request)
    subject = _tenant(request, tenant, tier, attr)
    evaluations = flags.evaluate_all(subject)  # One document, even mid-swap.
    metrics: Metrics = request.app.state.metrics
    answers = {}
    for evaluation in evaluations:
        metrics.count_evaluation(evaluation)
        answers[evaluation.flag] = evaluation.as_dict()
    version = evaluations[0].version if evaluations else flags.version
    body = {"tenant": tenant, "tier": tier, "version": version, "flags": answers}
    return Response(json.dumps(body), media_type="application/json")
