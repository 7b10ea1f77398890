"""The service's error responses: OFREP's `{"errorCode", "errorDetails"}` shape on every route.

docs/service-errors.md lists every status and body.
"""

from __future__ import annotations

import asyncio
import http
import json
import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from flagkit.model import ErrorCode

__all__ = [
    "JsonBadRequest",
    "ServiceError",
    "error_response",
    "install_error_handlers",
    "refuse",
]

_log = logging.getLogger("flagkit.service")


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
    details = str(exc.detail)
    if exc.status_code == 404:  # The router's: no route has this path.
        path = request.url.path
        slash = len(path) > 1 and path.endswith("/")
        details = "no route has this path" + ("; paths do not end in '/'" if slash else "")
    return error_response(exc.status_code, details, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
    )
    return error_response(400, problems, ErrorCode.INVALID_CONTEXT)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    # The route's template, not the path: a path can hold a tenant id (/v1/tenants/{tenant}).
    route = getattr(request.scope.get("route"), "path", None) or "(no route)"
    _log.exception("flagkit service: %s %s failed", request.method, route)
    body = json.dumps({"errorDetails": "an internal error occurred; the server log has it"})
    return Response(body, status_code=500, media_type="application/json")


def install_error_handlers(app: FastAPI) -> None:
    """Make every error, FastAPI's own and unexpected ones included, speak OFREP's shape."""
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected_error)  # OFREP's generalErrorResponse


def refuse(transport: asyncio.Transport, status: int, details: str) -> None:
    """Answer `status` with OFREP's error body, straight on `transport`, and close it: for
    what uvicorn's protocols answer before any ASGI app sees the request."""
    body = json.dumps({"errorCode": ErrorCode.GENERAL.value, "errorDetails": details}).encode()
    head = (
        f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    transport.write(head.encode("ascii") + body)
    transport.close()


class JsonBadRequest:
    """A mixin for uvicorn's HTTP protocol classes (before them in the bases): a request
    that is not HTTP gets a JSON 400 in the service's error shape, not uvicorn's
    `text/plain` one.

    uvicorn answers such a request itself, before any ASGI app sees it, by calling its
    protocol's `send_400_response`; both the h11 and the httptools protocol have one.
    """

    transport: asyncio.Transport

    def send_400_response(self, msg: str) -> None:
        """Write the JSON 400 and close the connection (uvicorn logged `msg` already)."""
        refuse(self.transport, 400, "the request is not valid HTTP/1.1")
