"""`LocalAppConfig`: AWS AppConfig on loopback, served from a thread.

```
with LocalAppConfig(port=2772, poll_interval=1) as local:
    local.deploy("shop", "prod", "flags", {"payments": {"enabled": True}})
    client = boto3.client("appconfigdata", endpoint_url=local.url, ...)
```

One port serves the Data API, the AppConfig Agent's HTTP API and the control-plane calls
`flagkit push`, `pull` and `rollback` make, all over one `Store`: a push is what the
polling clients get next, deployment by deployment, as fast as its strategy says
(`minute` seconds per strategy minute). Standard library only, boto3 never imported.

Knobs (plain attributes, changeable at any time): `poll_interval`, `token_ttl`,
`enforce_poll_interval`, `strict_tokens`, `honour_required_minimum`, `agent_token`
(see `DataPlaneSettings`) and `verbose` (log every request to stderr). Time: the clock is
`clock()` plus whatever `advance` added. Faults (`fail_next`, `set_fault`, ...: see
`flagkit.local_appconfig.faults`) and the request log (`requests`, `counts`,
`wait_for_requests`) cover the Data API and the Agent path; `control.requests` logs the
control plane.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, Self, TypeVar
from urllib.parse import quote

from flagkit.local_appconfig.agent_api import AgentApi
from flagkit.local_appconfig.control_api import ControlApi
from flagkit.local_appconfig.data_api import DEFAULT_TOKEN_TTL, DataApi, DataPlaneSettings
from flagkit.local_appconfig.deployments import IMMEDIATE
from flagkit.local_appconfig.faults import FaultKind, Faults, Operation, RequestLog, RequestRecord
from flagkit.local_appconfig.server import Apis, LoopbackServer
from flagkit.local_appconfig.store import Store

__all__ = ["LocalAppConfig"]

_T = TypeVar("_T")
_AN_INSTANT = 1e-6


class _Setting(Generic[_T]):
    """An attribute of the endpoint that is a field of its `DataPlaneSettings`."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, endpoint: LocalAppConfig, owner: type | None = None) -> _T:
        value: _T = getattr(endpoint.settings, self._name)
        return value

    def __set__(self, endpoint: LocalAppConfig, value: _T) -> None:
        setattr(endpoint.settings, self._name, value)


