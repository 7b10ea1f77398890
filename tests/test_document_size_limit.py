"""The document size limit holds on every path, and can be raised (issue #10, section 2).

`Flags.from_file(..., max_document_bytes=...)` above 4 MiB used to change nothing: the file
was read, then the check that compiles it applied the default 4 MiB again. The limit is
now the source's (`max_bytes`), and every path a document takes reads it: a file, a
document in memory, AppConfig's Data API, the AppConfig Agent, a fallback file, and
`flagkit serve` with `FLAGKIT_MAX_DOCUMENT_BYTES`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flagkit import ConfigurationError, Flags, SchemaValidationError
from flagkit.document import DEFAULT_MAX_DOCUMENT_BYTES
from flagkit.sources.agent import AgentSource
from flagkit.sources.appconfig import AppConfigSource
from flagkit.sources.memory import MemorySource
from service.settings import Settings
from service.source import open_flags
from tests.appconfig_endpoint import AppConfigEndpoint
from tests.appconfig_fixtures import APP, ENV, PROFILE, Harness
from tests.helpers import write
from tests.service_server import serve_cli

RAISED_LIMIT = 5_000_000
"""Above the default 4 MiB (4,194,304 bytes)."""


def big_document() -> dict[str, Any]:
    """A valid document of about 4.6 MB: one flag with 270,000 tenants, and a small one."""
    tenants = [f"tenant-{i:06d}" for i in range(270_000)]
    return {"big": {"enabled": True, "tenants": tenants}, "small": {"enabled": True}}


BIG = big_document()
BIG_BYTES = json.dumps(BIG).encode()
TOO_BIG = (
    f"(document): {len(BIG_BYTES)} bytes is larger than the limit of "
    f"{DEFAULT_MAX_DOCUMENT_BYTES} bytes"
)


def test_the_big_document_is_between_the_default_and_the_raised_limit() -> None:
    assert DEFAULT_MAX_DOCUMENT_BYTES < len(BIG_BYTES) < RAISED_LIMIT


def serves_big(flags: Flags) -> bool:
    return flags.enabled("big", "tenant-269999") and not flags.enabled("big", "initech")


def test_from_file_takes_a_raised_limit(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    path.write_bytes(BIG_BYTES)
    with pytest.raises(SchemaValidationError) as caught:
        Flags.from_file(path)
    assert str(caught.value) == TOO_BIG
    assert serves_big(Flags.from_file(path, max_document_bytes=RAISED_LIMIT))


def test_a_lowered_limit_holds_on_refresh_and_the_last_good_document_stays(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "flags.json", {"small": {"enabled": True}})
    flags = Flags.from_file(path, max_document_bytes=1000)
    path.write_bytes(json.dumps({"small": {"enabled": False, "description": "x" * 1000}}).encode())
    with pytest.raises(SchemaValidationError) as caught:
        flags.refresh()
    assert str(caught.value) == "(document): 1048 bytes is larger than the limit of 1000 bytes"
    assert flags.enabled("small", "acme") is True


def test_a_memory_source_takes_a_raised_limit() -> None:
    with pytest.raises(SchemaValidationError) as caught:
        Flags(MemorySource(BIG))
    assert str(caught.value) == TOO_BIG
    assert serves_big(Flags(MemorySource(BIG, max_bytes=RAISED_LIMIT)))


def test_from_dict_takes_a_raised_limit() -> None:
    with pytest.raises(SchemaValidationError) as caught:
        Flags.from_dict(BIG)
    assert str(caught.value) == TOO_BIG
    assert serves_big(Flags.from_dict(BIG, max_document_bytes=RAISED_LIMIT))


def test_from_appconfig_and_from_agent_take_a_raised_limit(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    endpoint.deploy(APP, ENV, PROFILE, BIG_BYTES.decode())
    through_api = Flags.from_appconfig(
        APP,
        ENV,
        PROFILE,
        client=harness.client(),
        refresh_mode="manual",
        max_document_bytes=RAISED_LIMIT,
    )
    assert serves_big(harness.track(through_api))
    through_agent = Flags.from_agent(
        APP,
        ENV,
        PROFILE,
        base_url=endpoint.url,
        refresh_mode="manual",
        max_document_bytes=RAISED_LIMIT,
    )
    assert serves_big(harness.track(through_agent))


def test_an_appconfig_source_takes_a_raised_limit(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    endpoint.deploy(APP, ENV, PROFILE, BIG_BYTES.decode())

    with pytest.raises(SchemaValidationError) as caught:
        Flags(AppConfigSource(APP, ENV, PROFILE, client=harness.client()))
    assert str(caught.value) == TOO_BIG
    source = AppConfigSource(APP, ENV, PROFILE, client=harness.client(), max_bytes=RAISED_LIMIT)
    assert serves_big(harness.track(Flags(source)))


def test_an_agent_source_takes_a_raised_limit(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    endpoint.deploy(APP, ENV, PROFILE, BIG_BYTES.decode())

    with pytest.raises(SchemaValidationError) as caught:
        Flags(AgentSource(APP, ENV, PROFILE, base_url=endpoint.url))
    assert str(caught.value) == TOO_BIG
    source = AgentSource(APP, ENV, PROFILE, base_url=endpoint.url, max_bytes=RAISED_LIMIT)
    assert serves_big(harness.track(Flags(source)))


def test_a_fallback_file_is_held_to_the_sources_limit(
    endpoint: AppConfigEndpoint, harness: Harness, tmp_path: Path
) -> None:
    """AppConfig has nothing deployed: the fallback file serves, under the raised limit."""
    endpoint.create(APP, ENV, PROFILE)
    fallback = tmp_path / "fallback.json"
    fallback.write_bytes(BIG_BYTES)
    source = AppConfigSource(APP, ENV, PROFILE, client=harness.client(), max_bytes=RAISED_LIMIT)
    flags = harness.track(Flags(source, fallback=fallback))
    assert flags.status.origin == f"fallback:file:{fallback}"
    assert serves_big(flags)


# -- flagkit serve ----------------------------------------------------------------------------


def test_the_setting_is_read_and_checked() -> None:
    assert Settings.from_env({}).max_document_bytes == DEFAULT_MAX_DOCUMENT_BYTES
    settings = Settings.from_env({"FLAGKIT_MAX_DOCUMENT_BYTES": "5000000"})
    assert settings.max_document_bytes == RAISED_LIMIT
    for value, message in [
        ("5MB", "FLAGKIT_MAX_DOCUMENT_BYTES must be an integer, got '5MB'"),
        ("0", "FLAGKIT_MAX_DOCUMENT_BYTES must be at least 1, got 0"),
    ]:
        with pytest.raises(ConfigurationError) as caught:
            Settings.from_env({"FLAGKIT_MAX_DOCUMENT_BYTES": value})
        assert str(caught.value) == message


def test_flagkit_serve_serves_a_document_over_4_mib_when_told_to(tmp_path: Path) -> None:
    """serve_cli waits for /readyz to say 200: before, it said 503 with the size error."""
    path = tmp_path / "flags.json"
    path.write_bytes(BIG_BYTES)
    env = {"FLAGKIT_SOURCE": str(path), "FLAGKIT_MAX_DOCUMENT_BYTES": str(RAISED_LIMIT)}
    with serve_cli("--host", "127.0.0.1", env=env) as server, server.client() as client:
        ready = client.get("/readyz")
        assert (ready.status_code, ready.json()["status"]) == (200, "ready")
        answer = client.post(
            "/ofrep/v1/evaluate/flags/big", json={"context": {"targetingKey": "tenant-000001"}}
        )
        assert (answer.status_code, answer.json()["value"]) == (200, True)


def test_the_service_gives_appconfig_and_agent_sources_the_limit(
    endpoint: AppConfigEndpoint, harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint.deploy(APP, ENV, PROFILE, BIG_BYTES.decode())
    harness.session()  # AppConfig's Data API at the endpoint, for boto3's default session
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for source in (f"appconfig://{APP}/{ENV}/{PROFILE}", f"agent://{APP}/{ENV}/{PROFILE}"):
        settings = Settings(
            source=source,
            poll_interval=15,
            agent_url=endpoint.url,
            max_document_bytes=RAISED_LIMIT,
        )
        flags = harness.track(open_flags(settings))
        assert serves_big(flags), source
