"""Hostile clients against a real `flagkit serve` on loopback: the server's limits hold.

Raw sockets play the clients: a head that never ends, requests that never arrive whole,
idle connections by the hundred, a client that leaves mid-body (`service.server`,
`service.limits`, docs/service-limits.md).
"""

from __future__ import annotations

import json
import re
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
import pytest

from flagkit.errors import ConfigurationError
from service.settings import Settings
from tests.conftest import EXAMPLES, REPO
from tests.helpers import FLAGKIT, run_command, wait_until
from tests.service_server import SERVE, CliServer, serve_cli

WITHOUT_MODULES = REPO / "tests" / "without_modules.py"

PARSERS = ("httptools", "h11")
EVALUATE = "/ofrep/v1/evaluate/flags/featureA"

# Runs `flagkit serve` with a file-descriptor limit of 128, as a small container may.
_LOW_FD_LIMIT = (
    sys.executable,
    "-c",
    "import os, resource, sys; resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128)); "
    "os.execv(sys.argv[1], sys.argv[1:])",
    str(FLAGKIT),
    "serve",
)


@contextmanager
def server(*args: str, command: tuple[str, ...] = SERVE, **env: str) -> Iterator[CliServer]:
    """`flagkit serve` on the example document, with FLAGKIT_* settings `env`."""
    source = str(EXAMPLES / "flags.json")
    with serve_cli("--source", source, *args, env=env, command=command) as running:
        yield running


def address(running: CliServer) -> tuple[str, int]:
    host, port = running.base_url.removeprefix("http://").split(":")
    return host, int(port)


def connect(running: CliServer, timeout: float = 5.0) -> socket.socket:
    return socket.create_connection(address(running), timeout=timeout)


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def status_and_body(answer: bytes) -> tuple[str, object]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode(), json.loads(body)


