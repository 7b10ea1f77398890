"""Flag documents from the AWS AppConfig Data API, through boto3's `appconfigdata` client.

One configuration session per source; each `GetLatestConfiguration` uses the
single-use token the previous call returned. An empty body means "unchanged".
A token AppConfig calls `Expired` or `Corrupted` starts a new session; a session
close to its 24-hour limit is renewed before its token can expire. Every other
failure becomes a `SourceError` that says whether trying again may help, so the
refresher (not this class) decides when to retry: the client this source makes
for itself sends each request once (no botocore retries) and gives up on it after
`timeout` seconds. boto3 is imported only here, and only when a client is first
needed.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from flagkit.document import DEFAULT_MAX_DOCUMENT_BYTES
from flagkit.errors import (
    ConfigurationError,
    DocumentError,
    Problem,
    SchemaValidationError,
    SourceError,
)
from flagkit.schema import ROOT
from flagkit.sources.snapshot import Snapshot, content_version
from flagkit.yaml_document import YAML_MEDIA_TYPES, yaml_as_json

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_POLL_INTERVAL",
    "MIN_POLL_INTERVAL",
    "SESSION_MAX_AGE",
    "AppConfigSource",
    "document_bytes",
]

MIN_POLL_INTERVAL = 15
"""AppConfig's lowest `RequiredMinimumPollIntervalInSeconds`."""

MAX_POLL_INTERVAL = 86400
"""AppConfig's highest `RequiredMinimumPollIntervalInSeconds`."""

SESSION_MAX_AGE = 23 * 3600
"""Renew a session after this many seconds: its tokens expire at 24 hours."""

DEFAULT_TIMEOUT = 10.0
"""Seconds a request of the source's own client may go unanswered before it gives up."""

_CONNECT_TIMEOUT = 5.0

_TOKEN_PROBLEMS = frozenset({"Expired", "Corrupted"})
_NOT_RETRYABLE = frozenset(
    {
        "ResourceNotFoundException",
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ValidationException",
        "ExpiredTokenException",
    }
)


