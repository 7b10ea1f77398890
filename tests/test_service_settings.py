"""The service's settings from environment variables, and its source strings."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import flagkit
import service.settings
from flagkit import ConfigurationError
from flagkit.sources.agent import DEFAULT_AGENT_URL
from service.settings import Settings
from service.source import open_flags, source_kind
from tests.conftest import REPO

EXAMPLE = REPO / "examples" / "flags.json"


def test_defaults_when_nothing_is_set() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.source is None
    assert settings.api_keys == frozenset()
    assert settings.max_body_bytes == 65536
    assert settings.max_context_attributes == 64
    assert settings.max_context_string == 1024
    assert settings.allow_unauthenticated is False


def test_the_agent_url_defaults_to_the_agent_sources_default() -> None:
    """One default for the AppConfig Agent; the settings' table and the README show it."""
    row = f"| `FLAGKIT_AGENT_URL` | `{DEFAULT_AGENT_URL}` |"
    assert Settings().agent_url == Settings.from_env({}).agent_url == DEFAULT_AGENT_URL
    assert row in (service.settings.__doc__ or "")
    assert row in (REPO / "README.md").read_text(encoding="utf-8")


def test_every_variable_is_read() -> None:
    settings = Settings.from_env(
        {
            "FLAGKIT_SOURCE": "appconfig://shop/prod/flags",
            "FLAGKIT_POLL_INTERVAL": "30",
            "FLAGKIT_BACKUP_PATH": "/var/cache/flags.json",
            "FLAGKIT_FALLBACK": "/etc/flags.json",
            "FLAGKIT_AGENT_URL": "http://127.0.0.1:2773",
            "FLAGKIT_MAX_DOCUMENT_BYTES": "8000000",
            "FLAGKIT_API_KEYS": " k1, k2 ,,",
            "FLAGKIT_ALLOW_UNAUTHENTICATED": "true",
            "FLAGKIT_MAX_BODY_BYTES": "1000",
            "FLAGKIT_MAX_CONTEXT_ATTRIBUTES": "3",
            "FLAGKIT_MAX_CONTEXT_STRING": "10",
        }
    )
    assert settings == Settings(
        source="appconfig://shop/prod/flags",
        poll_interval=30.0,
        backup_path="/var/cache/flags.json",
        fallback="/etc/flags.json",
        agent_url="http://127.0.0.1:2773",
        max_document_bytes=8_000_000,
        api_keys=frozenset({"k1", "k2"}),
        allow_unauthenticated=True,
        max_body_bytes=1000,
        max_context_attributes=3,
        max_context_string=10,
    )


