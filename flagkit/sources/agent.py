"""Flag documents from the AWS AppConfig Agent (the sidecar or Lambda extension) over HTTP.

`GET {base_url}/applications/{app}/environments/{env}/configurations/{profile}`,
with `Authorization: Bearer TOKEN` when the agent was given an access token. The
agent does its own polling of AppConfig; this source only reads what it holds.
Standard library only.
"""

from __future__ import annotations

import urllib.parse

from flagkit.document import DEFAULT_MAX_DOCUMENT_BYTES
from flagkit.errors import SourceError
from flagkit.sources.appconfig import document_bytes
from flagkit.sources.snapshot import Snapshot, content_version

__all__ = ["DEFAULT_AGENT_URL", "AgentSource"]

DEFAULT_AGENT_URL = "http://localhost:2772"
"""Where the AppConfig Agent listens by default."""


class AgentSource:
    """A document as the AppConfig Agent at `base_url` serves it.

    A connection that is refused, drops or times out is a retryable `SourceError`
    (the sidecar may simply not be up yet); a 404 or 401/403 is not. Each request
    gives up after `timeout` seconds without an answer. `max_bytes` is the largest
    document accepted (`Flags` checks what it loads against it).
    """

    def __init__(
        self,
        application: str,
        environment: str,
        profile: str,
        *,
        base_url: str = DEFAULT_AGENT_URL,
        token: str | None = None,
        timeout: float = 5.0,
        max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
    ) -> None:
        self.application, self.environment, self.profile = application, environment, profile
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_bytes = max_bytes
        """The largest document accepted, in bytes (YAML: before and after conversion)."""
        self._headers = {"Accept": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"

    @property
    def description(self) -> str:
        return f"agent://{self.application}/{self.environment}/{self.profile}"

    @property
    def url(self) -> str:
        quote = urllib.parse.quote
        return (
            f"{self.base_url}/applications/{quote(self.application, safe='')}"
            f"/environments/{quote(self.environment, safe='')}"
            f"/configurations/{quote(self.profile, safe='')}"
        )

    def fetch(self, *, timeout: float | None = None) -> Snapshot:
        """The document the agent holds; `timeout` (seconds) shortens this one request."""
        if timeout is not None and timeout <= 0:
            raise SourceError(
                f"{self.description}: no time left to ask the AppConfig Agent at {self.base_url}",
                retryable=True,
            )
        # urllib.request loads http.client, ssl and email (about 15 ms): only agent users pay.
        import http.client
        import urllib.error
        import urllib.request

        wait = self.timeout if timeout is None else min(self.timeout, timeout)
        request = urllib.request.Request(self.url, headers=self._headers)  # noqa: S310 - the agent's own http URL
        try:
            with urllib.request.urlopen(request, timeout=wait) as response:  # noqa: S310
                body = response.read()
                content_type = response.headers.get("Content-Type") or "application/json"
                version = response.headers.get("Configuration-Version")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace").strip()[:200]
            exc.close()
            raise SourceError(
                f"{self.description}: the AppConfig Agent at {self.base_url} answered "
                f"{exc.code} {exc.reason}" + (f": {detail}" if detail else ""),
                retryable=exc.code >= 500 or exc.code == 429,
            ) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            raise SourceError(
                f"{self.description}: cannot reach the AppConfig Agent at {self.base_url}: "
                f"{reason}",
                retryable=True,
            ) from None
        content = document_bytes(body, content_type, self.description, max_bytes=self.max_bytes)
        return Snapshot(content, version or content_version(content))
