"""Nothing leaks to someone without a key (issue #11, section 2), each against a real server.

Open routes (`/healthz`, `/readyz`) say only what a probe needs; the details are on
`/v1/status` behind the API keys; `/metrics` follows the keys unless
FLAGKIT_METRICS_OPEN is set; with no keys, a request addressed to a name other than
loopback (DNS rebinding) is refused; and nothing a client sends, nor a rejected
document's content, reaches the log at the default level.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from flagkit import DocumentError, Flags, Tenant
from service.app import create_app
from service.log_privacy import HIDDEN_PROBLEMS, DocumentContentFilter
from service.settings import Settings
from tests.conftest import REPO
from tests.helpers import write
from tests.markdown_text import fenced_blocks, section
from tests.service_server import serve_app, serve_cli

KEY = "api-key-0c8e41d7"
BEARER = {"Authorization": f"Bearer {KEY}"}
DOC = {"checkout": {"enabled": True, "tenants": ["acme"]}}
SECRET_TENANT = "tenant-7f3a9c-secret"  # noqa: S105 - a tenant id, not a password
REJECTED = {"checkout": {"enabled": True, "tenants": SECRET_TENANT}}
"""A document a PM got wrong: a tenant id pasted where a list belongs. Its problem quotes it."""
PROBLEM = f"checkout.tenants: \"{SECRET_TENANT}\" is not of type 'array'"
MISSING_KEY = {
    "errorCode": "GENERAL",
    "errorDetails": "a valid API key is required: send 'Authorization: Bearer KEY' "
    "or 'X-API-Key: KEY'",
}


@pytest.fixture
def rejected_app(tmp_path: Path) -> Iterator[tuple[httpx.Client, Path, str]]:
    """A keyed service on a file whose second version was rejected: a client, the file, and
    the version still served."""
    path = write(tmp_path, "flags.json", DOC)
    app = create_app(Settings(source=str(path), poll_interval=3600, api_keys=frozenset({KEY})))
    with serve_app(app) as server, server.client() as http:
        assert app.state.loader.wait(10)
        flags = app.state.loader.flags
        served = flags.version
        write(tmp_path, "flags.json", REJECTED)
        with pytest.raises(DocumentError):
            flags.refresh()
        yield http, path, served


def test_readyz_says_ready_the_version_the_staleness_and_that_a_rejection_stands(
    rejected_app: tuple[httpx.Client, Path, str],
) -> None:
    http, path, served = rejected_app

    ready = http.get("/readyz")

    assert ready.status_code == 200
    body = ready.json()
    assert set(body) == {"status", "version", "staleFor", "rejected", "overrides"}
    assert body["overrides"] == {"active": False, "count": 0}
    assert (body["status"], body["version"], body["rejected"]) == ("ready", served, True)
    assert body["staleFor"] > 0
    assert SECRET_TENANT not in ready.text
    assert str(path.parent) not in ready.text


def test_the_details_are_on_v1_status_with_a_key(
    rejected_app: tuple[httpx.Client, Path, str],
) -> None:
    http, path, served = rejected_app

    refused = http.get("/v1/status")
    assert (refused.status_code, refused.json()) == (401, MISSING_KEY)
    assert SECRET_TENANT not in refused.text

    status = http.get("/v1/status", headers=BEARER)
    assert status.status_code == 200
    body = status.json()
    assert body.pop("staleFor") > 0
    assert body == {
        "status": "ready",
        "version": served,
        "source": f"file:{path}",
        "origin": f"file:{path}",
        "lastError": PROBLEM,
        "rejected": {"version": body["rejected"]["version"], "problems": [PROBLEM]},
        "overrides": {"active": False, "count": 0, "origin": None, "error": None},
    }
    assert body["rejected"]["version"].startswith("hash:")
    # The last good document still serves.
    answer = http.get("/v1/flags/checkout", params={"tenant": "acme"}, headers=BEARER)
    assert (answer.json()["value"], answer.json()["version"]) == (True, served)


def test_readyz_while_loading_says_only_loading(tmp_path: Path) -> None:
    missing = tmp_path / "flags.json"
    app = create_app(Settings(source=str(missing), api_keys=frozenset({KEY})))
    with flagkit_log(logging.INFO) as log, serve_app(app) as server, server.client() as http:
        log.wait_for("cannot load flags, retrying")

        loading = http.get("/readyz")
        assert (loading.status_code, loading.json()) == (503, {"status": "loading"})

        status = http.get("/v1/status", headers=BEARER).json()
        assert status == {
            "status": "loading",
            "lastError": f"no flag document to start from:\n  file:{missing}: "
            f"cannot read flag document '{missing}': No such file or directory",
        }


# -- /metrics ---------------------------------------------------------------------------------


@pytest.fixture
def file_document(tmp_path: Path) -> Path:
    return write(tmp_path, "flags.json", DOC)


def test_metrics_need_a_key_by_default(file_document: Path) -> None:
    app = create_app(Settings(source=str(file_document), api_keys=frozenset({KEY})))
    with serve_app(app) as server, server.client() as http:
        assert app.state.loader.wait(10)

        refused = http.get("/metrics")
        assert (refused.status_code, refused.json()) == (401, MISSING_KEY)
        assert refused.headers["www-authenticate"] == "Bearer"

        scraped = http.get("/metrics", headers=BEARER)  # what Prometheus' authorization sends
        assert scraped.status_code == 200
        assert f'source="file:{file_document}"' in scraped.text


def test_metrics_open_serves_them_without_a_key(file_document: Path) -> None:
    settings = Settings.from_env(
        {
            "FLAGKIT_SOURCE": str(file_document),
            "FLAGKIT_API_KEYS": KEY,
            "FLAGKIT_METRICS_OPEN": "1",
        }
    )
    app = create_app(settings)
    with serve_app(app) as server, server.client() as http:
        assert app.state.loader.wait(10)

        scraped = http.get("/metrics")
        assert scraped.status_code == 200
        assert "flagkit_document_loaded 1.0" in scraped.text
        assert http.get("/v1/status").status_code == 401  # only /metrics opens


# -- the Host header without keys (DNS rebinding) ---------------------------------------------

WRONG_HOST = {
    "errorCode": "GENERAL",
    "errorDetails": "this service has no API keys and answers only requests addressed to "
    "localhost, 127.0.0.1 or [::1] (the Host header); set FLAGKIT_API_KEYS to be reached "
    "by another name",
}


@pytest.fixture
def keyless(file_document: Path) -> Iterator[tuple[httpx.Client, int]]:
    """A service without keys on loopback: a client and its port."""
    app = create_app(Settings(source=str(file_document)))
    with serve_app(app) as server, server.client() as http:
        assert app.state.loader.wait(10)
        yield http, int(server.base_url.rsplit(":", 1)[1])


@pytest.mark.parametrize(
    "host",
    [
        "rebind.attacker.example",
        "rebind.attacker.example:{port}",
        "127.0.0.1.nip.io",
        "localhost.:{port}",
        "[::2]:{port}",
    ],
)
@pytest.mark.parametrize("path", ["/v1/flags/checkout?tenant=acme", "/v1/status", "/metrics"])
def test_without_keys_a_request_for_another_host_is_refused(
    keyless: tuple[httpx.Client, int], host: str, path: str
) -> None:
    http, port = keyless

    refused = http.get(path, headers={"Host": host.format(port=port)})

    assert (refused.status_code, refused.json()) == (421, WRONG_HOST)


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "localhost:{port}",
        "LocalHost:{port}",
        "127.0.0.1",
        "127.0.0.1:{port}",
        "[::1]",
        "[::1]:{port}",
    ],
)
def test_without_keys_loopback_names_are_answered(
    keyless: tuple[httpx.Client, int], host: str
) -> None:
    http, port = keyless

    answer = http.get("/v1/flags/checkout?tenant=acme", headers={"Host": host.format(port=port)})

    assert (answer.status_code, answer.json()["value"]) == (200, True)


def test_the_openapi_document_lists_the_421_on_every_guarded_route(
    keyless: tuple[httpx.Client, int],
) -> None:
    http, _ = keyless
    paths = http.get("/openapi.json").json()["paths"]

    listing = {
        (path, method): "421" in operation["responses"]
        for path, operations in paths.items()
        for method, operation in operations.items()
    }
    assert [key for key, listed in listing.items() if not listed] == [
        ("/healthz", "get"),
        ("/readyz", "get"),
    ]


def test_the_host_is_not_checked_with_keys_nor_on_open_routes(file_document: Path) -> None:
    app = create_app(Settings(source=str(file_document), api_keys=frozenset({KEY})))
    elsewhere = {"Host": "flags.internal.example", **BEARER}
    with serve_app(app) as server, server.client() as http:
        assert app.state.loader.wait(10)
        answer = http.get("/v1/flags/checkout?tenant=acme", headers=elsewhere)
        assert (answer.status_code, answer.json()["value"]) == (200, True)
        assert http.get("/readyz", headers={"Host": "rebind.example"}).status_code == 200


# -- the log of `flagkit serve` ---------------------------------------------------------------

SECRETS = {
    "body": "body-secret-51c2",
    "tenant": "tenant-secret-a93e",
    "attribute": "attribute-secret-0d7f",
    "attribute_name": "attribute-name-secret-6b1a",
    "header": "header-secret-e4a0",
    "query": "query-secret-2c9b",
    "path": "path-secret-77f3",
    "bad_key": "bad-key-secret-1f08",
    "document_tenant": SECRET_TENANT,
}


def test_no_secret_reaches_the_log_at_the_default_level(tmp_path: Path) -> None:
    path = write(tmp_path, "flags.json", DOC)
    env = {"FLAGKIT_API_KEYS": KEY, "FLAGKIT_POLL_INTERVAL": "0.1"}
    with serve_cli("--source", str(path), env=env) as server, server.client() as http:
        context = {
            "targetingKey": SECRETS["tenant"],
            "plan": SECRETS["attribute"],
            SECRETS["attribute_name"]: "x",
        }
        headers = {**BEARER, "X-Request-Note": SECRETS["header"]}
        params = {"q": SECRETS["query"]}
        for key_headers in (headers, {"Authorization": f"Bearer {SECRETS['bad_key']}"}):
            for flag in ("checkout", SECRETS["path"]):
                http.post(
                    f"/ofrep/v1/evaluate/flags/{flag}",
                    json={"context": context, "note": SECRETS["body"]},
                    headers=key_headers,
                    params=params,
                )
            http.post("/ofrep/v1/evaluate/flags", json={"context": context}, headers=key_headers)
            http.get(
                f"/v1/flags/{SECRETS['path']}",
                params={"tenant": SECRETS["tenant"], "plan": SECRETS["attribute"], **params},
                headers=key_headers,
            )
            http.get(f"/v1/tenants/{SECRETS['tenant']}/flags", headers=key_headers)
        # Bodies the service refuses: not JSON, the wrong shape, too big.
        malformed = http.post(
            "/ofrep/v1/evaluate/flags/checkout",
            content=f'{{"context": {{"targetingKey": "{SECRETS["body"]}"',
            headers={**headers, "Content-Type": "application/json"},
        )
        assert malformed.status_code == 400
        http.post(
            "/ofrep/v1/evaluate/flags/checkout",
            json={"context": [SECRETS["body"]]},
            headers=headers,
        )
        http.post(
            "/ofrep/v1/evaluate/flags/checkout",
            json={"context": {"targetingKey": "acme", "blob": SECRETS["body"] * 5000}},
            headers=headers,
        )

        write(tmp_path, "flags.json", REJECTED)
        log = server.wait_for_log("rejected flag document version")
        # The rejection happened and is served as before.
        status = http.get("/v1/status", headers=BEARER).json()
        assert status["rejected"]["problems"] == [PROBLEM]

    rejection = next(line for line in log.splitlines() if "rejected flag document" in line)
    assert rejection.endswith(
        f"WARNING flagkit: rejected flag document version {status['rejected']['version']} "
        f"from file:{path}; still serving version {status['version']}: {HIDDEN_PROBLEMS}"
    )
    for field, secret in SECRETS.items():
        assert secret not in log, f"the {field} secret is in the log:\n{log}"
    assert KEY not in log


class _Lines(logging.Handler):
    """The records it sees, formatted, after the service's filter."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.addFilter(DocumentContentFilter())
        self.changed = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        with self.changed:
            self.lines.append(record.getMessage())
            self.changed.notify_all()

    def wait_for(self, text: str) -> str:
        """The first line with `text` in it, once there is one (10 s at most)."""
        with self.changed:
            assert self.changed.wait_for(lambda: any(text in line for line in self.lines), 10)
            return next(line for line in self.lines if text in line)