def rss_kib(running: CliServer) -> int:
    found = re.search(r"Started server process \[(\d+)\]", running.log())
    assert found, running.log()
    with open(f"/proc/{found.group(1)}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def requests_counted(running: CliServer) -> dict[str, float]:
    """`flagkit_http_requests_total` for the evaluation route, by status."""
    text = httpx.get(running.base_url + "/metrics").text
    route = 'method="POST",route="/ofrep/v1/evaluate/flags/{key}"'
    pattern = re.escape("flagkit_http_requests_total{" + route) + r',status="(\d+)"\} (\S+)'
    return {status: float(count) for status, count in re.findall(pattern, text)}


@pytest.mark.parametrize("parser", PARSERS)
def test_a_head_over_the_limit_gets_431_and_the_server_does_not_buffer_it(parser: str) -> None:
    with server("--http", parser, FLAGKIT_MAX_HEADER_BYTES="4096") as running:
        before = rss_kib(running)
        with ExitStack() as stack:  # Six heads of 8 MB that never end, held open together.
            piece = b"X-Pad: " + b"a" * 65536 + b"\r\n"
            for _ in range(6):
                sock = stack.enter_context(connect(running))
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
                try:
                    for _ in range(128):
                        sock.sendall(piece)
                except OSError:  # refused and closed: the rest is not read
                    pass
            grown = rss_kib(running) - before
        assert grown < 8 * 1024, f"the server grew by {grown} KiB"
        too_large = (
            "HTTP/1.1 431 Request Header Fields Too Large",
            {
                "errorCode": "GENERAL",
                "errorDetails": "the request line and headers are larger than the limit of "
                "4096 bytes",
            },
        )
        for end in (b"", b"\r\n\r\n"):  # unfinished, and whole
            with connect(running) as sock:
                head = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Pad: " + b"a" * 8192 + end
                sock.sendall(head)
                assert status_and_body(read_all(sock)) == too_large, end
        assert httpx.get(running.base_url + "/healthz").status_code == 200


@pytest.mark.parametrize("parser", PARSERS)
def test_requests_that_do_not_arrive_whole_in_time_are_closed(parser: str) -> None:
    partial_head = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n"
    partial_body = (
        b"POST " + EVALUATE.encode() + b" HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n" + b'{"context": '
    )
    timed_out = (
        "HTTP/1.1 408 Request Timeout",
        {
            "errorCode": "GENERAL",
            "errorDetails": "the request did not arrive whole within 1 seconds",
        },
    )
    with server("--http", parser, FLAGKIT_REQUEST_TIMEOUT="1") as running:
        start = time.monotonic()
        with connect(running) as silent, connect(running) as head, connect(running) as body:
            head.sendall(partial_head)
            body.sendall(partial_body)
            assert read_all(silent) == b""
            assert status_and_body(read_all(head)) == timed_out
            assert status_and_body(read_all(body)) == timed_out
        assert time.monotonic() - start < 4
        assert httpx.get(running.base_url + "/healthz").status_code == 200
        assert "Traceback" not in running.log()


def test_beyond_the_connection_cap_requests_get_503_but_health_checks_get_through() -> None:
    with server(FLAGKIT_MAX_CONNECTIONS="3") as running:
        with ExitStack() as stack:
            for _ in range(3):
                stack.enter_context(connect(running))
            body = {"context": {"targetingKey": "acme"}}
            refused = httpx.post(running.base_url + EVALUATE, json=body)
            assert (refused.status_code, refused.json(), refused.headers["retry-after"]) == (
                503,
                {
                    "errorCode": "GENERAL",
                    "errorDetails": "the server has more than 3 connections open "
                    "(FLAGKIT_MAX_CONNECTIONS); try again later",
                },
                "1",
            )
            assert httpx.get(running.base_url + "/healthz").status_code == 200
            assert httpx.get(running.base_url + "/readyz").status_code == 200
        # The idle connections are gone: the server answers again (once it has seen them go).
        assert wait_until(
            lambda: httpx.post(running.base_url + EVALUATE, json=body).status_code == 200, 5
        )


def test_idle_connections_beyond_the_fd_limit_do_not_lock_out_health_checks() -> None:
    def healthy() -> bool:
        try:
            return httpx.get(running.base_url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    with (
        server(command=_LOW_FD_LIMIT, FLAGKIT_REQUEST_TIMEOUT="1") as running,
        ExitStack() as stack,
    ):
        for _ in range(150):
            stack.enter_context(connect(running))
        start = time.monotonic()
        assert wait_until(healthy, 10, interval=0.1)
        assert time.monotonic() - start < 8


@pytest.mark.parametrize("parser", PARSERS)
def test_a_client_leaving_mid_body_is_counted_499_without_a_traceback(parser: str) -> None:
    with server("--http", parser) as running:
        with connect(running) as sock:
            sock.sendall(
                b"POST " + EVALUATE.encode() + b" HTTP/1.1\r\nHost: localhost\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                + b'{"context": {"targetingKey": "acme"'
            )
        assert wait_until(lambda: "499" in requests_counted(running), 5), running.log()
        assert requests_counted(running) == {"499": 1.0}
        assert "Traceback" not in running.log()
        assert "Exception" not in running.log()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("FLAGKIT_MAX_HEADER_BYTES", "0", "FLAGKIT_MAX_HEADER_BYTES must be at least 1, got 0"),
        ("FLAGKIT_MAX_CONNECTIONS", "x", "FLAGKIT_MAX_CONNECTIONS must be an integer, got 'x'"),
        ("FLAGKIT_REQUEST_TIMEOUT", "0", "FLAGKIT_REQUEST_TIMEOUT must be positive, got 0.0"),
    ],
)
def test_bad_limit_settings_are_refused(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_env({name: value})
    assert str(refused.value) == message


def test_the_limits_have_these_defaults() -> None:
    settings = Settings.from_env({})
    assert (settings.max_header_bytes, settings.request_timeout, settings.max_connections) == (
        32768,
        10.0,
        1000,
    )


def test_the_documented_defaults_are_the_settings_defaults() -> None:
    text = (REPO / "docs" / "service-limits.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `FLAGKIT_(\w+)` \| ([\d.]+)", text, re.MULTILINE)
    documented = {name.lower(): float(default) for name, default in rows}
    defaults = Settings()
    assert documented == {name: float(getattr(defaults, name)) for name in documented}
    assert set(documented) == {
        "max_header_bytes",
        "request_timeout",
        "max_connections",
        "max_body_bytes",
    }


def test_asking_for_httptools_where_it_is_not_installed_is_a_usage_error() -> None:
    serve = [sys.executable, "-P", str(WITHOUT_MODULES), "httptools", "flagkit", "serve"]
    done = run_command([*serve, "--source", str(EXAMPLES / "flags.json"), "--http", "httptools"])
    assert (done.returncode, done.stdout, done.stderr) == (
        2,
        "",
        "flagkit serve: error: --http httptools: httptools is not installed; "
        "pip install httptools, or use --http h11\n",
    )
