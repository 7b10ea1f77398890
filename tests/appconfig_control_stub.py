"""The AWS AppConfig control-plane operations `flagkit push` uses, served in memory on loopback.

moto implements applications, configuration profiles and hosted configuration versions,
but not ListApplications, environments, ListHostedConfigurationVersions, deployment
strategies or deployments, nor CreateHostedConfigurationVersion's `LatestVersionNumber`
lock (moto 5.2: "The LatestVersionNumber-parameter is not yet implemented"); and a
console script in a subprocess cannot see an in-process mock anyway. So the CLI tests
point `flagkit push --endpoint-url` at this server. Standard library only.

Faithful to the service model botocore ships (``appconfig/2019-10-09``): the paths, the
query names (``max_results``, ``next_token``), the header members of the hosted
configuration version operations (``Application-Id``, ``Configuration-Profile-Id``,
``Version-Number``, ``Content-Type``, ``Description``, ``Latest-Version-Number``) with the
content as the raw body, the 201 of the two create calls, lists ordered newest first
(ListDeployments: "in descending deployment number order"), and errors as botocore's
rest-json parser reads them (``x-amzn-ErrorType`` header, JSON ``Message``), so that boto3
raises ``ConflictException``, ``ResourceNotFoundException`` and ``BadRequestException``.

Deployments progress as tests/appconfig_deployment_model.py describes: DEPLOYING,
BAKING, COMPLETE over the strategy's duration and bake time, read from the stub's clock
(``clock()`` plus what ``advance`` added, in seconds; a strategy minute lasts ``minute``
of them; ``advance_on_get_deployment`` moves the clock before every GetDeployment answer,
so a test follows a whole deployment poll by poll without sleeping). GetDeployment,
StopDeployment (DELETE, ``Allow-Revert`` header, 202: ROLLED_BACK, or REVERTED for a
COMPLETE one with ``AllowRevert``) and ``roll_back`` (an alarm's rollback) are served.
A deployment in progress blocks another to the same environment (409 ConflictException).

Simplified or guessed (GUESS): no SigV4 check; ids are made-up 7-character strings; a
stale ``Latest-Version-Number`` (or ``LatestDeploymentNumber``), and a deployment started
while another is in progress, answer 409 ``ConflictException`` with an invented message
(AWS documents the lock, not its error text); StopDeployment of a deployment that is not
DEPLOYING (without ``AllowRevert``) answers 400 ``BadRequestException`` with an invented
message; a stopped deployment is ROLLED_BACK at once (no ROLLING_BACK in between); a
feature-flag profile only checks that the content is a JSON object with ``"version":
"1"``; predefined strategies have their names as ids.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.appconfig_deployment_model import (
    IN_PROGRESS,
    PREDEFINED_STRATEGIES,
    Deployment,
    Strategy,
)

__all__ = ["AppConfigControlStub", "Recorded"]


@dataclass(frozen=True)
class Recorded:
    """One request the stub answered: method, path (decoded), query, headers, body."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class _Version:
    number: int
    content: bytes
    content_type: str
    description: str | None


@dataclass
class _Profile:
    id: str
    name: str
    type: str
    location: str
    versions: list[_Version] = field(default_factory=list)


@dataclass
class _Application:
    id: str
    name: str
    environments: dict[str, str] = field(default_factory=dict)  # id -> name
    profiles: dict[str, _Profile] = field(default_factory=dict)
    deployments: dict[str, list[Deployment]] = field(default_factory=dict)  # env id ->


