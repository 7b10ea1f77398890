"""The flagkit HTTP service: `flagkit serve`, `python -m service` or `uvicorn service.app:app`.

`create_app()` reads its settings from the environment (see `service.settings`);
the `Flags` are built in the lifespan, so every worker process gets its own
refresh thread, and on a thread, so `/healthz` answers while the first document
loads. Tests and benchmarks pass `flags=` to serve a `Flags` they own.

Logging: flagkit's library only emits records (logger `flagkit`); the service, when
it starts, sends them to stderr with a timestamp and level (`log_to_stderr`), unless
the process already set up logging of its own.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import flagkit
from flagkit.announcer import LOGGER_NAME
from flagkit.client import Flags
from service.auth import OPEN_PATHS, SECURITY_SCHEMES, WRONG_HOST_RESPONSE, ApiKeyGuard
from service.context import ContextLimits
from service.errors import error_response, install_error_handlers
from service.limits import BodyLimit
from service.log_privacy import DocumentContentFilter
from service.metrics import Metrics, RequestMetrics
from service.routes import flags as flag_routes
from service.routes import ofrep, ops
from service.routes import usage as usage_routes
from service.settings import Settings
from service.source import open_flags, source_kind
from service.state import FlagsLoader

__all__ = [
    "LOG_DATE_FORMAT",
    "LOG_FORMAT",
    "UVICORN_LOGGER",
    "HeadAsGet",
    "JsonCorsMiddleware",
    "app",
    "create_app",
    "log_to_stderr",
]

LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"
"""How the service writes flagkit's log lines: `2026-11-24T09:30:00+0000 INFO flagkit: ...`."""

LOG_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"

UVICORN_LOGGER = "uvicorn.error"
"""uvicorn's own logger, whose level `--log-level` sets in every worker before the app starts."""

app: FastAPI
"""The app `uvicorn service.app:app` serves, made on first access from the environment."""


def create_app(settings: Settings | None = None, *, flags: Flags | None = None) -> FastAPI:
    """The service; `settings` default to `Settings.from_env()`.

    With `flags`, those are served (and left open at shutdown); otherwise the
    lifespan opens `settings.source`, failing fast when it is malformed or unset.
    """
    settings = Settings.from_env() if settings is None else settings
    if flags is None:
        loader = FlagsLoader(lambda: metrics.watch(open_flags(settings)))
    else:
        loader = FlagsLoader(flags=flags)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if flags is None:
            if settings.source is None:
                open_flags(settings)  # Raises the ConfigurationError that says what to set.
            else:
                source_kind(settings.source)  # Fail fast on a malformed source.
        log_to_stderr()
        loader.start()
        try:
            yield
        finally:
            loader.stop()
            metrics.close()  # With several workers: this one no longer counts as live.

    app = FastAPI(
        title="flagkit",
        version=flagkit.__version__,
        summary="Deterministic multi-tenant feature flags over HTTP: OFREP and plain JSON.",
        lifespan=lifespan,
        telemetry={"tracing": False, "metrics": False, "logs": False},  # ours is /metrics
        # A trailing slash is a 404 in JSON, not a redirect to a URL built from `Host`.
        redirect_slashes=False,
        # Swagger UI and ReDoc load from a CDN: offline they are blank pages.
        # /openapi.json is the API's description; any OpenAPI viewer reads it.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.loader = loader
    app.state.context_limits = ContextLimits(
        settings.max_context_attributes, settings.max_context_string
    )
    metrics = app.state.metrics = Metrics(loader)
    if flags is not None:
        metrics.watch(flags)
    install_error_handlers(app)
    app.include_router(ofrep.router)
    # The hot route again, as a plain Starlette route in front of everything: the same
    # endpoint, reached without FastAPI's router groups and dependency solving (half of
    # its cost). The FastAPI route behind it is never matched; it documents the route.
    app.router.routes.insert(
        0, _PlainRoute(ofrep.SINGLE_FLAG_PATH, ofrep.evaluate_flag, methods=["POST"])
    )
    app.include_router(flag_routes.router)
    app.include_router(ops.router)
    app.include_router(usage_routes.router)
    gates = {}
    if settings.ui:  # Imported only when asked for: Jinja2 and the forms are the UI's alone.
        from service.ui import install_ui

        gates = install_ui(app, settings)
    # The last added runs first: metrics see every request, the key is checked before the body,
    # and metrics and the key check see HEAD as HEAD.
    app.add_middleware(HeadAsGet)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(ApiKeyGuard, settings=settings, gates=gates)
    app.add_middleware(RequestMetrics, metrics=metrics)
    if settings.cors_origins:  # Outermost: a browser's preflight carries no API key.
        app.add_middleware(
            JsonCorsMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "If-None-Match"],
            expose_headers=["ETag"],
        )
    app.openapi = partial(_accurate_openapi, app, app.openapi)  # type: ignore[method-assign]
    return app


