"""The AppConfig Agent's HTTP API: the configuration at
`GET /applications/{app}/environments/{env}/configurations/{profile}`.

It answers with what is deployed now, its `Content-Type` and a `Configuration-Version`
header; with an `agent_token` set it wants `Authorization: Bearer <token>` (the agent's
`ACCESS_TOKEN`). Errors are plain-text bodies with the statuses the agent's OpenAPI
document lists (400, 404, 500, 502, 504).

GUESS: the version header is sent as `Configuration-Version: <version number>` (the
OpenAPI document names it `ConfigurationVersion`; hyphenated here like every other
AppConfig header); 401 is the status of a missing or wrong bearer token (undocumented).
The agent's `?flag=` filtering, caching, polling and prefetching are not modelled: it is
one client of the deployments (its position is drawn once), and reads what it gets now.
"""

from __future__ import annotations

import random
from typing import Final
from urllib.parse import unquote

from flagkit.local_appconfig.data_api import DataPlaneSettings
from flagkit.local_appconfig.responses import Response, agent_error
from flagkit.local_appconfig.store import AppConfigApiError, Store, retrieval_form

__all__ = ["AGENT_PREFIX", "AgentApi", "is_agent_path"]

AGENT_PREFIX: Final = "/applications/"


def is_agent_path(path: str) -> bool:
    """Whether `path` is the agent's configuration path (and not a control-plane one)."""
    parts = path[len(AGENT_PREFIX) :].split("/")
    return (
        path.startswith(AGENT_PREFIX)
        and len(parts) == 5
        and parts[1] == "environments"
        and parts[3] == "configurations"
    )


class AgentApi:
    """The Agent's configuration path over `store`."""

    def __init__(self, store: Store, settings: DataPlaneSettings) -> None:
        self._store = store
        self._settings = settings
        self._position = random.uniform(0, 100)  # noqa: S311 - not a secret

    def get(self, path: str, authorization: str | None) -> Response:
        """The configuration at `path` (any other path under /applications/: 404)."""
        token = self._settings.agent_token
        if token is not None and authorization != f"Bearer {token}":
            return agent_error(401, "Unauthorized")
        if not is_agent_path(path):
            return agent_error(404, "ResourceNotFoundException: no such path")
        parts = path[len(AGENT_PREFIX) :].split("/")
        application, environment, profile = (unquote(part) for part in parts[0::2])
        with self._store.lock:
            try:
                app, env, prof = self._store.resolve(application, environment, profile)
            except AppConfigApiError as error:
                return agent_error(404, f"ResourceNotFoundException: {error.message}")
            version = self._store.served(app, env, prof, self._position)
            if version is None:
                return agent_error(
                    404,
                    f"ResourceNotFoundException: {profile!r} is not deployed to {environment!r}",
                )
            content, content_type = retrieval_form(prof, version)
            headers = {"Content-Type": content_type, "Configuration-Version": str(version.number)}
            return Response(200, headers, content)
