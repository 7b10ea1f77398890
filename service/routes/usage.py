"""`GET /v1/usage`: which flags are still evaluated, and which serve one answer to everyone.

Read from the Prometheus counter `flagkit_evaluations_total{flag, variant, reason}`, so
with several workers (`--workers`) it adds up every worker's counts. Counts run from the
start of the service; answers forced by a local override are not counted.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from starlette.responses import Response

from service.metrics import Metrics
from service.openapi_models import ErrorBody
from service.routes import served_flags

__all__ = ["router"]

router = APIRouter(tags=["Operations"])


@router.get(
    "/v1/usage",
    operation_id="usage",
    summary="Evaluations per flag since the service started; unused and single-answer flags",
    responses={
        401: {"model": ErrorBody, "description": "A valid API key is required."},
        403: {"model": ErrorBody, "description": "No API keys configured and not on loopback."},
        503: {"model": ErrorBody, "description": "No flag document is loaded yet."},
    },
)
async def usage(request: Request) -> Response:
    """Per flag of the served document: how many evaluations, by variant and reason.

    `unused` lists the flags evaluated not once since `since`; `singleAnswer` those that
    served every evaluation the same variant. Both are clean-up candidates once the
    service has run long enough to have seen every caller.
    """
    flags = served_flags(request)
    metrics: Metrics = request.app.state.metrics
    usage = metrics.usage(flags.keys)
    listed = [
        {
            "flag": key,
            "evaluations": usage.total(key),
            "answers": [
                {"variant": count.variant, "reason": count.reason.value, "count": count.count}
                for count in usage.counts
                if count.flag == key
            ],
        }
        for key in flags.keys
    ]
    body = {
        "since": usage.start,
        "flags": listed,
        "unused": list(usage.unused),
        "singleAnswer": list(usage.single_answer),
    }
    return Response(json.dumps(body), media_type="application/json")