class AppConfigSource:
    """A document deployed to one AppConfig application, environment and configuration profile.

    `client` is any `appconfigdata` client (one with an `endpoint_url`, a stubbed
    one); otherwise one is made from `session` (a `boto3.Session`) or boto3's
    default session. `poll_interval` is sent as the session's required minimum.
    `max_bytes` is the largest document accepted (`Flags` checks what it loads against it).

    The client made here tries each request once and waits at most `timeout`
    seconds for its answer (5 s at most to connect); `fetch(timeout=T)` holds a
    whole fetch to about `T` seconds by giving its requests shorter timeouts. A
    `client` passed in keeps its own timeouts and retries, which flagkit cannot
    change: with one, `fetch(timeout=T)` only stops starting requests after `T`
    seconds, and a request that hangs takes as long as that client lets it.
    """

    def __init__(
        self,
        application: str,
        environment: str,
        profile: str,
        *,
        poll_interval: float = 60,
        client: Any = None,
        session: Any = None,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
    ) -> None:
        if not MIN_POLL_INTERVAL <= poll_interval <= MAX_POLL_INTERVAL:
            raise ConfigurationError(
                f"poll_interval must be from {MIN_POLL_INTERVAL} to {MAX_POLL_INTERVAL} seconds "
                f"(AppConfig's limits), got {poll_interval}"
            )
        if not timeout > 0:
            raise ConfigurationError(f"timeout must be positive, got {timeout}")
        self.application, self.environment, self.profile = application, environment, profile
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.max_bytes = max_bytes
        """The largest document accepted, in bytes (YAML: before and after conversion)."""
        self.next_poll_interval: float = poll_interval
        """How long AppConfig last asked us to wait before polling again."""
        self._client = client
        self._owns_client = client is None  # A caller's client is the caller's to replace.
        self._session = session
        self._boto3_session: Any = session
        self._clock = clock
        self._token: str | None = None
        self._session_started = 0.0
        self._lock = threading.Lock()  # Tokens are single-use: one call at a time.

    @property
    def description(self) -> str:
        return f"appconfig://{self.application}/{self.environment}/{self.profile}"

    def fetch(self, *, timeout: float | None = None) -> Snapshot | None:
        """The deployed document, or None when AppConfig says this session already has it.

        `timeout` (seconds) bounds this whole fetch: every request it makes, a new
        session included; without it each request is bounded by `self.timeout`.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            if self._token is None or self._clock() - self._session_started > SESSION_MAX_AGE:
                self._start_session(deadline)
            try:
                response, body = self._get_latest(deadline)
            except _TokenRejected:
                self._start_session(deadline)
                try:
                    response, body = self._get_latest(deadline)
                except _TokenRejected as exc:
                    raise SourceError(
                        f"{self.description}: AppConfig rejected the token of a new session "
                        f"({exc})",
                        retryable=True,
                    ) from None
            self._token = response["NextPollConfigurationToken"]
            self.next_poll_interval = response.get("NextPollIntervalInSeconds", self.poll_interval)
        if not body:
            return None
        content_type = response.get("ContentType") or "application/json"
        content = document_bytes(body, content_type, self.description, max_bytes=self.max_bytes)
        return Snapshot(content, response.get("VersionLabel") or content_version(content))

    def close(self) -> None:
        """Close the boto3 client flagkit made (its connection pool); a caller's is left open.

        Does not wait for a fetch in flight: that one fails or ends, and `Flags` drops it.
        """
        if self._owns_client:
            client, self._client = self._client, None
            if client is not None:
                client.close()

    def reset_after_fork(self) -> None:
        """In a forked child: a new lock, client and session; nothing shared with the parent."""
        self._lock = threading.Lock()
        self._token = None
        if self._owns_client:
            self._client = None
            self._boto3_session = self._session

    # -- calls ------------------------------------------------------------------------------

    def _start_session(self, deadline: float | None) -> None:
        self._token = None
        try:
            with self._client_for(deadline, "StartConfigurationSession") as client:
                response = client.start_configuration_session(
                    ApplicationIdentifier=self.application,
                    EnvironmentIdentifier=self.environment,
                    ConfigurationProfileIdentifier=self.profile,
                    RequiredMinimumPollIntervalInSeconds=int(self.poll_interval),
                )
        except SourceError:
            raise
        except Exception as exc:
            raise self._source_error(exc, "StartConfigurationSession") from exc
        self._token = response["InitialConfigurationToken"]
        self._session_started = self._clock()

    def _get_latest(self, deadline: float | None) -> tuple[Any, bytes]:
        """GetLatestConfiguration's response and its body (read here, even when empty: that
        frees the connection, and a body that times out is a failed call like any other)."""
        try:
            with self._client_for(deadline, "GetLatestConfiguration") as client:
                response = client.get_latest_configuration(ConfigurationToken=self._token)
                try:
                    body: bytes = response["Configuration"].read()
                except Exception:
                    # AppConfig has used the token and may count the version as delivered:
                    # only a new session is sure to deliver it again.
                    self._token = None
                    raise
            return response, body
        except SourceError:
            raise
        except Exception as exc:
            problem = _token_problem(exc)
            if problem in _TOKEN_PROBLEMS:
                raise _TokenRejected(problem) from exc
            if problem == "PollIntervalNotSatisfied":
                raise SourceError(
                    f"{self.description}: AppConfig asks to wait {self.next_poll_interval:g} s "
                    "between polls (PollIntervalNotSatisfied)",
                    retryable=True,
                    retry_after=self.next_poll_interval,
                ) from exc
            raise self._source_error(exc, "GetLatestConfiguration") from exc

    @contextlib.contextmanager
    def _client_for(self, deadline: float | None, operation: str) -> Iterator[Any]:
        """The client for one request that must be answered by `deadline` (monotonic).

        The source's own client serves when it gives up soon enough; otherwise a
        client that waits only the time left is made for this one request. A
        caller's client cannot be shortened: it is used while there is time left.
        """
        if deadline is None:
            yield self._data_client()
            return
        left = deadline - time.monotonic()
        if left <= 0:
            raise SourceError(
                f"{self.description}: {operation} not sent: the time allowed for this fetch "
                "ran out",
                retryable=True,
            )
        if not self._owns_client or left >= self.timeout:
            yield self._data_client()
            return
        client = self._new_client(connect_timeout=min(_CONNECT_TIMEOUT, left), read_timeout=left)
        try:
            yield client
        finally:
            client.close()

    def _data_client(self) -> Any:
        if self._client is None:
            self._client = self._new_client(
                connect_timeout=min(_CONNECT_TIMEOUT, self.timeout), read_timeout=self.timeout
            )
        return self._client

    def _new_client(self, *, connect_timeout: float, read_timeout: float) -> Any:
        """An `appconfigdata` client that sends each request once: flagkit's refresher
        retries with its own backoff, and two attempts would double a throttled poll."""
        import boto3  # Imported on first use: `import flagkit` never loads boto3.
        from botocore.config import Config

        from flagkit.aws_region import client_region

        if self._boto3_session is None:
            self._boto3_session = boto3.session.Session()
        config = Config(
            retries={"mode": "standard", "total_max_attempts": 1},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )
        region = client_region(session=self._session)  # AWS_REGION too (Lambda, ECS)
        return self._boto3_session.client("appconfigdata", config=config, region_name=region)

    def _source_error(self, exc: Exception, operation: str) -> SourceError:
        """A SourceError naming the resource, the AWS error code and whether to retry."""
        code = _error_code(exc)
        if code is None:  # Not an AWS answer: a connection refused or dropped, a timeout.
            # botocore names the URL, with the session's token in it: never log a token.
            detail = _TOKEN_IN_URL.sub(r"\1<token>", str(exc))
            return SourceError(
                f"{self.description}: {operation} failed: {type(exc).__name__}: {detail}",
                retryable=True,
            )
        message = _error_message(exc)
        return SourceError(
            f"{self.description}: {operation} failed: {code}: {message} (application "
            f"{self.application!r}, environment {self.environment!r}, profile {self.profile!r})",
            retryable=code not in _NOT_RETRYABLE and not code.startswith("AccessDenied"),
        )


_TOKEN_IN_URL = re.compile(r"([?&]configuration_token=)[^&\s\"']+")
"""A configuration token in a request URL, which botocore's connection errors quote."""


