"""API keys: `Authorization: Bearer KEY` or `X-API-Key: KEY`, compared in constant time.

With no keys configured the evaluation routes answer only connections that arrived
on a loopback address, unless FLAGKIT_ALLOW_UNAUTHENTICATED is set; health and
metrics routes never ask for a key. Keys are never logged or echoed.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from service.errors import ServiceError
from service.settings import Settings

__all__ = ["key_is_valid", "require_api_key"]

_api_key_header = APIKeyHeader(
    name="X-API-Key", scheme_name="ApiKeyAuth", auto_error=False, description="An API key."
)
_bearer = HTTPBearer(
    scheme_name="BearerAuth", auto_error=False, description="An API key as a Bearer token."
)


def key_is_valid(offered: str, keys: frozenset[str]) -> bool:
    """Whether `offered` is one of `keys`; every key is compared, each in constant time."""
    offered_bytes = offered.encode("utf-8", "surrogateescape")
    found = False
    for key in keys:
        found |= hmac.compare_digest(offered_bytes, key.encode("utf-8"))
    return found


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


async def require_api_key(
    request: Request,
    api_key: Annotated[str | None, Security(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> None:
    """The evaluation routes' guard: 401 without a valid key when keys are configured."""
    settings: Settings = request.app.state.settings
    if not settings.api_keys:
        server = request.scope.get("server")
        if settings.allow_unauthenticated or server is None or _is_loopback(server[0]):
            return
        raise ServiceError(
            403,
            "this service has no API keys and answers only on loopback; set FLAGKIT_API_KEYS "
            "or FLAGKIT_ALLOW_UNAUTHENTICATED=1",
        )
    offered = bearer.credentials if bearer is not None else api_key
    if offered is None or not key_is_valid(offered, settings.api_keys):
        raise ServiceError(
            401,
            "a valid API key is required: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'",
            headers={"WWW-Authenticate": "Bearer"},
        )
