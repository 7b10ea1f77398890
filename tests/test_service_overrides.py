"""Local overrides in the service (issue #13, item 3), against a real `flagkit serve`:
`--overrides FILE` re-read when it changes, `FLAGKIT_OVERRIDES` holding JSON, and
`/v1/status` and `/readyz` saying that overrides are in force (and `/readyz` not which)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from flagkit import ConfigurationError
from service.log_privacy import HIDDEN_PROBLEMS
from service.settings import Settings
from tests.helpers import replace, run_flagkit, wait_until, write
from tests.service_server import CliServer, cli_environment, serve_cli

DOC = {
    "featureA": {"enabled": True, "tenants": ["acme"]},
    "checkout": {"enabled": True, "variants": {"old": 1, "new": 2}, "defaultVariant": "old"},
}
FAST_POLLS = {"FLAGKIT_POLL_INTERVAL": "0.05"}


def flag(client: httpx.Client, key: str, tenant: str) -> tuple[Any, str | None, str]:
    body = client.get(f"/v1/flags/{key}", params={"tenant": tenant}).json()
    return body["value"], body["reason"], body["rule"]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[CliServer, httpx.Client, Path]]:
    """`flagkit serve --overrides FILE` (polling fast), FILE forcing featureA off: the
    server, a client and FILE."""
    doc = write(tmp_path, "flags.json", DOC)
    path = write(tmp_path, "overrides.json", {"featureA": {"enabled": False}})
    with (
        serve_cli("--source", str(doc), "--overrides", str(path), env=FAST_POLLS) as server,
        server.client() as client,
    ):
        yield server, client, path


def test_serve_overrides_a_file_re_read_when_it_changes(
    served: tuple[CliServer, httpx.Client, Path],
) -> None:
    _, client, path = served
    assert flag(client, "featureA", "acme") == (False, "STATIC", "override")
    assert client.get("/readyz").json()["overrides"] == {"active": True, "count": 1}

    replace(path, {"checkout": {"tenants": {"acme": {"variant": "new"}}}})

    assert wait_until(lambda: flag(client, "featureA", "acme")[2] == "tenants", timeout=10)
    assert flag(client, "checkout", "acme") == (2, "STATIC", "override")
    assert flag(client, "checkout", "globex") == (1, "STATIC", "static")
    assert client.get("/v1/status").json()["overrides"] == {
        "active": True,
        "count": 1,
        "origin": f"file:{path}",
        "error": None,
    }


def test_a_bad_overrides_file_on_reload_keeps_the_last_good_and_says_why(
    served: tuple[CliServer, httpx.Client, Path],
) -> None:
    server, client, path = served

    replace(path, '{"featureA": {"enabled": "off"}}')

    problem = f"overrides file:{path}: featureA.enabled: \"off\" is not of type 'boolean'"
    logged = server.wait_for_log("rejected overrides")
    assert (  # The problems may quote tenant ids: /v1/status shows them, with a key.
        f"flagkit: rejected overrides file:{path}; still serving the last good overrides (1): "
        f"{HIDDEN_PROBLEMS}\n"
    ) in logged
    assert '"off"' not in logged
    assert flag(client, "featureA", "acme") == (False, "STATIC", "override")
    assert client.get("/v1/status").json()["overrides"] == {
        "active": True,
        "count": 1,
        "origin": f"file:{path}",
        "error": problem,
    }
    assert client.get("/readyz").status_code == 200


def test_serve_takes_overrides_from_the_environment(tmp_path: Path) -> None:
    doc = write(tmp_path, "flags.json", DOC)
    env = {"FLAGKIT_OVERRIDES": '{"featureA": {"tenants": {"globex": {"enabled": true}}}}'}
    with serve_cli("--source", str(doc), env=env) as server, server.client() as client:
        assert flag(client, "featureA", "globex") == (True, "STATIC", "override")
        assert flag(client, "featureA", "initech") == (False, "DEFAULT", "default")
        status = client.get("/v1/status").json()["overrides"]
        ready = client.get("/readyz")

    assert status == {"active": True, "count": 1, "origin": "env:FLAGKIT_OVERRIDES", "error": None}
    assert ready.json()["overrides"] == {"active": True, "count": 1}
    assert "featureA" not in ready.text  # /readyz is open: a count, never a flag's name


BAD_STARTS = [
    pytest.param(
        lambda tmp: (["--overrides", str(write(tmp, "o.json", '{"featureA": []}'))], {}),
        lambda tmp: f"overrides file:{tmp / 'o.json'}: featureA: [] is not of type 'object'",
        id="bad-file",
    ),
    pytest.param(
        lambda tmp: (["--overrides", str(tmp / "missing.json")], {}),
        lambda tmp: (
            f"overrides file:{tmp / 'missing.json'}: (document): cannot be read: "
            "No such file or directory"
        ),
        id="missing-file",
    ),
    pytest.param(
        lambda tmp: ([], {"FLAGKIT_OVERRIDES": '{"featureA": {"enabled": tru}}'}),
        lambda tmp: (
            "overrides env:FLAGKIT_OVERRIDES: (document): not valid JSON: "
            "Expecting value at line 1 column 26"
        ),
        id="bad-env",
    ),
    pytest.param(
        lambda tmp: (
            ["--overrides", str(write(tmp, "o.json", {}))],
            {"FLAGKIT_OVERRIDES": "{}"},
        ),
        lambda tmp: (
            "give overrides in FLAGKIT_OVERRIDES or in a file (--overrides, "
            "FLAGKIT_OVERRIDES_FILE), not both"
        ),
        id="both",
    ),
]


@pytest.mark.parametrize(("given", "message"), BAD_STARTS)
def test_bad_overrides_stop_serve_at_start_with_a_clear_error(
    tmp_path: Path, given: Any, message: Any
) -> None:
    doc = write(tmp_path, "flags.json", DOC)
    args, env = given(tmp_path)

    result = run_flagkit("serve", "--source", doc, *args, env=cli_environment(env))

    assert result.returncode == 2
    assert result.stderr == f"flagkit serve: error: {message(tmp_path)}\n"


def test_settings_read_both_overrides_variables() -> None:
    from_file = Settings.from_env({"FLAGKIT_OVERRIDES_FILE": "/etc/flagkit/overrides.json"})
    from_json = Settings.from_env({"FLAGKIT_OVERRIDES": '{"featureA": {"enabled": false}}'})

    assert from_file.overrides() == "/etc/flagkit/overrides.json"
    parsed = from_json.overrides()
    assert not isinstance(parsed, str)
    assert getattr(parsed, "origin", None) == "env:FLAGKIT_OVERRIDES"
    assert Settings.from_env({}).overrides() is None
    with pytest.raises(ConfigurationError) as raised:
        Settings(overrides_json='{"featureA": {"variant": ""}}')
    assert str(raised.value) == (
        "overrides env:FLAGKIT_OVERRIDES: featureA.variant: an empty string; "
        "give at least 1 character"
    )