class _TokenRejected(Exception):
    """AppConfig refused the session's token (`Expired`, `Corrupted`): start a new session."""


def document_bytes(
    body: bytes, content_type: str, where: str, *, max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
) -> bytes:
    """A flag document as JSON bytes, from a body of the given media type.

    JSON passes through; YAML is converted when PyYAML is installed, refusing what a
    flag document may not hold (`flagkit.yaml_document`); anything else is refused with
    a message naming the type.
    """
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/json" or media_type.endswith("+json"):
        return body
    if media_type in YAML_MEDIA_TYPES:
        try:
            return yaml_as_json(body, media_type, max_bytes=max_bytes)
        except DocumentError as exc:
            exc.source = where
            raise
    raise _unreadable(
        where,
        f"cannot read a flag document of type {content_type!r}; flagkit reads "
        "application/json (and application/x-yaml with PyYAML)",
    )


def _unreadable(where: str, message: str) -> SchemaValidationError:
    """A deployed document flagkit cannot read: a document error, reported until replaced."""
    return SchemaValidationError([Problem(ROOT, message)], source=where)


def _error_response(exc: Exception) -> dict[str, Any]:
    response = getattr(exc, "response", None)
    return response if isinstance(response, dict) else {}


def _error_code(exc: Exception) -> str | None:
    code = _error_response(exc).get("Error", {}).get("Code")
    return str(code) if code else None


def _error_message(exc: Exception) -> str:
    return str(_error_response(exc).get("Error", {}).get("Message") or exc)


def _token_problem(exc: Exception) -> str | None:
    """The `Details.InvalidParameters.ConfigurationToken.Problem` of a BadRequestException."""
    if _error_code(exc) != "BadRequestException":
        return None
    details = _error_response(exc).get("Details", {}) or {}
    problem = details.get("InvalidParameters", {}).get("ConfigurationToken", {}).get("Problem")
    return str(problem) if problem else None
