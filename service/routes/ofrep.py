"""OFREP: the OpenFeature Remote Evaluation Protocol's two evaluation endpoints.

`POST /ofrep/v1/evaluate/flags/{key}` and `POST /ofrep/v1/evaluate/flags` (bulk,
with an `ETag`), as `open-feature/protocol`'s `service/openapi.yaml` describes.
The context's `targetingKey` is the tenant id; `tier` and every other key are
tenant attributes. Only OpenFeature's reason and error-code names go on the wire.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from flagkit.model import ErrorCode, Evaluation
from service.context import ContextError, ContextLimits, tenant_from_body
from service.errors import ServiceError
from service.metrics import Metrics
from service.openapi_models import (
    BulkEvaluationFailure,
    BulkEvaluationSuccess,
    ErrorBody,
    EvaluationFailure,
    EvaluationSuccess,
    FlagNotFound,
)
from service.routes import served_flags

__all__ = [
    "CODE_DEFAULT_VARIANT",
    "SINGLE_FLAG_PATH",
    "failure_body",
    "router",
    "success_body",
]

CODE_DEFAULT_VARIANT = ""
"""The variant sent when the caller's own default applies: no flag document names it."""

_CODE_DEFAULT: Any = object()


def _request_body(limits: str, parameter: dict[str, Any]) -> dict[str, Any]:
    return {
        "parameters": [parameter],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "context": {
                                "type": "object",
                                "description": "`targetingKey` is the tenant id; `tier` and "
                                f"every other key are tenant attributes. {limits}",
                                "properties": {  # null: as if absent
                                    "targetingKey": {"type": ["string", "null"]},
                                    "tier": {"type": ["string", "null"]},
                                },
                                "additionalProperties": True,
                            }
                        },
                    },
                    "example": {"context": {"targetingKey": "acme", "tier": "enterprise"}},
                }
            },
        },
    }


_LIMITS = (
    "At most FLAGKIT_MAX_CONTEXT_ATTRIBUTES keys (64) and FLAGKIT_MAX_CONTEXT_STRING (1024) "
    "characters per key or string; larger contexts get 400 INVALID_CONTEXT."
)
_COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "A valid API key is required."},
    403: {"model": ErrorBody, "description": "No API keys configured and not on loopback."},
    413: {"model": ErrorBody, "description": "The body is larger than FLAGKIT_MAX_BODY_BYTES."},
    503: {"model": ErrorBody, "description": "No valid flag document loaded yet."},
}

router = APIRouter(prefix="/ofrep/v1", tags=["OFREP"])
"""Its routes take only the `Request` and declare their parameters in `openapi_extra`:
FastAPI's parameter and dependency machinery costs more per request than the evaluation.
The API key is checked before routing, by `service.auth.ApiKeyGuard`."""

_KEY_PARAMETER = {
    "name": "key",
    "in": "path",
    "required": True,
    "description": "The flag's key.",
    "schema": {"type": "string"},
}
_IF_NONE_MATCH_PARAMETER = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "The ETag of an earlier answer: 304 when it is still current. "
    "`*`: 304 whenever a document is served.",
    "schema": {"type": "string"},
}


def _context_limits(request: Request) -> ContextLimits:
    limits: ContextLimits = request.app.state.context_limits
    return limits


def success_body(evaluation: Evaluation) -> dict[str, Any]:
    """OFREP's evaluationSuccess for a successful `evaluation` (made with `_CODE_DEFAULT`)."""
    body: dict[str, Any] = {"key": evaluation.flag}
    if evaluation.value is not _CODE_DEFAULT:
        body["value"] = evaluation.value
    body["reason"] = evaluation.reason.value
    body["variant"] = CODE_DEFAULT_VARIANT if evaluation.variant is None else evaluation.variant
    body["metadata"] = evaluation.flag_metadata()
    return body


