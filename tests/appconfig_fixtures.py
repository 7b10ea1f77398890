"""Shared pieces for the tests that run `Flags` against the loopback AppConfig endpoint.

Imported explicitly by tests/test_appconfig_source.py, tests/test_agent_source.py and
tests/test_refresh_modes.py (not a conftest, so nothing here applies to other test files).
Everything goes over real HTTP on 127.0.0.1: real boto3 clients for the Data API,
flagkit's own urllib code for the Agent path.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config

from flagkit import Flags
from flagkit.schedulers import Backoff
from tests.appconfig_endpoint import AppConfigEndpoint
from tests.helpers import ChangeWaiter, flagkit_warnings, wait_until

if TYPE_CHECKING:
    from mypy_boto3_appconfigdata import AppConfigDataClient

__all__ = [
    "APP",
    "ENV",
    "PROFILE",
    "V1",
    "V2",
    "V3",
    "ChangeWaiter",
    "Harness",
    "backoff_floor",
    "fast_endpoint",
    "flagkit_warnings",
    "free_port",
    "isolate_aws",
    "max_requests_within",
    "refresh_threads",
    "wait_until",
]

APP, ENV, PROFILE = "app", "prod", "flags"

# Three versions of one document, each answering differently for acme and others.
V1: dict[str, Any] = {
    "checkout": {"enabled": True, "tenants": ["acme"]},
    "search": {"enabled": False},
}
V2: dict[str, Any] = {"checkout": {"enabled": True}, "search": {"enabled": True}}
V3: dict[str, Any] = {"checkout": {"enabled": False}, "search": {"enabled": True}}

# AppConfig's minimum for RequiredMinimumPollIntervalInSeconds; what these tests ask for.
SESSION_MINIMUM = 15


def fast_endpoint(**options: Any) -> AppConfigEndpoint:
    """An endpoint that advertises a 1-second poll interval to flagkit's 15-second sessions."""
    options.setdefault("poll_interval", 1)
    options.setdefault("honour_required_minimum", False)
    return AppConfigEndpoint(**options)


def isolate_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """No credentials, config files, IMDS, endpoint overrides or proxies from this machine."""
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_APPCONFIGDATA",
        "AWS_RETRY_MODE",
        "AWS_MAX_ATTEMPTS",
    ):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("all_proxy", raising=False)


def free_port() -> int:
    """A loopback port nothing listens on (now): for "down" endpoints and late starters."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Harness:
    """Builds boto3 clients and `Flags` for one test and closes all of them afterwards.

    Flags are closed before clients, and both before the endpoint fixture closes the
    endpoint (pytest tears the harness down first because it depends on the endpoint).
    """

    def __init__(
        self,
        endpoint: AppConfigEndpoint | None = None,
        monkeypatch: pytest.MonkeyPatch | None = None,
    ) -> None:
        self.endpoint = endpoint
        self._monkeypatch = monkeypatch
        self._session: boto3.session.Session | None = None
        self._clients: list[AppConfigDataClient] = []
        self._flags: list[Flags] = []

    def client(self, url: str | None = None, **config: Any) -> AppConfigDataClient:
        """A real boto3 `appconfigdata` client for `url` (default: the endpoint); one try a call."""
        if url is None:
            assert self.endpoint is not None
            url = self.endpoint.url
        config.setdefault("retries", {"total_max_attempts": 1, "mode": "standard"})
        config.setdefault("connect_timeout", 5)
        config.setdefault("read_timeout", 10)
        client = boto3.client(
            "appconfigdata",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",  # noqa: S106 - dummy; the endpoint checks no SigV4
            config=Config(**config),
        )
        self._clients.append(client)
        return client

    def session(self, url: str | None = None) -> boto3.session.Session:
        """A boto3 session (dummy keys, a region) whose `appconfigdata` clients go to `url`.

        For `Flags.from_appconfig(session=...)`: flagkit then makes the client itself, with
        its own retry and timeout settings. The endpoint is set the way AWS's SDKs read it,
        `AWS_ENDPOINT_URL_APPCONFIGDATA`, for the rest of the test. One session per test, so
        botocore loads the service model once (its first client takes ~0.1 s, the next ~3 ms).
        """
        if url is None:
            assert self.endpoint is not None
            url = self.endpoint.url
        assert self._monkeypatch is not None, "made by harness_for, which has the monkeypatch"
        self._monkeypatch.setenv("AWS_ENDPOINT_URL_APPCONFIGDATA", url)
        if self._session is None:
            self._session = boto3.session.Session(
                aws_access_key_id="test",
                aws_secret_access_key="test",  # noqa: S106 - dummy; the endpoint checks no SigV4
                region_name="us-east-1",
            )
        return self._session

    def appconfig(
        self,
        application: str = APP,
        environment: str = ENV,
        profile: str = PROFILE,
        *,
        url: str | None = None,
        client: AppConfigDataClient | None = None,
        own_client: bool = False,
        **options: Any,
    ) -> Flags:
        """`Flags.from_appconfig` through a fresh client (manual refresh unless told otherwise).

        `own_client=True` passes no client but a `session` for `url`: flagkit makes its own.
        """
        options.setdefault("poll_interval", SESSION_MINIMUM)
        options.setdefault("refresh_mode", "manual")
        if own_client:
            options["session"] = self.session(url)
        elif client is None:
            client = self.client(url)
        flags = Flags.from_appconfig(application, environment, profile, client=client, **options)
        return self.track(flags)

    def agent(
        self,
        application: str = APP,
        environment: str = ENV,
        profile: str = PROFILE,
        *,
        base_url: str | None = None,
        **options: Any,
    ) -> Flags:
        """`Flags.from_agent` against the endpoint's Agent path (manual refresh unless told)."""
        if base_url is None:
            assert self.endpoint is not None
            base_url = self.endpoint.url
        options.setdefault("refresh_mode", "manual")
        options.setdefault("startup_timeout", 0.0)
        flags = Flags.from_agent(application, environment, profile, base_url=base_url, **options)
        return self.track(flags)

    def track(self, flags: Flags) -> Flags:
        self._flags.append(flags)
        return flags

    def close(self) -> None:
        for flags in self._flags:
            flags.close()
        for client in self._clients:
            client.close()


@contextlib.contextmanager
def harness_for(
    endpoint: AppConfigEndpoint | None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Harness]:
    isolate_aws(monkeypatch)
    made = Harness(endpoint, monkeypatch)
    try:
        yield made
    finally:
        made.close()


def refresh_threads() -> list[threading.Thread]:
    """flagkit's refresh threads alive in this process."""
    return [
        thread
        for thread in threading.enumerate()
        if thread.name.startswith("flagkit-refresh") and thread.is_alive()
    ]


# -- what Backoff promises ----------------------------------------------------------------------


def backoff_floor(backoff: Backoff, failures: int) -> float:
    """The shortest delay `backoff` can draw before retry number `failures` (its jitter's floor).

    `Backoff.delay` draws from [ceiling/2, ceiling] with ceiling = min(cap, base * 2**(n-1)).
    """
    return min(backoff.cap, backoff.base * 2.0 ** max(failures - 1, 0)) / 2


def max_requests_within(window: float, backoff: Backoff) -> int:
    """The most requests a client that backs off with `backoff` can send in `window` seconds
    of failures, counting the first failed one: 1 + the largest k whose k shortest delays
    fit in the window."""
    requests, elapsed, failures = 1, 0.0, 1
    while elapsed + backoff_floor(backoff, failures) <= window:
        elapsed += backoff_floor(backoff, failures)
        requests += 1
        failures += 1
    return requests
