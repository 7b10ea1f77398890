"""Operations: liveness, readiness, the detailed status and Prometheus metrics.

`/healthz` and `/readyz` are open (probes send no key) and say nothing a stranger
could use; `/v1/status` and, unless FLAGKIT_METRICS_OPEN is set, `/metrics` follow
the API keys (`service.auth`).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response

from service.metrics import Metrics
from service.openapi_models import ErrorBody, Readiness, ServiceStatus
from service.state import FlagsLoader

__all__ = ["router"]

router = APIRouter(tags=["Operations"])

_GUARDED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "A valid API key is required."},
    403: {"model": ErrorBody, "description": "No API keys configured and not on loopback."},
}
"""The refusals of `service.auth` on a route that follows the API keys (`service.app`
adds the 421 to every such route)."""


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

    Open to anyone (probes send no key), so it says only what a probe needs:
    `rejected` is true while the source's latest document is refused and the last
    good one serves; `overrides` says whether local overrides force answers, and for
    how many flags (never which); the source, the errors, the problems and where the
    overrides come from are on `/v1/status`.
    """
    details = _details(request.app.state.loader)
    if details["status"] == "loading":
        return _json({"status": "loading"}, 503)
    return _json(
        {
            "status": "ready",
            "version": details["version"],
            "staleFor": details["staleFor"],
            "rejected": details["rejected"] is not None,
            "overrides": {key: details["overrides"][key] for key in ("active", "count")},
        }
    )


@router.get(
    "/v1/status",
    operation_id="status",
    summary="The served document: source, origin, freshness, last error, rejection",
    response_model=ServiceStatus,
    responses=_GUARDED,
)
async def service_status(request: Request) -> Response:
    """Everything `/readyz` leaves out, for operators with an API key (200 while loading too).

    `lastError` and a rejection's `problems` quote the refused document (tenant ids
    included), which is why this route asks for a key.
    """
    return _json(_details(request.app.state.loader))


def _details(loader: FlagsLoader) -> dict[str, Any]:
    """`/v1/status`'s body; `/readyz` shows a few of its members."""
    flags = loader.flags
    if flags is None:
        return {"status": "loading", "lastError": loader.error}
    status = flags.status
    return {
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
        "overrides": {
            "active": status.overrides > 0,
            "count": status.overrides,
            "origin": status.overrides_origin,
            "error": status.overrides_error,
        },
    }


def _json(body: dict[str, object], status_code: int = 200) -> Response:
    return Response(json.dumps(body), status_code=status_code, media_type="application/json")


@router.get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}},
        **_GUARDED,
    },
)
async def metrics(request: Request) -> Response:
    """Evaluations, request latency, the served document and its freshness, in text format.

    It names every flag and the source, so it follows the API keys (Prometheus sends
    `Authorization: Bearer KEY` from its `authorization` setting) unless
    FLAGKIT_METRICS_OPEN=1 serves it to anyone.
    """
    registry: Metrics = request.app.state.metrics
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
