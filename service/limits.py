"""The service's limits on what a client can make it hold: bodies, connections, disconnects.

- `BodyLimit` (ASGI middleware): 413 for a body over `FLAGKIT_MAX_BODY_BYTES`; a client
  that leaves before its body has arrived is counted with status 499 (nginx's "client
  closed request"), without a traceback.
- `HeadLimit` (ASGI wrapper the HTTP protocols put around the app): 431 for a request
  line and headers over `FLAGKIT_MAX_HEADER_BYTES` that arrived whole (the protocols cut
  off an unfinished one themselves).
- `ConnectionCap` (ASGI wrapper the HTTP protocols put around the app): 503 beyond
  `FLAGKIT_MAX_CONNECTIONS` open connections, except for the health checks.
- `ServerLimits`: what `service.server`'s protocols enforce on every connection.
"""

from __future__ import annotations

from collections.abc import Sized
from dataclasses import dataclass
from functools import cache

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import error_response
from service.settings import Settings

__all__ = [
    "CLIENT_CLOSED_REQUEST",
    "UNCAPPED_PATHS",
    "BodyLimit",
    "ConnectionCap",
    "HeadLimit",
    "ServerLimits",
    "head_too_large",
    "server_limits",
]

CLIENT_CLOSED_REQUEST = 499
"""The status metrics count for a client that left before its request arrived whole."""

UNCAPPED_PATHS = frozenset({"/healthz", "/readyz"})
"""Paths answered whatever the number of connections: probes must get through."""


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """What each connection may hold: head size, time to send a request, and their number."""

    max_header_bytes: int
    request_timeout: float
    max_connections: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ServerLimits:
        """The limits `settings` give (`FLAGKIT_MAX_HEADER_BYTES` and the rest)."""
        return cls(settings.max_header_bytes, settings.request_timeout, settings.max_connections)


@cache
def server_limits() -> ServerLimits:
    """This process's limits, read once from the environment (`flagkit serve` checked them)."""
    return ServerLimits.from_settings(Settings.from_env())


def head_too_large(max_header_bytes: int) -> str:
    """What a client whose request line and headers are too long is told."""
    return f"the request line and headers are larger than the limit of {max_header_bytes} bytes"


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: 413 for a body over `max_bytes`, by Content-Length or as it streams;
    a request whose client disconnected before sending its whole body is counted as 499
    (through the `http.response.start` it sends, which the server drops) and not raised."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                if value.isdigit() and int(value) > self.max_bytes:
                    await self._refuse(scope, receive, send)
                    return
                break
        received = 0
        started = False
        disconnected = False

        async def counting_receive() -> Message:
            nonlocal received, disconnected
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            elif message["type"] == "http.disconnect":
                disconnected = True
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except _TooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)
        except Exception:
            if not disconnected:
                raise
            if not started:  # For the metrics around us: the client is gone, nothing is sent.
                await send({"type": "http.response.start", "status": CLIENT_CLOSED_REQUEST})

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413,
            f"request body is larger than the limit of {self.max_bytes} bytes",
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


class ConnectionCap:
    """ASGI wrapper: 503 while more than `max_connections` are open, but for `UNCAPPED_PATHS`.

    `connections` is the server's set of open connections (uvicorn's
    `server_state.connections`); the connection asking is one of them.
    """

    def __init__(self, app: ASGIApp, connections: Sized, max_connections: int) -> None:
        self.app = app
        self.connections = connections
        self.max_connections = max_connections

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and len(self.connections) > self.max_connections
            and scope["path"] not in UNCAPPED_PATHS
        ):
            response = error_response(
                503,
                f"the server has more than {self.max_connections} connections open "
                "(FLAGKIT_MAX_CONNECTIONS); try again later",
                headers={"Connection": "close", "Retry-After": "1"},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class HeadLimit:
    """ASGI wrapper: 431 for a request whose line and headers take over `max_header_bytes`
    (counted as on the wire, give or take the version and the spaces)."""

    def __init__(self, app: ASGIApp, max_header_bytes: int) -> None:
        self.app = app
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = len(scope["method"]) + len(scope["raw_path"]) + len(scope["query_string"])
            size += sum(len(name) + len(value) + 4 for name, value in scope["headers"])
            if size > self.max_header_bytes:
                response = error_response(
                    431, head_too_large(self.max_header_bytes), headers={"Connection": "close"}
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