def test_api_keys_file_adds_keys_and_skips_comments(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text("# service A\nalpha\n\n  beta  \n#gamma\n")
    settings = Settings.from_env({"FLAGKIT_API_KEYS": "delta", "FLAGKIT_API_KEYS_FILE": str(keys)})
    assert settings.api_keys == frozenset({"alpha", "beta", "delta"})


def test_an_unreadable_keys_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({"FLAGKIT_API_KEYS_FILE": str(missing)})
    assert str(caught.value) == (
        f"FLAGKIT_API_KEYS_FILE {str(missing)!r} cannot be read: No such file or directory"
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("FLAGKIT_MAX_BODY_BYTES", "64k", "FLAGKIT_MAX_BODY_BYTES must be an integer, got '64k'"),
        ("FLAGKIT_POLL_INTERVAL", "soon", "FLAGKIT_POLL_INTERVAL must be a number, got 'soon'"),
        ("FLAGKIT_POLL_INTERVAL", "0", "FLAGKIT_POLL_INTERVAL must be positive, got 0.0"),
        ("FLAGKIT_MAX_CONTEXT_STRING", "0", "FLAGKIT_MAX_CONTEXT_STRING must be at least 1, got 0"),
        (
            "FLAGKIT_ALLOW_UNAUTHENTICATED",
            "maybe",
            "FLAGKIT_ALLOW_UNAUTHENTICATED must be 1 or 0, got 'maybe'",
        ),
    ],
)
def test_a_malformed_variable_says_which_and_why(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({name: value})
    assert str(caught.value) == message


def test_repr_never_shows_keys() -> None:
    settings = Settings(source="f.json", api_keys=frozenset({"s3cr3t-key", "other"}))
    assert "s3cr3t" not in repr(settings)
    assert "<2 keys>" in repr(settings)


@pytest.mark.parametrize(
    ("source", "kind", "parts"),
    [
        ("flags.json", "file", ("flags.json",)),
        ("/etc/flagkit/flags.json", "file", ("/etc/flagkit/flags.json",)),
        ("appconfig://shop/prod/flags", "appconfig", ("shop", "prod", "flags")),
        ("agent://shop/prod/flags", "agent", ("shop", "prod", "flags")),
    ],
)
def test_source_kinds(source: str, kind: str, parts: tuple[str, ...]) -> None:
    assert source_kind(source) == (kind, parts)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "appconfig://shop/prod",
            "source 'appconfig://shop/prod' must look like "
            "appconfig://APPLICATION/ENVIRONMENT/PROFILE",
        ),
        (
            "agent://shop//flags",
            "source 'agent://shop//flags' must look like agent://APPLICATION/ENVIRONMENT/PROFILE",
        ),
        (
            "s3://bucket/flags.json",
            "source 's3://bucket/flags.json' is not a file path, "
            "appconfig://APPLICATION/ENVIRONMENT/PROFILE or agent://APPLICATION/ENVIRONMENT/PROFILE",
        ),
    ],
)
def test_a_malformed_source_says_what_a_good_one_looks_like(source: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        source_kind(source)
    assert str(caught.value) == message


def test_open_flags_without_a_source_says_what_to_set() -> None:
    with pytest.raises(ConfigurationError, match=r"^FLAGKIT_SOURCE is not set: "):
        open_flags(Settings())


def test_open_flags_on_a_file_refreshes_on_its_own_thread() -> None:
    before = set(threading.enumerate())
    flags = open_flags(Settings(source=str(EXAMPLE), poll_interval=3600))
    try:
        assert flags.enabled("featureA", "acme")
        assert flags.status.source == f"file:{EXAMPLE}"
        started = set(threading.enumerate()) - before
        assert [thread.name for thread in started] == [f"flagkit-refresh file:{EXAMPLE}"]
    finally:
        flags.close()


def test_the_loader_does_not_retry_a_configuration_error() -> None:
    from service.state import FlagsLoader

    attempts: list[int] = []

    def open_flags_badly() -> flagkit.Flags:
        attempts.append(1)
        raise ConfigurationError("poll_interval must be from 15 to 86400 seconds, got 5")

    loader = FlagsLoader(open_flags_badly)
    loader.start()
    assert loader.wait(timeout=10) is False  # The thread ended: it is not waiting to retry.
    assert attempts == [1]
    assert loader.error == (
        "configuration error, not retrying: poll_interval must be from 15 to 86400 seconds, got 5"
    )
    loader.stop()


def test_an_agent_source_makes_one_attempt_per_load(tmp_path: Path) -> None:
    """The loader retries; `open_flags` must not also wait out the agent's start-up timeout."""
    import socket
    import time

    with socket.socket() as closed:  # A port nobody listens on: connection refused.
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings = Settings(source="agent://shop/prod/flags", agent_url=f"http://127.0.0.1:{port}")
    began = time.monotonic()
    with pytest.raises(flagkit.SourceError, match=r"[Cc]onnection refused"):
        open_flags(settings)
    assert time.monotonic() - began < 5  # not the 30 s from_agent waits by default


def test_cors_origins_are_read_as_a_list() -> None:
    settings = Settings.from_env({"FLAGKIT_CORS_ORIGINS": "https://a.example, https://b.example,"})
    assert settings.cors_origins == ("https://a.example", "https://b.example")
