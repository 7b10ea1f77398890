"""uvicorn's HTTP protocols with TCP_NODELAY on every accepted connection.

With `--workers N` uvicorn binds the listening socket itself, with protocol number 0,
and asyncio then never sets TCP_NODELAY on the connections it accepts (it checks
`sock.proto == IPPROTO_TCP`). uvicorn writes a response's head and body separately,
so each keep-alive response waits for the client's delayed ACK: about 40 ms on Linux
(uvicorn issue #3149). These subclasses set the option themselves. `flagkit serve`
uses them; to run uvicorn yourself with several workers, pass it
`--http service.server:NoDelayHttpToolsProtocol` (or `NoDelayH11Protocol`).
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["NoDelayH11Protocol", "NoDelayHttpToolsProtocol", "enable_nodelay", "http_protocol"]


def enable_nodelay(transport: asyncio.BaseTransport) -> None:
    """Turn Nagle's algorithm off on `transport`'s TCP socket (a no-op for other sockets)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with TCP_NODELAY."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        enable_nodelay(transport)
        super().connection_made(transport)


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is not installed: h11 it is.
    NoDelayHttpToolsProtocol: type[asyncio.Protocol] | None = None
else:

    class _NoDelayHttpToolsProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol, with TCP_NODELAY."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            enable_nodelay(transport)
            super().connection_made(transport)

    NoDelayHttpToolsProtocol = _NoDelayHttpToolsProtocol


def http_protocol() -> str:
    """The import string of the fastest protocol installed, as uvicorn's `http=` takes it."""
    if NoDelayHttpToolsProtocol is not None:
        return "service.server:NoDelayHttpToolsProtocol"
    return "service.server:NoDelayH11Protocol"