def log_to_stderr() -> None:
    """Write the `flagkit` logger's records, INFO and above, to stderr with a timestamp and
    level: swaps, rejections, recoveries and starts from a backup are each one line.
    A rejection's problems, which quote the document, are left out (`service.log_privacy`).

    Does nothing when logging is set up already (a handler on the root logger or on
    `flagkit`, as `logging.basicConfig`, uvicorn's `--log-config` or pytest install), so
    an application's own configuration wins; uvicorn's default configuration sets up
    only its own loggers.

    The level is uvicorn's (`flagkit serve --log-level`, `uvicorn --log-level`), INFO when
    uvicorn has none.
    """
    logger = logging.getLogger(LOGGER_NAME)
    if logger.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT, LOG_DATE_FORMAT))
    handler.addFilter(DocumentContentFilter())  # A rejection's problems: on /v1/status only
    logger.addHandler(handler)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.getLogger(UVICORN_LOGGER).level or logging.INFO)


class JsonCorsMiddleware(CORSMiddleware):
    """Starlette's CORS middleware, refusing a preflight in the service's JSON error shape
    (Starlette answers `text/plain`)."""

    def preflight_response(self, request_headers: Headers) -> Response:
        """200 for an allowed preflight; 400 `{"errorCode", "errorDetails"}` for another."""
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        headers = {
            name: value
            for name, value in response.headers.items()
            if name not in ("content-type", "content-length")
        }
        details = bytes(response.body).decode()  # "Disallowed CORS origin, method"
        return error_response(response.status_code, details, headers=headers)


class HeadAsGet:
    """Answer `HEAD` on every `GET` route (RFC 9110 asks it of every server) with the GET's
    status and headers and no body, so `curl -I /healthz` and HEAD-probing balancers work.

    The routes stay GET-only in the OpenAPI document; the routes see `GET`, the
    middleware outside this one (metrics, the key check) sees `HEAD`.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_no_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        as_get = {**scope, "method": "GET"}
        try:
            await self.app(as_get, receive, send_no_body)
        finally:  # What routing found (`route`, for the metrics) goes out; HEAD stays HEAD.
            scope.update({name: value for name, value in as_get.items() if name != "method"})


class _PlainRoute(Route):
    """A Starlette route that, like FastAPI's, names itself in `scope["route"]` (for metrics)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope


def _accurate_openapi(app: FastAPI, generate: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """FastAPI's OpenAPI document, with the API-key schemes and without the 422s.

    The key is checked by middleware, which FastAPI cannot see: its two schemes are
    declared here, on every guarded operation, with the 421 of a keyless service asked
    for by another name (`service.auth`). Validation errors are answered 400 in
    OFREP's error shape (`service.errors`), not the 422 FastAPI lists for every route
    with parameters; the routes that can have them document that 400 themselves.
    """
    if app.openapi_schema is None:
        schema = generate()
        for path, operations in schema["paths"].items():
            for operation in operations.values():
                operation.get("responses", {}).pop("422", None)
                if path not in OPEN_PATHS:
                    operation["security"] = [{name: []} for name in SECURITY_SCHEMES]
                    operation.setdefault("responses", {})["421"] = WRONG_HOST_RESPONSE
        schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
        components = schema["components"].get("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
    return app.openapi_schema or generate()


# Why a module `__getattr__` and not `app = create_app()`: `uvicorn service.app:app` (as
# the README and CHANGELOG show) needs a module-level `app`, but importing this module
# must not build one. `flagkit serve` and `python -m service` import it to check the
# service extra is installed, then have uvicorn call `create_app` in each worker; the
# tests and benchmarks import `create_app` with settings of their own. An eager `app`
# would read FLAGKIT_* on every such import, fail the import on a bad value there, and
# build an app nobody serves.
def __getattr__(name: str) -> FastAPI:
    """`service.app:app` is made on first access, so importing the module reads no environment."""
    if name == "app":
        made = globals()["app"] = create_app()
        return made
    raise AttributeError(name)
