"""The HTTP server of the local AppConfig: one loopback port serves every API.

Routes: `POST /configurationsessions` and `GET /configuration` (the Data API),
`GET /applications/{app}/environments/{env}/configurations/{profile}` (the Agent), the
control-plane paths `ControlApi.serves`; any other GET under `/applications/` gets the
Agent's 404, anything else 404 `UnknownOperationException` (GUESS: what AWS's front end
answers). Every answer carries an `x-amzn-RequestId`. Connections are kept alive (as AWS
endpoints and the agent allow); `close_connections` cuts idle ones so a close is quick.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import socketserver
import sys
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlsplit

from flagkit.local_appconfig.agent_api import AGENT_PREFIX, AgentApi, is_agent_path
from flagkit.local_appconfig.control_api import ControlApi
from flagkit.local_appconfig.data_api import DataApi
from flagkit.local_appconfig.faults import (
    AGENT,
    GET_CONFIGURATION,
    START_SESSION,
    UNKNOWN,
    Fault,
    Faults,
    RequestLog,
    RequestRecord,
)
from flagkit.local_appconfig.responses import Response, agent_error, aws_error
from flagkit.local_appconfig.store import AppConfigApiError, Store

__all__ = ["Apis", "LoopbackServer", "NotLoopbackError", "loopback_address"]

_CONTROL = "Control"


class NotLoopbackError(ValueError):
    """A host that is not a loopback address: the local AppConfig serves this machine only."""


def loopback_address(host: str) -> str:
    """`host` as an IP address when it is a loopback one (`localhost` is 127.0.0.1)."""
    address = "127.0.0.1" if host == "localhost" else host
    try:
        loopback = ipaddress.ip_address(address).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise NotLoopbackError(
            f"{host!r} is not a loopback address; the local AppConfig checks no credentials, "
            "so it listens on this machine only: use 127.0.0.1 (or ::1, or localhost)"
        )
    return address


@dataclass(frozen=True)
class Apis:
    """What the handler dispatches to."""

    store: Store
    data: DataApi
    agent: AgentApi
    control: ControlApi
    faults: Faults
    log: RequestLog


class LoopbackServer(ThreadingHTTPServer):
    """Serves each connection from a daemon thread it keeps track of, so a close can end them."""

    daemon_threads = True

    def __init__(self, host: str, port: int, apis: Apis) -> None:
        address = loopback_address(host)
        self.address_family = socket.AF_INET6 if ":" in address else socket.AF_INET
        self.apis = apis
        self.verbose = False
        self._connections: dict[threading.Thread, socket.socket] = {}
        self._connections_lock = threading.Lock()
        super().__init__((address, port), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would resolve the host name (getfqdn); nothing here needs it.
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name=f"local-appconfig-conn-{client_address[1]}",
            daemon=True,
        )
        with self._connections_lock:
            self._connections[thread] = request
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.pop(threading.current_thread(), None)

    def close_connections(self) -> None:
        """Shut down every open connection (idle keep-alive ones too) and join their threads."""
        with self._connections_lock:
            connections = list(self._connections.items())
        for _, sock in connections:
            with contextlib.suppress(OSError):  # already closed by its handler
                sock.shutdown(socket.SHUT_RDWR)
        for thread, _ in connections:
            thread.join(timeout=10)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if self.apis.faults.closing.is_set() or isinstance(error, ConnectionError | TimeoutError):
            return  # a client that went away (e.g. after its read timeout), or shutting down
        super().handle_error(request, client_address)


def _operation(method: str, path: str) -> str:
    if method == "POST" and path == "/configurationsessions":
        return START_SESSION
    if method == "GET" and path == "/configuration":
        return GET_CONFIGURATION
    if method == "GET" and is_agent_path(path):
        return AGENT
    if ControlApi.serves(method, unquote(path)):
        return _CONTROL
    if method == "GET" and path.startswith(AGENT_PREFIX):
        return AGENT  # the agent's 404
    return UNKNOWN


def _fault_error(fault: Fault, operation: str) -> Response:
    """The error a `throttle` or `internal` fault answers with."""
    if operation == AGENT:
        if fault.kind == "throttle":
            return agent_error(502, "BadGatewayException: ThrottlingException: Rate exceeded")
        return agent_error(500, "InternalServerException: An internal error occurred.")
    if fault.kind == "throttle":
        return aws_error(AppConfigApiError(429, "ThrottlingException", "Rate exceeded"))
    return aws_error(
        AppConfigApiError(500, "InternalServerException", "An internal error occurred.")
    )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without this, Nagle's algorithm and the
    # client's delayed ACK add ~40 ms to every response.
    disable_nagle_algorithm = True
    timeout = 60  # an idle keep-alive connection is closed after this many seconds

    @property
    def _server(self) -> LoopbackServer:
        return cast(LoopbackServer, self.server)

    def version_string(self) -> str:
        return "flagkit-local-appconfig"

    def log_message(self, format: str, *args: Any) -> None:
        if self._server.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        apis = self._server.apis
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        operation = _operation(self.command, parts.path)
        if operation == _CONTROL:
            query = parse_qs(parts.query)
            path = unquote(parts.path)
            headers = dict(self.headers.items())
            self._send(apis.control.handle(self.command, path, query, headers, body))
            return
        token = None
        if operation == GET_CONFIGURATION:
            token = parse_qs(parts.query).get("configuration_token", [None])[0]
        fault = apis.faults.take(operation) if operation != UNKNOWN else None
        response = None
        if fault is not None:
            waited = fault.kind in ("delay", "hold") and apis.faults.wait(fault)
            if fault.kind == "drop" or (fault.kind in ("delay", "hold") and not waited):
                # Dropped, or a wait the closing server ended: the client gets no response
                # (the request was read in full, so closing sends a FIN, not a RST).
                self.close_connection = True
                apis.log.record(RequestRecord(operation, None, token, apis.store.now()))
                return
            if not waited:
                response = _fault_error(fault, operation)
        if response is None:
            response = self._answer(operation, parts.path, body, token)
        # Logged before the response goes out, so a client that has its answer always
        # finds its request in the log.
        apis.log.record(RequestRecord(operation, response.status, token, apis.store.now()))
        self._send(response)

    def _answer(self, operation: str, path: str, body: bytes, token: str | None) -> Response:
        apis = self._server.apis
        if operation == START_SESSION:
            return apis.data.start_session(body)
        if operation == GET_CONFIGURATION:
            return apis.data.get_configuration(token)
        if operation == AGENT:
            return apis.agent.get(path, self.headers.get("Authorization"))
        return aws_error(AppConfigApiError(404, "UnknownOperationException", "Unknown operation."))

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if "x-amzn-RequestId" not in response.headers:
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)
        self.wfile.flush()