@contextmanager
def flagkit_log(level: int) -> Iterator[_Lines]:
    """The `flagkit` logger's lines at `level`, through the filter `flagkit serve` installs."""
    logger = logging.getLogger("flagkit")
    handler, old_level = _Lines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def start_on_a_rejected_document(tmp_path: Path, log: _Lines) -> str:
    """Start the service on a rejected document; the line saying it cannot load it."""
    path = write(tmp_path, "flags.json", REJECTED)
    app = create_app(Settings(source=str(path), api_keys=frozenset({KEY})))
    with serve_app(app):
        return log.wait_for("cannot load flags")


def test_a_document_rejected_at_start_up_is_logged_without_its_problems(tmp_path: Path) -> None:
    with flagkit_log(logging.INFO) as log:
        line = start_on_a_rejected_document(tmp_path, log)

    assert line == (
        "flagkit service: cannot load flags, retrying in 1 s: the flag document is rejected: "
        f"{HIDDEN_PROBLEMS}"
    )


def test_at_debug_the_problems_are_logged_whole(tmp_path: Path) -> None:
    with flagkit_log(logging.DEBUG) as log:
        line = start_on_a_rejected_document(tmp_path, log)

    assert line == f"flagkit service: cannot load flags, retrying in 1 s: {PROBLEM}"