def failure_body(evaluation: Evaluation) -> dict[str, Any]:
    """OFREP's evaluationFailure (or flagNotFound) for a failed `evaluation`."""
    assert evaluation.error_code is not None
    if evaluation.error_code is ErrorCode.FLAG_NOT_FOUND:
        details = f"flag {evaluation.flag!r} was not found"
    else:
        details = evaluation.error_message or evaluation.error_code.value
    return {
        "key": evaluation.flag,
        "errorCode": evaluation.error_code.value,
        "errorDetails": details,
    }


SINGLE_FLAG_PATH = "/ofrep/v1/evaluate/flags/{key}"
"""The single-flag route, which `service.app` also serves as a plain Starlette route."""


@router.post(
    SINGLE_FLAG_PATH.removeprefix("/ofrep/v1"),
    operation_id="evaluateFlag",
    summary="Evaluate one flag",
    response_model=EvaluationSuccess,
    responses={
        400: {"model": EvaluationFailure, "description": "A bad context or body."},
        404: {"model": FlagNotFound, "description": "No flag with this key."},
        **_COMMON_ERRORS,
    },
    openapi_extra=_request_body(_LIMITS, _KEY_PARAMETER),
)
async def evaluate_flag(request: Request) -> Response:
    """One flag for the context's tenant."""
    key: str = request.path_params["key"]
    flags = served_flags(request)
    try:
        tenant = tenant_from_body(await request.body(), _context_limits(request))
    except ContextError as exc:
        raise ServiceError(400, exc.message, code=exc.code, key=key) from None
    evaluation = flags.evaluate(key, tenant, _CODE_DEFAULT)
    metrics: Metrics = request.app.state.metrics
    if evaluation.error_code is None:
        metrics.count_evaluation(evaluation)
        return Response(json.dumps(success_body(evaluation)), media_type="application/json")
    known = evaluation.error_code is not ErrorCode.FLAG_NOT_FOUND
    metrics.count_evaluation(evaluation, known=known)
    return Response(
        json.dumps(failure_body(evaluation)),
        status_code=400 if known else 404,
        media_type="application/json",
    )


@router.post(
    "/evaluate/flags",
    operation_id="evaluateFlagsBulk",
    summary="Evaluate every flag",
    response_model=BulkEvaluationSuccess,
    responses={
        304: {"description": "Not modified: the ETag in If-None-Match is still current."},
        400: {"model": BulkEvaluationFailure, "description": "A bad context or body."},
        **_COMMON_ERRORS,
    },
    openapi_extra=_request_body(_LIMITS, _IF_NONE_MATCH_PARAMETER),
)
async def evaluate_flags(request: Request) -> Response:
    """Every flag of the document for the context's tenant, with an ETag for `If-None-Match`."""
    if_none_match = request.headers.get("if-none-match")
    flags = served_flags(request)
    try:
        tenant = tenant_from_body(await request.body(), _context_limits(request))
    except ContextError as exc:
        raise ServiceError(400, exc.message, code=exc.code) from None
    metrics: Metrics = request.app.state.metrics
    evaluations = flags.evaluate_all(tenant, _CODE_DEFAULT)  # One document, even mid-swap.
    results = []
    for evaluation in evaluations:
        metrics.count_evaluation(evaluation)
        results.append(
            success_body(evaluation) if evaluation.error_code is None else failure_body(evaluation)
        )
    version = evaluations[0].version if evaluations else flags.version
    metadata = {} if version is None else {"version": version}
    content = json.dumps({"flags": results, "metadata": metadata}).encode()
    etag = f'"{hashlib.sha256(content).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if if_none_match is not None and _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(content, media_type="application/json", headers=headers)


def _matches(if_none_match: str, etag: str) -> bool:
    """Whether an If-None-Match header matches `etag`: `*` matches whatever is served, and
    weak tags compare as their strong twins (RFC 9110, 13.1.2)."""
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags or "*" in tags
