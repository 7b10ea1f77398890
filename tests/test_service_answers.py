"""Every answer is well-formed: errors in OFREP's JSON shape with the right status, HEAD on
GET routes, duplicate keys refused, `If-None-Match: *`, `--log-level`, no CDN-backed /docs.

Each test talks to a real uvicorn on loopback (issue #11, section 3).
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from flagkit.client import Flags
from service.settings import Settings
from tests.appconfig_fixtures import free_port
from tests.conftest import EXAMPLES
from tests.helpers import replace, wait_until
from tests.service_server import (
    SERVE,
    START_TIMEOUT,
    LiveServer,
    cli_environment,
    live,
    serve_cli,
    wait_ready,
)
from tests.test_service_server import serving

DOC: dict[str, Any] = {
    "featureA": {"enabled": True, "tenants": ["acme"]},
    "theme": {
        "enabled": True,
        "variants": {"classic": {"dark": False}, "night": {"dark": True}},
        "defaultVariant": "classic",
        "rules": [
            {"id": "eu", "when": [{"attribute": "region", "equals": "eu"}], "serve": "night"}
        ],
    },
}
KEY = "answers-test-key-0123456789"
ORIGIN = "https://app.example"
JSON = "application/json"


@pytest.fixture(scope="module")
def flags() -> Iterator[Flags]:
    with Flags.from_dict(DOC, version="v1") as made:
        yield made


@pytest.fixture(scope="module")
def server(flags: Flags) -> Iterator[LiveServer]:
    settings = Settings(api_keys=frozenset({KEY}), cors_origins=(ORIGIN,))
    with live(flags, settings) as served:
        yield served


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client(headers={"Authorization": f"Bearer {KEY}"}) as client:
        yield client


def error(response: httpx.Response) -> tuple[int, str, Any]:
    """Status, media type and JSON body of an error answer."""
    return response.status_code, response.headers["content-type"], response.json()


# -- trailing slashes, HEAD, CORS -----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/healthz/"),
        ("GET", "/v1/flags/featureA/"),
        ("POST", "/ofrep/v1/evaluate/flags/"),
        ("POST", "/ofrep/v1/evaluate/flags/featureA/"),
    ],
)
def test_a_trailing_slash_is_a_json_404_not_a_redirect(
    http: httpx.Client, method: str, path: str
) -> None:
    """Before: a bodyless 307 to a URL made from the `Host` header the client sent."""
    response = http.request(method, path, headers={"Host": "evil.example"}, json={})
    assert error(response) == (
        404,
        JSON,
        {"errorCode": "GENERAL", "errorDetails": "no route has this path; paths do not end in '/'"},
    )
    assert "location" not in response.headers


def test_an_unknown_path_is_a_json_404(http: httpx.Client) -> None:
    assert error(http.get("/nowhere")) == (
        404,
        JSON,
        {"errorCode": "GENERAL", "errorDetails": "no route has this path"},
    )


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/v1/flags/featureA"])
def test_head_answers_as_get_without_a_body(http: httpx.Client, path: str) -> None:
    """Before: 405 on /healthz and /readyz (FastAPI routes take only the methods they list)."""
    got = http.get(path, params={"tenant": "acme"})
    head = http.head(path, params={"tenant": "acme"})
    assert (head.status_code, got.status_code) == (200, 200)
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == got.headers["content-length"] != "0"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_a_probe_may_head_without_a_key(server: LiveServer, path: str) -> None:
    with server.client() as anonymous:
        response = anonymous.head(path)
    assert (response.status_code, response.content) == (200, b"")


def test_head_on_a_post_route_is_a_json_405(http: httpx.Client) -> None:
    response = http.head("/ofrep/v1/evaluate/flags")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.content == b""  # HEAD: the 405's JSON body is not sent


def test_head_is_counted_as_head_in_the_metrics(http: httpx.Client) -> None:
    http.head("/healthz")
    assert 'method="HEAD",route="/healthz",status="200"' in http.get("/metrics").text


def test_a_refused_cors_preflight_is_json(http: httpx.Client) -> None:
    """Before: 400 `text/plain` "Disallowed CORS origin"."""
    preflight = {"Access-Control-Request-Method": "POST"}
    refused = http.options(
        "/ofrep/v1/evaluate/flags", headers={"Origin": "https://evil.example", **preflight}
    )
    assert error(refused) == (
        400,
        JSON,
        {"errorCode": "GENERAL", "errorDetails": "Disallowed CORS origin"},
    )
    assert "access-control-allow-origin" not in refused.headers
    wrong_method = http.options(
        "/ofrep/v1/evaluate/flags",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "DELETE"},
    )
    assert error(wrong_method) == (
        400,
        JSON,
        {"errorCode": "GENERAL", "errorDetails": "Disallowed CORS method"},
    )
    allowed = http.options("/ofrep/v1/evaluate/flags", headers={"Origin": ORIGIN, **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN


# -- malformed HTTP -------------------------------------------------------------------------


@pytest.fixture(
    params=["service.server:NoDelayH11Protocol", "service.server:NoDelayHttpToolsProtocol"],
    ids=["h11", "httptools"],
)
def protocol_server(request: pytest.FixtureRequest) -> Iterator[int]:
    """A real uvicorn serving the app with one of `flagkit serve`'s protocols; its port."""
    with serving(request.param) as (_, url):
        yield int(url.rpartition(":")[2])