def test_an_unexpected_error_logs_the_route_not_the_tenant_in_the_path(
    file_document: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(self: Flags, tenant: Tenant) -> object:
        raise RuntimeError("a bug")

    monkeypatch.setattr(Flags, "evaluate_all", broken)
    app = create_app(Settings(source=str(file_document), api_keys=frozenset({KEY})))
    with serve_app(app) as server, server.client(headers=BEARER) as http:
        assert app.state.loader.wait(10)
        failed = http.get(f"/v1/tenants/{SECRETS['tenant']}/flags")

    assert failed.status_code == 500
    [line] = [r.getMessage() for r in caplog.records if r.name == "flagkit.service"]
    assert line == "flagkit service: GET /v1/tenants/{tenant:path}/flags failed"
    assert SECRETS["tenant"] not in caplog.text


def test_flagkit_serve_at_log_level_debug_logs_the_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "flags.json", DOC)
    env = {"FLAGKIT_API_KEYS": KEY, "FLAGKIT_POLL_INTERVAL": "0.1"}
    with serve_cli("--source", str(path), "--log-level", "debug", env=env) as server:
        write(tmp_path, "flags.json", REJECTED)
        log = server.wait_for_log("rejected flag document version")

    rejection = next(line for line in log.splitlines() if "rejected flag document" in line)
    assert rejection.endswith(f": {PROBLEM}")


def test_the_security_page_shows_the_refusal_and_readyz_as_served() -> None:
    text = (REPO / "docs" / "service-security.md").read_text(encoding="utf-8")
    [refusal] = [line for line in text.splitlines() if line.startswith('{"errorCode"')]
    assert json.loads(refusal) == WRONG_HOST
    [ready, *_] = fenced_blocks(section(text, "## Open routes say only what a probe needs"), "json")
    assert set(json.loads(ready)) == {"status", "version", "staleFor", "rejected"}
    assert HIDDEN_PROBLEMS in text
