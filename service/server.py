"""uvicorn's HTTP protocols, with the service's limits and TCP_NODELAY on every connection.

`flagkit serve` runs uvicorn with one of these protocols (httptools' when installed, else
h11's). On each connection they enforce `service.limits.ServerLimits`:

- the request line and headers may take `FLAGKIT_MAX_HEADER_BYTES`; a longer head gets
  431 and the connection is closed: an unfinished one as soon as it passes the limit
  (httptools would buffer any length; h11 answered 400), a whole one before the app
  sees it (`service.limits.HeadLimit`);
- a request must arrive whole (head and body) within `FLAGKIT_REQUEST_TIMEOUT` seconds of
  its first byte, or of the connection's opening: a connection that sent nothing is
  closed, one that sent part of a request gets 408 and is closed. Between requests,
  uvicorn's keep-alive timeout (5 s) closes idle connections;
- beyond `FLAGKIT_MAX_CONNECTIONS` open connections, requests get 503 except `/healthz`
  and `/readyz` (`service.limits.ConnectionCap`).

TCP_NODELAY: with `--workers N` uvicorn binds the listening socket itself, with protocol
number 0, and asyncio then never sets TCP_NODELAY on the connections it accepts (it checks
`sock.proto == IPPROTO_TCP`). uvicorn writes a response's head and body separately, so
each keep-alive response would wait for the client's delayed ACK: about 40 ms on Linux
(uvicorn issue #3149). These protocols set the option themselves.

To run uvicorn yourself, pass it `--http service.server:NoDelayHttpToolsProtocol` (or
`NoDelayH11Protocol`); the limits come from the same FLAGKIT_* variables.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Sized
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from service.errors import JsonBadRequest, refuse
from service.limits import ConnectionCap, HeadLimit, ServerLimits, head_too_large, server_limits

__all__ = [
    "NoDelayH11Protocol",
    "NoDelayHttpToolsProtocol",
    "RequestDeadline",
    "enable_nodelay",
    "http_protocol",
]


def enable_nodelay(transport: asyncio.BaseTransport) -> None:
    """Turn Nagle's algorithm off on `transport`'s TCP socket (a no-op for other sockets)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class RequestDeadline:
    """One connection's timer: `expire` runs unless the request arrives in time."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, seconds: float, expire: Callable[[], None]
    ) -> None:
        self._loop = loop
        self._seconds = seconds
        self._expire = expire
        self._timer: asyncio.TimerHandle | None = None

    def arm(self) -> None:
        """Start the timer, unless it runs already (the deadline counts from the first byte)."""
        if self._timer is None:
            self._timer = self._loop.call_later(self._seconds, self._fire)

    def disarm(self) -> None:
        """Stop the timer: the request arrived, or the connection is gone."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _fire(self) -> None:
        self._timer = None
        self._expire()


def _expire(protocol: Any, *, in_request: bool) -> None:
    """The request deadline passed on `protocol` (either of uvicorn's HTTP protocols)."""
    transport: asyncio.Transport = protocol.transport
    if transport.is_closing():
        return
    cycle = protocol.cycle
    if not in_request or (cycle is not None and cycle.response_started):
        transport.close()  # Nothing was sent, or the answer was given: nothing to say.
        return
    if cycle is not None and not cycle.response_complete:
        cycle.disconnected = True  # The app waiting for the body hears the client left.
        cycle.message_event.set()
    limits: ServerLimits = protocol.limits
    refuse(
        transport,
        408,
        f"the request did not arrive whole within {limits.request_timeout:g} seconds",
    )


def _limited(app: Any, connections: Sized, limits: ServerLimits) -> Any:
    """`app` behind the limits on a whole request's head and on the number of connections."""
    return HeadLimit(
        ConnectionCap(app, connections, limits.max_connections), limits.max_header_bytes
    )


class NoDelayH11Protocol(JsonBadRequest, H11Protocol):
    """uvicorn's h11 protocol, with TCP_NODELAY and the service's limits."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = server_limits()
        self.conn = h11.Connection(h11.SERVER, self.limits.max_header_bytes)
        self.app = _limited(self.app, self.connections, self.limits)
        self._deadline = RequestDeadline(self.loop, self.limits.request_timeout, self._expired)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        enable_nodelay(transport)
        super().connection_made(transport)
        self._deadline.arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._deadline.disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_request() and not self.transport.is_closing():
            self._deadline.arm()
        else:
            self._deadline.disarm()

    def send_400_response(self, msg: str) -> None:
        # h11 refuses a head over its max_incomplete_event_size with the same error as
        # malformed HTTP; its buffer tells them apart.
        if len(self.conn.trailing_data[0]) > self.limits.max_header_bytes:
            refuse(self.transport, 431, head_too_large(self.limits.max_header_bytes))
        else:
            super().send_400_response(msg)

    def _in_request(self) -> bool:
        state = self.conn.their_state
        return state is h11.SEND_BODY or (state is h11.IDLE and bool(self.conn.trailing_data[0]))

    def _expired(self) -> None:
        _expire(self, in_request=self._in_request())


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is not installed: h11 it is.
    NoDelayHttpToolsProtocol: type[asyncio.Protocol] | None = None
else:

    class _NoDelayHttpToolsProtocol(JsonBadRequest, HttpToolsProtocol):
        """uvicorn's httptools protocol, with TCP_NODELAY and the service's limits."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.limits = server_limits()
            self.app = _limited(self.app, self.connections, self.limits)
            self._deadline = RequestDeadline(self.loop, self.limits.request_timeout, self._expired)
            self._in_request = False  # from a request's first byte to its last
            self._head_done = False
            self._head_bytes = 0  # read since the head began, counted per read

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            enable_nodelay(transport)
            super().connection_made(transport)
            self._deadline.arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._deadline.disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if not self._head_done:
                self._head_bytes += len(data)
            super().data_received(data)
            if self.transport.is_closing():
                self._deadline.disarm()
            elif not self._head_done and self._head_bytes > self.limits.max_header_bytes:
                self._deadline.disarm()
                refuse(self.transport, 431, head_too_large(self.limits.max_header_bytes))
            elif self._in_request:
                self._deadline.arm()
            else:
                self._deadline.disarm()

        def on_message_begin(self) -> None:
            self._in_request = True
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            self._head_done = True
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._in_request = self._head_done = False
            self._head_bytes = 0
            super().on_message_complete()

        def _expired(self) -> None:
            _expire(self, in_request=self._in_request)

    NoDelayHttpToolsProtocol = _NoDelayHttpToolsProtocol


def http_protocol(parser: str = "auto") -> str:
    """The import string of `parser`'s protocol (`auto`: the fastest installed), as
    uvicorn's `http=` takes it."""
    if parser == "httptools" or (parser == "auto" and NoDelayHttpToolsProtocol is not None):
        return "service.server:NoDelayHttpToolsProtocol"
    return "service.server:NoDelayH11Protocol"
