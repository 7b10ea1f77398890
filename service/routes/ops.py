"""Operations: liveness, readiness and Prometheus metrics; none of them asks for an API key."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response

from service.metrics import Metrics
from service.openapi_models import Readiness
from service.state import FlagsLoader

__all__ = ["router"]

router = APIRouter(tags=["Operations"])


@router.get("/healthz", operation_id="health", summary="The process is up")
async def health() -> dict[str, str]:
    """Always `{"status": "ok"}` while the process serves HTTP."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    operation_id="ready",
    summary="A valid flag document is served",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "No valid document loaded yet."}},
)
async def ready(request: Request) -> Response:
    """200 with the version and staleness once a valid document is loaded; 503 until then.

    `rejected` is the document the source delivered and flagkit refused (its version
    and problems) until a valid one replaces it; the last good document serves meanwhile.
    """
    loader: FlagsLoader = request.app.state.loader
    flags = loader.flags
    if flags is None:
        body: dict[str, object] = {"status": "loading", "lastError": loader.error}
        return Response(json.dumps(body), status_code=503, media_type="application/json")
    status = flags.status
    body = {
        "status": "ready",
        "version": status.version,
        "source": status.source,
        "origin": status.origin,
        "staleFor": status.stale_for,
        "lastError": status.last_error,
        "rejected": (
            {"version": status.rejected_version, "problems": list(status.rejected_problems)}
            if status.rejected
            else None
        ),
    }
    return Response(json.dumps(body), media_type="application/json")


@router.get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}
    },
)
async def metrics(request: Request) -> Response:
    """Evaluations, request latency, the served document and its freshness, in text format."""
    registry: Metrics = request.app.state.metrics
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
