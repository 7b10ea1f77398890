"""TCP_NODELAY on every connection, however uvicorn bound its socket (`service.server`)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from flagkit import Flags
from service.app import create_app
from service.server import NoDelayH11Protocol, NoDelayHttpToolsProtocol, http_protocol
from service.settings import Settings
from tests.conftest import EXAMPLES
from tests.service_server import START_TIMEOUT, _Server, serve_cli

PROTOCOLS = {
    "h11": ("uvicorn.protocols.http.h11_impl:H11Protocol", "service.server:NoDelayH11Protocol"),
    "httptools": (
        "uvicorn.protocols.http.httptools_impl:HttpToolsProtocol",
        "service.server:NoDelayHttpToolsProtocol",
    ),
}


@contextmanager
def serving(http: str) -> Iterator[tuple[_Server, str]]:
    """`http` serving the example document on a socket bound as uvicorn's workers bind it."""
    # Protocol number 0, as uvicorn's own bind_socket() makes it for --workers N:
    # asyncio then leaves TCP_NODELAY off on every connection it accepts.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    flags = Flags.from_file(EXAMPLES / "flags.json")
    config = uvicorn.Config(
        create_app(Settings(), flags=flags),
        http=http,
        loop="asyncio",  # uvloop sets TCP_NODELAY itself; asyncio's loop is where it bites
        log_config=None,
        lifespan="on",
    )
    server = _Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        assert server.listening.wait(START_TIMEOUT)
        assert server.started
        yield server, f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(START_TIMEOUT)
        sock.close()
        flags.close()


def nodelay_of_open_connections(server: _Server) -> list[int]:
    options = []
    for connection in server.server_state.connections:
        sock = connection.transport.get_extra_info("socket")
        options.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
    return options


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_flagkits_protocols_turn_nagle_off_where_uvicorns_leave_it_on(name: str) -> None:
    uvicorns, flagkits = PROTOCOLS[name]
    for http, expected in ((uvicorns, 0), (flagkits, 1)):
        with serving(http) as (server, url), httpx.Client(base_url=url) as client:
            response = client.post(
                "/ofrep/v1/evaluate/flags/featureA", json={"context": {"targetingKey": "acme"}}
            )
            assert response.json()["value"] is True
            # The keep-alive connection is still open: look at the server's end of it.
            assert nodelay_of_open_connections(server) == [expected], http


def test_serve_picks_httptools_when_installed() -> None:
    assert NoDelayHttpToolsProtocol is not None  # the service extra installs httptools
    assert http_protocol() == "service.server:NoDelayHttpToolsProtocol"
    assert issubclass(NoDelayH11Protocol, H11Protocol)


def test_serve_with_two_workers_answers() -> None:
    """`flagkit serve --workers 2`: each worker loads its own flags and answers."""
    with serve_cli("--source", str(EXAMPLES / "flags.json"), "--workers", "2") as server:
        with server.client() as client:
            for _ in range(20):
                response = client.post(
                    "/ofrep/v1/evaluate/flags/featureA", json={"context": {"targetingKey": "acme"}}
                )
                assert response.status_code == 200
                assert response.json()["reason"] == "TARGETING_MATCH"
        # Two workers, each with its own lifespan (and its own Flags and refresh thread).
        log = server.wait_for_log("Application startup complete.", START_TIMEOUT, times=2)
        assert log.count("Application startup complete.") == 2
