"""From a source (`flags.json`, `appconfig://A/E/P`, `agent://A/E/P`) to a refreshing `Flags`."""

from __future__ import annotations

from flagkit.client import Flags
from flagkit.errors import ConfigurationError
from flagkit.sources.agent import AgentSource
from flagkit.sources.appconfig import AppConfigSource
from flagkit.sources.base import Source
from flagkit.sources.file import FileSource
from service.settings import Settings

__all__ = ["DEFAULT_POLL_INTERVALS", "open_flags", "source_kind"]

DEFAULT_POLL_INTERVALS = {"file": 5.0, "appconfig": 60.0, "agent": 15.0}
"""Seconds between refreshes when FLAGKIT_POLL_INTERVAL is not set."""

_SCHEMES = ("appconfig://", "agent://")


def source_kind(source: str) -> tuple[str, tuple[str, ...]]:
    """(`file` | `appconfig` | `agent`, its parts): `("appconfig", (app, env, profile))`.

    A ConfigurationError says what a well-formed source looks like.
    """
    for scheme in _SCHEMES:
        if source.startswith(scheme):
            parts = tuple(source[len(scheme) :].split("/"))
            if len(parts) != 3 or not all(parts):
                raise ConfigurationError(
                    f"source {source!r} must look like {scheme}APPLICATION/ENVIRONMENT/PROFILE"
                )
            return scheme[: -len("://")], parts
    if "://" in source:
        raise ConfigurationError(
            f"source {source!r} is not a file path, appconfig://APPLICATION/ENVIRONMENT/PROFILE "
            "or agent://APPLICATION/ENVIRONMENT/PROFILE"
        )
    return "file", (source,)


def open_flags(settings: Settings) -> Flags:
    """A `Flags` on `settings.source`, refreshed by its own background thread.

    A file is re-read every poll interval (5 s unless set), so editing it needs no
    restart; AppConfig sources use the backup and fallback settings. Overrides
    (FLAGKIT_OVERRIDES, or a file re-read at each poll) are layered over any source. Each call makes
    one attempt (no start-up retries): `service.state.FlagsLoader` does the retrying.
    """
    if settings.source is None:
        raise ConfigurationError(
            "FLAGKIT_SOURCE is not set: give a flag document's path, "
            "appconfig://APPLICATION/ENVIRONMENT/PROFILE or agent://APPLICATION/ENVIRONMENT/PROFILE"
        )
    kind, parts = source_kind(settings.source)
    interval = settings.poll_interval or DEFAULT_POLL_INTERVALS[kind]
    limit = settings.max_document_bytes
    if kind == "file":
        return Flags(
            FileSource(parts[0], max_bytes=limit),
            refresh_mode="thread",
            poll_interval=interval,
            overrides=settings.overrides(),
        )
    application, environment, profile = parts
    # The sources are made here, not by Flags.from_appconfig/from_agent, to give them the
    # document size limit; start-up is one attempt (FlagsLoader retries, reporting each
    # failure in /readyz), as those constructors would have it.
    source: Source
    if kind == "appconfig":
        source = AppConfigSource(
            application, environment, profile, poll_interval=interval, max_bytes=limit
        )
    else:
        source = AgentSource(
            application, environment, profile, base_url=settings.agent_url, max_bytes=limit
        )
    return Flags(
        source,
        refresh_mode="thread",
        poll_interval=interval,
        backup_path=settings.backup_path,
        fallback=settings.fallback,
        overrides=settings.overrides(),
    )
