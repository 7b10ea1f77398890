"""The service's error responses: OFREP's `{"errorCode", "errorDetails"}` shape on every route."""

from __future__ import annotations

import json
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from flagkit.model import ErrorCode

__all__ = ["ServiceError", "error_response", "install_error_handlers"]


class ServiceError(Exception):
    """An HTTP error with the message a client sees; `key` is set for single-flag routes."""

    def __init__(
        self,
        status: int,
        details: str,
        *,
        code: ErrorCode = ErrorCode.GENERAL,
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(details)
        self.status = status
        self.details = details
        self.code = code
        self.key = key
        self.headers = headers


def error_response(
    status: int,
    details: str,
    code: ErrorCode = ErrorCode.GENERAL,
    key: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """`{"key"?, "errorCode", "errorDetails"}` with `status`."""
    body: dict[str, str] = {} if key is None else {"key": key}
    body["errorCode"] = code.value
    body["errorDetails"] = details
    return Response(
        json.dumps(body), status_code=status, headers=headers, media_type="application/json"
    )


async def _service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    return error_response(exc.status, exc.details, exc.code, exc.key, exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return error_response(exc.status_code, str(exc.detail), headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
    )
    return error_response(400, problems, ErrorCode.INVALID_CONTEXT)


def install_error_handlers(app: FastAPI) -> None:
    """Make every error, FastAPI's own included, speak OFREP's error shape."""
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
