"""API keys: `Authorization: Bearer KEY` or `X-API-Key: KEY`, compared in constant time.

`ApiKeyGuard` is ASGI middleware in front of every route but the open ones (health,
readiness and the OpenAPI document; `/metrics` too with FLAGKIT_METRICS_OPEN), so a
route added later is guarded unless it is listed as open. It looks at the path as
the router does, without the `root_path` (`uvicorn --root-path`, a mounted app).
With no keys configured the evaluation routes answer only connections that arrived
on a loopback address, unless FLAGKIT_ALLOW_UNAUTHENTICATED is set, and only when
their `Host` header names loopback (`localhost`, `127.0.0.1`, `[::1]`, any port): a web
page that rebinds its own DNS name to 127.0.0.1 reaches the port from the user's
browser, but with its own name in `Host`, and gets 421. Keys are never logged or echoed.

A middleware rather than a FastAPI dependency: it costs one header scan per request,
where resolving a dependency tree costs FastAPI tens of microseconds.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable, Mapping
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import error_response
from service.settings import Settings

__all__ = [
    "METRICS_PATH",
    "OPEN_PATHS",
    "SECURITY_SCHEMES",
    "WRONG_HOST_RESPONSE",
    "ApiKeyGuard",
    "Gate",
    "host_is_loopback",
    "is_loopback",
    "key_is_valid",
    "offered_key",
]

OPEN_PATHS = frozenset({"/healthz", "/readyz", "/openapi.json"})
"""The routes that never ask for a key; every other path does (`/metrics` unless
FLAGKIT_METRICS_OPEN is set)."""

METRICS_PATH = "/metrics"

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "ApiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "BearerAuth": {"type": "http", "scheme": "bearer"},
}
"""OFREP's two schemes, as the OpenAPI document declares them."""

WRONG_HOST_RESPONSE: dict[str, Any] = {
    "description": "No API keys configured and the Host header does not name loopback.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
}
"""The 421 of every guarded operation, as the OpenAPI document declares it."""

_MISSING_KEY = "a valid API key is required: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'"
_LOOPBACK_ONLY = (
    "this service has no API keys and answers only on loopback; set FLAGKIT_API_KEYS "
    "or FLAGKIT_ALLOW_UNAUTHENTICATED=1"
)
_LOOPBACK_HOST_ONLY = (
    "this service has no API keys and answers only requests addressed to localhost, "
    "127.0.0.1 or [::1] (the Host header); set FLAGKIT_API_KEYS to be reached by another name"
)


Gate = Callable[[Scope], Response | None]
"""Decides, for the paths under one prefix, instead of the key check: None lets a request
through, a response refuses it (the web UI's session cookie, `service.ui.session`)."""


def key_is_valid(offered: bytes, keys: tuple[bytes, ...]) -> bool:
    """Whether `offered` is one of `keys`; every key is compared, each in constant time."""
    found = False
    for key in keys:
        found |= hmac.compare_digest(offered, key)
    return found


def offered_key(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    """The key a request offers: a Bearer token, else the X-API-Key header."""
    api_key = None
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.partition(b" ")
            if scheme.lower() == b"bearer" and token.strip():
                return token.strip()
        elif name == b"x-api-key":
            api_key = value.strip()
    return api_key


def route_path(scope: Scope) -> str:
    """The path the router matches: `scope["path"]` without the `root_path` it begins with."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("/", ""):
        return path[len(root) :]
    return path


def is_loopback(host: str) -> bool:
    """Whether `host` (an IP address, or a name) is this machine: a loopback address or
    `localhost`."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def host_is_loopback(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the `Host` header names loopback (`localhost`, `127.0.0.1`, `[::1]`, with or
    without a port), or is absent (HTTP/1.0; a browser always sends one)."""
    for name, value in headers:
        if name == b"host":
            host = value.decode("latin-1").strip().lower()
            if host.startswith("["):  # [::1] or [::1]:8000
                address, bracket, rest = host[1:].partition("]")
                port_ok = rest == "" or (rest[:1] == ":" and rest[1:].isdigit())
                return bool(bracket) and port_ok and is_loopback(address)
            name_part, colon, port = host.partition(":")
            if colon and not port.isdigit():
                return False
            return is_loopback(name_part)
    return True


class ApiKeyGuard:
    """ASGI middleware: 401 on an evaluation route without a valid key, when keys are set.

    `gates` maps a path prefix (`/ui`) to a `Gate` that decides for the paths under it when
    keys are set; without keys those paths are guarded as every other one (loopback only).
    """

    def __init__(
        self, app: ASGIApp, settings: Settings, gates: Mapping[str, Gate] | None = None
    ) -> None:
        self.app = app
        self.gates = dict(gates or {})
        self.keys = tuple(key.encode("utf-8") for key in sorted(settings.api_keys))
        self.open_beyond_loopback = settings.allow_unauthenticated
        self.open_paths = OPEN_PATHS | {METRICS_PATH} if settings.metrics_open else OPEN_PATHS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and route_path(scope) not in self.open_paths:
            refusal = self._refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope) -> Response | None:
        """The error response for a request without access, or None when it may pass."""
        if not self.keys:
            if self.open_beyond_loopback:
                return None
            server = scope.get("server")
            if server is not None and not is_loopback(server[0]):
                return error_response(403, _LOOPBACK_ONLY)
            if not host_is_loopback(scope["headers"]):  # DNS rebinding, from a browser
                return error_response(421, _LOOPBACK_HOST_ONLY)
            return None
        path = route_path(scope)
        for prefix, gate in self.gates.items():
            if path == prefix or path.startswith(prefix + "/"):
                return gate(scope)
        offered = offered_key(scope["headers"])
        if offered is None or not key_is_valid(offered, self.keys):
            return error_response(401, _MISSING_KEY, headers={"WWW-Authenticate": "Bearer"})
        return None