class LocalAppConfig:
    """AppConfig's Data API, Agent API and control plane on a loopback port."""

    poll_interval = _Setting[int]()
    token_ttl = _Setting[float]()
    enforce_poll_interval = _Setting[bool]()
    strict_tokens = _Setting[bool]()
    honour_required_minimum = _Setting[bool]()
    agent_token = _Setting["str | None"]()

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        poll_interval: int = 60,
        token_ttl: float = DEFAULT_TOKEN_TTL,
        enforce_poll_interval: bool = False,
        strict_tokens: bool = True,
        agent_token: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        minute: float = 60.0,
        verbose: bool = False,
        honour_required_minimum: bool = True,
    ) -> None:
        """Bind `host` (a loopback address, else `NotLoopbackError`) and `port` (0: a free
        one) and start serving. `honour_required_minimum=False` lets a client that asks for
        AppConfig's 15-second minimum be told to poll every `poll_interval` seconds."""
        self.settings = DataPlaneSettings(
            poll_interval,
            token_ttl,
            enforce_poll_interval,
            strict_tokens,
            honour_required_minimum,
            agent_token,
        )
        self.store = Store(clock=clock, minute=minute)
        self.control = ControlApi(self.store)
        self._data = DataApi(self.store, self.settings)
        self._faults = Faults()
        self._log = RequestLog()
        apis = Apis(
            self.store,
            self._data,
            AgentApi(self.store, self.settings),
            self.control,
            self._faults,
            self._log,
        )
        self._server = LoopbackServer(host, port, apis)
        self._server.verbose = verbose
        self._closed = False
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"local-appconfig-{self.port}",
            daemon=True,
        )
        self._thread.start()

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The endpoint URL for boto3 (`endpoint_url=`) and `--endpoint-url`."""
        host = str(self._server.server_address[0])
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    @property
    def verbose(self) -> bool:
        """Whether every request is logged to stderr."""
        return self._server.verbose

    @verbose.setter
    def verbose(self, value: bool) -> None:
        self._server.verbose = value

    def agent_url(self, application: str, environment: str, profile: str) -> str:
        """The Agent's URL of a configuration (identifiers percent-encoded)."""
        app, env, prof = (quote(name, safe="") for name in (application, environment, profile))
        return f"{self.url}/applications/{app}/environments/{env}/configurations/{prof}"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving, cut open connections, join every thread, close the socket."""
        if self._closed:
            return
        self._closed = True
        self._faults.close()  # ends the waits of "delay" and "hold" faults
        self._server.shutdown()  # returns once serve_forever has stopped
        self._thread.join()
        self._server.close_connections()
        self._server.server_close()

    # -- publishing -----------------------------------------------------------------------------

    def create(
        self, application: str, environment: str | None = None, profile: str | None = None
    ) -> None:
        """Make an application (and an environment and profile in it) exist, deploying nothing."""
        self.store.ensure(application, environment, profile)

    def deploy(
        self,
        application: str,
        environment: str,
        profile: str,
        content: bytes | str | dict[str, Any],
        *,
        content_type: str = "application/json",
        version_label: str | None = None,
        send_version_label: bool = True,
        description: str | None = None,
    ) -> int:
        """Make a new hosted version of `profile` and deploy it to `environment` at once
        (strategy `flagkit-local-immediate`), creating what is missing; its number.

        Numbers count per profile from 1. `version_label` defaults to the number as text;
        `""` sends an empty `Version-Label` and `send_version_label=False` none at all.
        `AppConfigApiError` (409) while another deployment to `environment` is in progress.
        """
        if isinstance(content, dict):
            data = json.dumps(content).encode()
        else:
            data = content.encode() if isinstance(content, str) else bytes(content)
        with self.store.lock:
            app, env, prof = self.store.ensure(application, environment, profile)
            assert env is not None
            assert prof is not None
            self.store.refuse_while_in_progress(env)  # before a version is made for nothing
            number = prof.versions[-1].number + 1 if prof.versions else 1
            label = str(number) if version_label is None else version_label
            version = self.store.create_version(
                app.id,
                prof.id,
                data,
                content_type,
                description=description,
                label=label if send_version_label else None,
            )
            deployment = self.store.start_deployment(
                app.id, env.id, prof.id, str(version.number), IMMEDIATE.id, description=description
            )
            # Over already, even on a clock that stands still (a test's): StartDeployment's
            # own answer is DEPLOYING at the instant a deployment starts.
            deployment.started -= _AN_INSTANT
            return version.number

    def resource_ids(
        self, application: str, environment: str, profile: str
    ) -> tuple[str, str, str]:
        """The ids of an application, environment and profile (usable as identifiers)."""
        app, env, prof = self.store.resolve(application, environment, profile)
        return app.id, env.id, prof.id

    def issued_tokens(self) -> list[str]:
        """Every configuration token handed out, used or not."""
        return self._data.issued_tokens()

    # -- clock ----------------------------------------------------------------------------------

    def now(self) -> float:
        """The clock, in seconds."""
        return self.store.now()

    def advance(self, seconds: float) -> None:
        """Move the clock forward (tokens age, poll intervals pass, deployments progress)."""
        self.store.advance(seconds)

    # -- faults ---------------------------------------------------------------------------------

    def fail_next(
        self,
        kind: FaultKind,
        count: int = 1,
        *,
        operation: Operation | None = None,
        seconds: float = 1.0,
    ) -> None:
        """Make the next `count` requests (of `operation`, or of any) fail with `kind`."""
        self._faults.fail_next(kind, count, operation, seconds)

    def set_fault(
        self, kind: FaultKind, *, operation: Operation | None = None, seconds: float = 1.0
    ) -> None:
        """Make every request (of `operation`, or of any) fail with `kind` until cleared."""
        self._faults.set_fault(kind, operation, seconds)

    def clear_faults(self) -> None:
        """No more faults."""
        self._faults.clear()

    def wait_for_held(self, count: int = 1, timeout: float = 5.0) -> bool:
        """Block until `count` requests wait in a `hold` fault; False on timeout."""
        return self._faults.wait_for_held(count, timeout)

    def release(self) -> None:
        """Let every request waiting in a `hold` fault go on and be answered."""
        self._faults.release()

    # -- observation ----------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """A copy of the Data API and Agent request log, oldest first."""
        return self._log.requests

    @property
    def counts(self) -> dict[str, int]:
        """Requests answered (or dropped) so far, per operation."""
        return self._log.counts

    def count(self, operation: str) -> int:
        """Requests of `operation` answered (or dropped) so far."""
        return self._log.counts.get(operation, 0)

    def wait_for_requests(
        self, operation: str | None = None, count: int = 1, timeout: float = 5.0
    ) -> bool:
        """Block until `count` requests of `operation` (any, if None) were logged in all,
        since the start (not only new ones); False on timeout."""
        return self._log.wait_for(operation, count, timeout)
