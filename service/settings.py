"""The service's settings, read once from environment variables.

| variable | default | meaning |
|---|---|---|
| `FLAGKIT_SOURCE` | (required) | a path, `appconfig://APP/ENV/PROFILE`, `agent://APP/ENV/PROFILE` |
| `FLAGKIT_POLL_INTERVAL` | file 5, appconfig 60, agent 15 | seconds between refreshes |
| `FLAGKIT_BACKUP_PATH` | none | each good AppConfig document is saved here, read when down |
| `FLAGKIT_FALLBACK` | none | a document used when neither source nor backup can be read |
| `FLAGKIT_AGENT_URL` | `http://localhost:2772` | the AppConfig Agent, for `agent://` sources |
| `FLAGKIT_API_KEYS` | none | comma-separated API keys |
| `FLAGKIT_API_KEYS_FILE` | none | a file with one API key per line (`#` comments) |
| `FLAGKIT_ALLOW_UNAUTHENTICATED` | `0` | `1` answers non-loopback clients even with no API keys |
| `FLAGKIT_MAX_DOCUMENT_BYTES` | 4194304 (4 MiB) | a larger flag document is rejected |
| `FLAGKIT_MAX_BODY_BYTES` | 65536 | larger request bodies get 413 |
| `FLAGKIT_MAX_CONTEXT_ATTRIBUTES` | 64 | more context keys get 400 |
| `FLAGKIT_MAX_CONTEXT_STRING` | 1024 | a longer context key or string value gets 400 |
| `FLAGKIT_CORS_ORIGINS` | none | comma-separated origins browsers may call from (`*` for any) |
| `FLAGKIT_MAX_HEADER_BYTES` | 32768 (32 KiB) | a longer request line + headers gets 431 |
| `FLAGKIT_REQUEST_TIMEOUT` | 10 | seconds a request may take to arrive whole; then 408 |
| `FLAGKIT_MAX_CONNECTIONS` | 1000 | beyond it, requests get 503 (`/healthz`, `/readyz` excepted) |
| `FLAGKIT_METRICS_OPEN` | `0` | `1` serves `/metrics` without an API key (it names every flag) |
| `FLAGKIT_OVERRIDES` | none | an overrides document as JSON, answers forced over every document |
| `FLAGKIT_OVERRIDES_FILE` | none | an overrides file (`--overrides`), re-read when it changes |
| `FLAGKIT_UI` | `0` | `1` serves the web UI under `/ui` (docs/ui.md), behind the same API keys |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from flagkit.document import DEFAULT_MAX_DOCUMENT_BYTES
from flagkit.errors import ConfigurationError
from flagkit.overrides import Overrides, OverridesError, OverridesSpec, parse_overrides
from flagkit.sources.agent import DEFAULT_AGENT_URL

__all__ = ["OVERRIDES_VARIABLE", "Settings"]

OVERRIDES_VARIABLE = "FLAGKIT_OVERRIDES"
"""The environment variable that holds an overrides document as JSON (docs/overrides.md)."""

N = TypeVar("N", int, float)

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service can be told; `Settings.from_env()` reads the environment.

    `api_keys` is never printed: `repr()` shows only how many there are.
    """

    source: str | None = None
    poll_interval: float | None = None
    backup_path: str | None = None
    fallback: str | None = None
    agent_url: str = DEFAULT_AGENT_URL
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
    api_keys: frozenset[str] = frozenset()
    allow_unauthenticated: bool = False
    max_body_bytes: int = 64 * 1024
    max_context_attributes: int = 64
    max_context_string: int = 1024
    cors_origins: tuple[str, ...] = ()
    max_header_bytes: int = 32 * 1024
    request_timeout: float = 10.0
    max_connections: int = 1000
    metrics_open: bool = False
    overrides_file: str | None = None
    overrides_json: str | None = None
    """FLAGKIT_OVERRIDES: checked when the settings are made, so a bad one stops the start."""
    ui: bool = False

    def __post_init__(self) -> None:
        if self.overrides_file is not None and self.overrides_json is not None:
            raise ConfigurationError(
                f"give overrides in {OVERRIDES_VARIABLE} or in a file (--overrides, "
                f"{OVERRIDES_VARIABLE}_FILE), not both"
            )
        self.overrides()  # A bad FLAGKIT_OVERRIDES is a ConfigurationError now.
        if self.poll_interval is not None and self.poll_interval <= 0:
            raise ConfigurationError(
                f"FLAGKIT_POLL_INTERVAL must be positive, got {self.poll_interval}"
            )
        for name in (
            "max_document_bytes",
            "max_body_bytes",
            "max_context_attributes",
            "max_context_string",
            "max_header_bytes",
            "max_connections",
        ):
            if getattr(self, name) < 1:
                raise ConfigurationError(
                    f"FLAGKIT_{name.upper()} must be at least 1, got {getattr(self, name)}"
                )
        if self.request_timeout <= 0:
            raise ConfigurationError(
                f"FLAGKIT_REQUEST_TIMEOUT must be positive, got {self.request_timeout}"
            )

    def overrides(self) -> OverridesSpec | None:
        """What `Flags(overrides=...)` gets: the file path, parsed FLAGKIT_OVERRIDES, or None."""
        if self.overrides_json is None:
            return self.overrides_file
        return _parsed_overrides(self.overrides_json)

    def __repr__(self) -> str:
        return (
            f"Settings(source={self.source!r}, api_keys=<{len(self.api_keys)} keys>, "
            f"allow_unauthenticated={self.allow_unauthenticated}, "
            f"max_body_bytes={self.max_body_bytes})"
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from `environ` (default `os.environ`); bad values raise ConfigurationError."""
        env = os.environ if environ is None else environ
        poll = env.get("FLAGKIT_POLL_INTERVAL")
        return cls(
            source=env.get("FLAGKIT_SOURCE") or None,
            poll_interval=None if not poll else _number(env, "FLAGKIT_POLL_INTERVAL", float),
            backup_path=env.get("FLAGKIT_BACKUP_PATH") or None,
            fallback=env.get("FLAGKIT_FALLBACK") or None,
            agent_url=env.get("FLAGKIT_AGENT_URL") or DEFAULT_AGENT_URL,
            max_document_bytes=_number(
                env, "FLAGKIT_MAX_DOCUMENT_BYTES", int, DEFAULT_MAX_DOCUMENT_BYTES
            ),
            api_keys=_api_keys(env),
            allow_unauthenticated=_flag(env, "FLAGKIT_ALLOW_UNAUTHENTICATED"),
            max_body_bytes=_number(env, "FLAGKIT_MAX_BODY_BYTES", int, 64 * 1024),
            max_context_attributes=_number(env, "FLAGKIT_MAX_CONTEXT_ATTRIBUTES", int, 64),
            max_context_string=_number(env, "FLAGKIT_MAX_CONTEXT_STRING", int, 1024),
            cors_origins=tuple(
                origin.strip()
                for origin in env.get("FLAGKIT_CORS_ORIGINS", "").split(",")
                if origin.strip()
            ),
            max_header_bytes=_number(env, "FLAGKIT_MAX_HEADER_BYTES", int, 32 * 1024),
            request_timeout=_number(env, "FLAGKIT_REQUEST_TIMEOUT", float, 10.0),
            max_connections=_number(env, "FLAGKIT_MAX_CONNECTIONS", int, 1000),
            metrics_open=_flag(env, "FLAGKIT_METRICS_OPEN"),
            overrides_file=env.get("FLAGKIT_OVERRIDES_FILE") or None,
            overrides_json=env.get(OVERRIDES_VARIABLE) or None,
            ui=_flag(env, "FLAGKIT_UI"),
        )


def _parsed_overrides(text: str) -> Overrides:
    try:
        return parse_overrides(text, f"env:{OVERRIDES_VARIABLE}")
    except OverridesError as exc:
        raise ConfigurationError(str(exc)) from None


def _api_keys(env: Mapping[str, str]) -> frozenset[str]:
    keys = {key.strip() for key in env.get("FLAGKIT_API_KEYS", "").split(",")}
    path = env.get("FLAGKIT_API_KEYS_FILE")
    if path:
        try:
            with open(path, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except OSError as exc:
            raise ConfigurationError(
                f"FLAGKIT_API_KEYS_FILE {path!r} cannot be read: {exc.strerror}"
            ) from exc
        keys.update(line.strip() for line in lines if not line.lstrip().startswith("#"))
    keys.discard("")
    return frozenset(keys)


def _flag(env: Mapping[str, str], name: str) -> bool:
    text = env.get(name, "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be 1 or 0, got {env[name]!r}")


def _number(env: Mapping[str, str], name: str, kind: type[N], default: N | None = None) -> N:
    text = env.get(name, "").strip()
    if not text:
        assert default is not None
        return default
    try:
        return kind(text)
    except ValueError:
        raise ConfigurationError(
            f"{name} must be {'an integer' if kind is int else 'a number'}, got {text!r}"
        ) from None