class _Error(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class AppConfigControlStub:
    """An in-memory AppConfig control plane at `url`; use as a context manager."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        minute: float = 60.0,
        advance_on_get_deployment: float = 0.0,
    ) -> None:
        self.applications: dict[str, _Application] = {}
        self.strategies: dict[str, Strategy] = {s.id: s for s in PREDEFINED_STRATEGIES}
        self.requests: list[Recorded] = []
        self.before_create: Callable[[str, str], object] | None = None
        """Called as (application id, profile id) before a CreateHostedConfigurationVersion is
        handled, once: a test's stand-in for another push that wins the race."""
        self.on_get_deployment: Callable[[Deployment], object] | None = None
        """Called with the deployment before each GetDeployment answer (after the clock
        moved): a test can `roll_back` it there, as an alarm would."""
        self.minute = minute
        self.advance_on_get_deployment = advance_on_get_deployment
        self._clock = clock
        self._offset = 0.0
        self._ids = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self._server.serve_forever(poll_interval=0.02)  # so that __exit__ returns at once

    @property
    def url(self) -> str:
        """The endpoint URL to give boto3 (`endpoint_url=`) or `flagkit push --endpoint-url`."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> AppConfigControlStub:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    # -- set-up ---------------------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids:04d}"

    def add_application(self, name: str) -> str:
        """A new application; returns its id."""
        app = _Application(self._new_id("app"), name)
        self.applications[app.id] = app
        return app.id

    def add_environment(self, app_id: str, name: str) -> str:
        """A new environment of `app_id`; returns its id."""
        env_id = self._new_id("env")
        self.applications[app_id].environments[env_id] = name
        self.applications[app_id].deployments[env_id] = []
        return env_id

    def add_profile(
        self, app_id: str, name: str, kind: str = "AWS.Freeform", location: str = "hosted"
    ) -> str:
        """A new configuration profile of `app_id`; returns its id."""
        profile = _Profile(self._new_id("cfg"), name, kind, location)
        self.applications[app_id].profiles[profile.id] = profile
        return profile.id

    def add_strategy(
        self,
        name: str,
        *,
        duration: int = 0,
        growth: float = 100.0,
        growth_type: str = "LINEAR",
        bake: int = 0,
    ) -> str:
        """A new deployment strategy (minutes, percent); returns its id."""
        strategy_id = self._new_id("dst")
        self.strategies[strategy_id] = Strategy(
            strategy_id, name, duration, growth, growth_type, bake
        )
        return strategy_id

    def now(self) -> float:
        """The stub's clock, in seconds."""
        return self._clock() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the stub's clock on: deployments progress."""
        self._offset += seconds

    def roll_back(self, deployment: Deployment, triggered_by: str = "CLOUDWATCH_ALARM") -> None:
        """End `deployment` as ROLLED_BACK now, as an alarm (or a user) would."""
        deployment.end("ROLLED_BACK", self.now(), triggered_by)

    def add_version(self, app_id: str, profile_id: str, content: bytes) -> int:
        """A new hosted configuration version (application/json); returns its number."""
        return self._create_version(app_id, profile_id, content, "application/json", None, None)

    def add_deployment(
        self, app_id: str, env_id: str, profile_id: str, version: int, state: str = "COMPLETE"
    ) -> int:
        """A deployment of `version` that is COMPLETE (or ROLLED_BACK, or DEPLOYING: with
        AppConfig.Linear20PercentEvery6Minutes, just started); returns its number."""
        strategy = "AppConfig.Linear20PercentEvery6Minutes" if state == "DEPLOYING" else None
        deployment = self._deploy(
            app_id,
            env_id,
            {
                "DeploymentStrategyId": strategy or "AppConfig.AllAtOnce",
                "ConfigurationProfileId": profile_id,
                "ConfigurationVersion": str(version),
            },
        )
        if state != "DEPLOYING":
            deployment.started -= 24 * 60 * self.minute  # long over
        if state in ("ROLLED_BACK", "REVERTED"):
            deployment.end(state, deployment.started, "USER")
        return deployment.number

    def versions(self, app_id: str, profile_id: str) -> list[tuple[int, bytes, str]]:
        """(number, content, content type) of every hosted version, oldest first."""
        profile = self.applications[app_id].profiles[profile_id]
        return [(v.number, v.content, v.content_type) for v in profile.versions]

    def deployments(self, app_id: str, env_id: str) -> list[dict[str, Any]]:
        """Every deployment to `env_id` as GetDeployment answers it now, oldest first."""
        return [
            deployment.view(self.now(), self.minute)
            for deployment in self.applications[app_id].deployments[env_id]
        ]

    # -- operations ---------------------------------------------------------------------------

    def _app(self, app_id: str) -> _Application:
        if app_id not in self.applications:
            raise _Error(404, "ResourceNotFoundException", f"Application {app_id} not found")
        return self.applications[app_id]

    def _profile(self, app_id: str, profile_id: str) -> _Profile:
        profile = self._app(app_id).profiles.get(profile_id)
        if profile is None:
            raise _Error(
                404, "ResourceNotFoundException", f"ConfigurationProfile {profile_id} not found"
            )
        return profile

    def _create_version(
        self,
        app_id: str,
        profile_id: str,
        content: bytes,
        content_type: str,
        description: str | None,
        latest: int | None,
    ) -> int:
        profile = self._profile(app_id, profile_id)
        current = profile.versions[-1].number if profile.versions else None
        if latest is not None and latest != current:
            raise _Error(
                409,
                "ConflictException",
                f"LatestVersionNumber {latest} does not match the latest version {current}",
            )
        if profile.type == "AWS.AppConfig.FeatureFlags":
            try:
                parsed = json.loads(content)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict) or parsed.get("version") != "1":
                raise _Error(400, "BadRequestException", "Content is not valid feature flag data")
        number = (current or 0) + 1
        profile.versions.append(_Version(number, content, content_type, description))
        return number

    def _deploy(self, app_id: str, env_id: str, body: dict[str, Any]) -> Deployment:
        app = self._app(app_id)
        if env_id not in app.environments:
            raise _Error(404, "ResourceNotFoundException", f"Environment {env_id} not found")
        strategy = self.strategies.get(str(body.get("DeploymentStrategyId")))
        if strategy is None:
            raise _Error(
                404,
                "ResourceNotFoundException",
                f"DeploymentStrategy {body.get('DeploymentStrategyId')} not found",
            )
        profile = self._profile(app_id, str(body.get("ConfigurationProfileId")))
        version = str(body.get("ConfigurationVersion"))
        if not any(str(v.number) == version for v in profile.versions):
            raise _Error(400, "BadRequestException", f"Configuration version {version} not found")
        deployments = app.deployments[env_id]
        current = deployments[-1] if deployments else None
        latest = body.get("LatestDeploymentNumber")
        if latest is not None and latest != (current.number if current else None):
            raise _Error(
                409,
                "ConflictException",
                f"LatestDeploymentNumber {latest} does not match the latest deployment "
                f"{current.number if current else None}",
            )
        if current is not None and current.progress(self.now(), self.minute)[0] in IN_PROGRESS:
            raise _Error(
                409,
                "ConflictException",
                f"Deployment {current.number} is in progress for environment {env_id}",
            )
        deployment = Deployment(
            application_id=app_id,
            environment_id=env_id,
            number=(current.number if current else 0) + 1,
            profile_id=profile.id,
            profile_name=profile.name,
            location=profile.location,
            version=version,
            strategy=strategy,
            started=self.now(),
            description=body.get("Description"),
        )
        deployments.append(deployment)
        return deployment

    def _deployment(self, app_id: str, env_id: str, number: str) -> Deployment:
        app = self._app(app_id)
        if env_id not in app.deployments:
            raise _Error(404, "ResourceNotFoundException", f"Environment {env_id} not found")
        for deployment in app.deployments[env_id]:
            if str(deployment.number) == number:
                return deployment
        raise _Error(404, "ResourceNotFoundException", f"Deployment {number} not found")

    def _stop(self, deployment: Deployment, allow_revert: bool) -> None:
        state = deployment.progress(self.now(), self.minute)[0]
        if state == "DEPLOYING" or (allow_revert and state in IN_PROGRESS):
            deployment.end("ROLLED_BACK", self.now(), "USER")
        elif allow_revert and state == "COMPLETE":
            deployment.end("REVERTED", self.now(), "USER")
        else:
            raise _Error(
                400,
                "BadRequestException",
                f"Deployment {deployment.number} is {state} and cannot be stopped",
            )

    def _handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        parts = [unquote(part) for part in path.strip("/").split("/")]
        route = "/".join("{}" if index % 2 else part for index, part in enumerate(parts))
        ids = parts[1::2]
        items: list[dict[str, Any]]
        if (method, route) == ("GET", "applications"):
            items = [{"Id": a.id, "Name": a.name} for a in self.applications.values()]
            return self._page(items, query)
        if (method, route) == ("GET", "deploymentstrategies"):
            return self._page([s.as_item() for s in self.strategies.values()], query)
        if (method, route) == ("GET", "applications/{}/environments"):
            app = self._app(ids[0])
            items = [
                {"ApplicationId": app.id, "Id": eid, "Name": name, "State": "ReadyForDeployment"}
                for eid, name in app.environments.items()
            ]
            return self._page(items, query)
        if (method, route) == ("GET", "applications/{}/configurationprofiles"):
            app = self._app(ids[0])
            items = [
                {
                    "ApplicationId": app.id,
                    "Id": p.id,
                    "Name": p.name,
                    "LocationUri": p.location,
                    "Type": p.type,
                }
                for p in app.profiles.values()
            ]
            return self._page(items, query)
        versions_route = "applications/{}/configurationprofiles/{}/hostedconfigurationversions"
        if (method, route) == ("GET", versions_route):
            profile = self._profile(ids[0], ids[1])
            items = [
                {
                    "ApplicationId": ids[0],
                    "ConfigurationProfileId": profile.id,
                    "VersionNumber": v.number,
                    "ContentType": v.content_type,
                }
                for v in reversed(profile.versions)
            ]
            return self._page(items, query)
        if (method, route) == ("POST", versions_route):
            if self.before_create is not None:
                racer, self.before_create = self.before_create, None
                racer(ids[0], ids[1])
            latest = headers.get("Latest-Version-Number")
            number = self._create_version(
                ids[0],
                ids[1],
                body,
                headers.get("Content-Type", ""),
                headers.get("Description"),
                int(latest) if latest is not None else None,
            )
            return self._version(ids[0], ids[1], number, status=201)
        if (method, route) == ("GET", versions_route + "/{}"):
            return self._version(ids[0], ids[1], int(ids[2]), status=200)
        deployments_route = "applications/{}/environments/{}/deployments"
        if (method, route) == ("GET", deployments_route):
            app = self._app(ids[0])
            if ids[1] not in app.deployments:
                raise _Error(404, "ResourceNotFoundException", f"Environment {ids[1]} not found")
            items = [
                d.view(self.now(), self.minute, summary=True)
                for d in reversed(app.deployments[ids[1]])
            ]
            return self._page(items, query)
        if (method, route) == ("POST", deployments_route):
            deployment = self._deploy(ids[0], ids[1], json.loads(body or b"{}"))
            return self._answer(201, deployment, at=deployment.started)
        if (method, route) == ("GET", deployments_route + "/{}"):
            self.advance(self.advance_on_get_deployment)
            deployment = self._deployment(*ids)
            if self.on_get_deployment is not None:
                self.on_get_deployment(deployment)
            return self._answer(200, deployment)
        if (method, route) == ("DELETE", deployments_route + "/{}"):
            deployment = self._deployment(*ids)
            self._stop(deployment, headers.get("Allow-Revert", "false").lower() == "true")
            return self._answer(202, deployment)
        raise _Error(404, "NotFoundException", f"no route for {method} {path}")

    def _answer(
        self, status: int, deployment: Deployment, at: float | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        view = deployment.view(self.now() if at is None else at, self.minute)
        return status, {"Content-Type": "application/json"}, json.dumps(view).encode()

    def _version(
        self, app_id: str, profile_id: str, number: int, status: int
    ) -> tuple[int, dict[str, str], bytes]:
        profile = self._profile(app_id, profile_id)
        for version in profile.versions:
            if version.number == number:
                headers = {
                    "Application-Id": app_id,
                    "Configuration-Profile-Id": profile_id,
                    "Version-Number": str(number),
                    "Content-Type": version.content_type,
                }
                if version.description:
                    headers["Description"] = version.description
                return status, headers, version.content
        raise _Error(
            404, "ResourceNotFoundException", f"HostedConfigurationVersion {number} not found"
        )

    @staticmethod
    def _page(
        items: list[dict[str, Any]], query: dict[str, list[str]]
    ) -> tuple[int, dict[str, str], bytes]:
        size = int(query.get("max_results", ["50"])[0])
        start = int(query.get("next_token", ["0"])[0])
        page: dict[str, Any] = {"Items": items[start : start + size]}
        if start + size < len(items):
            page["NextToken"] = str(start + size)
        return 200, {"Content-Type": "application/json"}, json.dumps(page).encode()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                query = parse_qs(split.query)
                stub.requests.append(
                    Recorded(self.command, unquote(split.path), query, dict(self.headers), body)
                )
                try:
                    with stub._lock:
                        status, headers, payload = stub._handle(
                            self.command, split.path, query, self.headers, body
                        )
                except _Error as exc:
                    status = exc.status
                    headers = {
                        "Content-Type": "application/json",
                        "x-amzn-ErrorType": exc.code,
                    }
                    payload = json.dumps({"Message": exc.message}).encode()
                self.send_response(status)
                for name, value in {**headers, "x-amzn-RequestId": "stub"}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