def raw_exchange(port: int, request: bytes) -> bytes:
    """Send `request` as it is and read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 TLS to a plain port\r\n\r\n",
        b"POST /ofrep/v1/evaluate/flags HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
    ],
    ids=["header-without-colon", "tls-hello", "bad-content-length"],
)
def test_malformed_http_is_a_json_400(protocol_server: int, request_bytes: bytes) -> None:
    """uvicorn answers these itself, `text/plain`, unless the protocol has `JsonBadRequest`."""
    head, _, body = raw_exchange(protocol_server, request_bytes).partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 400 Bad Request"
    assert "content-type: application/json" in lines
    assert json.loads(body) == {
        "errorCode": "GENERAL",
        "errorDetails": "the request is not valid HTTP/1.1",
    }
    # The server goes on answering other clients.
    assert raw_exchange(
        protocol_server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    ).startswith(b"HTTP/1.1 200 OK")


# -- request bodies and ETags ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "twice"),
    [
        ('{"context": {"targetingKey": "acme", "targetingKey": "globex"}}', "targetingKey"),
        ('{"context": {"targetingKey": "acme"}, "context": {}}', "context"),
        ('{"context": {"targetingKey": "acme", "plan": {"a": 1, "a": 2}}}', "a"),
    ],
)
@pytest.mark.parametrize("path", ["/ofrep/v1/evaluate/flags/featureA", "/ofrep/v1/evaluate/flags"])
def test_a_body_with_a_key_twice_is_a_400_parse_error(
    http: httpx.Client, path: str, body: str, twice: str
) -> None:
    """Before: the last `targetingKey` won, silently (200 for globex)."""
    response = http.post(path, content=body, headers={"Content-Type": JSON})
    expected = {
        "errorCode": "PARSE_ERROR",
        "errorDetails": f'request body: the key "{twice}" appears twice in one object',
    }
    if path.endswith("featureA"):
        expected = {"key": "featureA", **expected}
    assert error(response) == (400, JSON, expected)
    # Nothing is lost: the same request without the duplicate is answered.
    good = http.post(path, json={"context": {"targetingKey": "acme"}})
    assert good.status_code == 200


def test_if_none_match_star_is_304_while_a_document_is_served(http: httpx.Client) -> None:
    """Before: `*` matched no ETag, so the whole body came back (200)."""
    bulk = "/ofrep/v1/evaluate/flags"
    body = {"context": {"targetingKey": "acme"}}
    etag = http.post(bulk, json=body).headers["etag"]
    for header in ("*", '"other", *'):
        response = http.post(bulk, json=body, headers={"If-None-Match": header})
        assert (response.status_code, response.content) == (304, b"")
        assert response.headers["etag"] == etag
    other = http.post(bulk, json=body, headers={"If-None-Match": '"other"'})
    assert other.status_code == 200


# -- /docs ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_no_cdn_backed_docs_page(server: LiveServer, http: httpx.Client, path: str) -> None:
    """Before: /docs was Swagger UI from a CDN (a blank page offline). The API is described
    by /openapi.json, which needs no key and no network; /docs is a path like any unknown
    one (401 without a key, as the guard checks keys before routing; 404 with one)."""
    assert error(http.get(path)) == (
        404,
        JSON,
        {"errorCode": "GENERAL", "errorDetails": "no route has this path"},
    )
    with server.client() as anonymous:
        assert anonymous.get(path).status_code == 401
        document = anonymous.get("/openapi.json")
    assert document.status_code == 200
    assert "/ofrep/v1/evaluate/flags" in document.json()["paths"]


# -- flagkit serve --log-level --------------------------------------------------------------


def test_debug_log_level_keeps_the_access_log_off() -> None:
    """Before: `--log-level` was an unknown option (exit 2)."""
    with serve_cli("--source", str(EXAMPLES / "flags.json"), "--log-level", "debug") as served:
        with served.client() as client:
            assert client.get("/healthz").status_code == 200
        log = served.wait_for_log("serving flags version")
    assert "GET /healthz" not in log


def test_warning_log_level_writes_warnings_and_no_info(tmp_path: Path) -> None:
    """A good edit (an INFO swap line by default) is not logged; a bad one (WARNING) is."""
    path = tmp_path / "flags.json"
    shutil.copyfile(EXAMPLES / "flags.json", path)
    port = free_port()  # uvicorn's "running on" line, which tells the port, is INFO.
    process = subprocess.Popen(
        [*SERVE, "--source", str(path), "--port", str(port), "--log-level", "warning"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=cli_environment({"FLAGKIT_POLL_INTERVAL": "0.1"}),
    )
    assert process.stdout is not None
    lines: list[str] = []
    warned = threading.Event()

    def read_log() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "WARNING flagkit: rejected flag document" in line:
                warned.set()

    reader = threading.Thread(target=read_log, daemon=True)
    reader.start()
    try:
        served = LiveServer(f"http://127.0.0.1:{port}")
        assert wait_ready(served).status_code == 200
        with served.client() as client:
            document = json.loads(path.read_text())
            document["newFlag"] = {"enabled": True}
            replace(path, json.dumps(document))
            assert served_soon(client, "/v1/flags/newFlag?tenant=acme")
        replace(path, '{"newFlag": {"enabled": "yes"}}')
        assert warned.wait(START_TIMEOUT), "".join(lines)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(START_TIMEOUT)
        reader.join(START_TIMEOUT)
        process.stdout.close()
    log = "".join(lines)
    assert "INFO" not in log, log


def served_soon(client: httpx.Client, path: str) -> bool:
    """Whether GET `path` turns 200 within 10 s; the server re-reads its file on its own
    clock, in another process: there is no event to await, so this asks every 50 ms."""
    return wait_until(lambda: client.get(path).status_code == 200, 10, interval=0.05)
