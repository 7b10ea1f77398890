"""What the local AppConfig holds: applications, environments, profiles, hosted versions,
deployment strategies and deployments, on one clock, behind one lock.

```
store = Store()
app, env, profile = store.ensure("shop", "prod", "flags")
version = store.create_version(app.id, profile.id, b"{}", "application/json")
store.start_deployment(app.id, env.id, profile.id, str(version.number), IMMEDIATE.id)
store.served(app, env, profile, position=42.0)  # the version a polling client gets
```

The Data API, the Agent path and the control plane all read and change this one store,
so a `flagkit push` through the control plane is what `Flags.from_appconfig` gets next.
Ids are seven lowercase letters and digits, as AppConfig's are (`app0001`, `env0002`,
...: a prefix and a counter, so that they are predictable). A refused request raises
`AppConfigApiError`, which the HTTP layer turns into AppConfig's error response.

GUESS (as AWS documents the lock, not its wording): the texts of the errors.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flagkit.local_appconfig.deployments import (
    IMMEDIATE,
    IN_PROGRESS,
    PREDEFINED_STRATEGIES,
    Deployment,
    Strategy,
    served_version,
)
from flagkit.publish.appconfig_format import FEATURE_FLAGS_TYPE

__all__ = [
    "FEATURE_FLAGS",
    "FREEFORM",
    "MAX_IDENTIFIER",
    "AppConfigApiError",
    "Application",
    "Environment",
    "HostedVersion",
    "Profile",
    "Store",
    "retrieval_form",
]

FREEFORM = "AWS.Freeform"
FEATURE_FLAGS = FEATURE_FLAGS_TYPE
MAX_IDENTIFIER = 128
"""Identifiers and names are 1 to 128 characters (the service model's `Identifier`)."""

_Named = TypeVar("_Named", "Application", "Environment", "Profile")


class AppConfigApiError(Exception):
    """A request AppConfig refuses: the HTTP status, the error code botocore raises as an
    exception (`ConflictException`...), the message and the modeled members of the error."""

    def __init__(self, status: int, code: str, message: str, **members: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.members = status, code, message, members


def not_found(kind: str, identifier: str, parameter: str | None = None) -> AppConfigApiError:
    """404 ResourceNotFoundException for `kind` (`Application`, `Environment`, ...)."""
    members: dict[str, Any] = {"ResourceType": kind}
    if parameter is not None:
        members["ReferencedBy"] = {parameter: identifier}
    return AppConfigApiError(
        404, "ResourceNotFoundException", f"{kind} {identifier!r} could not be found.", **members
    )


@dataclass
class HostedVersion:
    """A hosted configuration version. `label` is the `Version-Label` the Data API sends
    (None: no such header; AWS sends one only for a version given a label)."""

    number: int
    content: bytes
    content_type: str
    description: str | None = None
    label: str | None = None


@dataclass
class Profile:
    """A configuration profile and its hosted versions, oldest first."""

    id: str
    name: str
    type: str = FREEFORM
    location: str = "hosted"
    versions: list[HostedVersion] = field(default_factory=list)


@dataclass
class Environment:
    """An environment and its deployments, oldest first (numbered per environment)."""

    id: str
    name: str
    deployments: list[Deployment] = field(default_factory=list)


@dataclass
class Application:
    """An application, its environments and its configuration profiles, by id."""

    id: str
    name: str
    environments: dict[str, Environment] = field(default_factory=dict)
    profiles: dict[str, Profile] = field(default_factory=dict)


def find(items: Iterable[_Named], identifier: str) -> _Named | None:
    """The item whose id, else whose name, is `identifier` (AppConfig accepts either)."""
    items = list(items)
    for item in items:
        if item.id == identifier:
            return item
    return next((item for item in items if item.name == identifier), None)


class Store:
    """The state of the local AppConfig. Every method takes `lock` (reentrant), which
    request handlers also hold while they read and change several things at once."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, minute: float = 60.0):
        self.lock = threading.RLock()
        self.applications: dict[str, Application] = {}
        self.strategies: dict[str, Strategy] = {
            s.id: s for s in (*PREDEFINED_STRATEGIES, IMMEDIATE)
        }
        self.minute = minute
        """How many seconds of the clock a strategy minute lasts."""
        self._clock = clock
        self._offset = 0.0
        self._ids = 0

    # -- time -----------------------------------------------------------------------------------

    def now(self) -> float:
        """The store's clock: `clock()` plus whatever `advance` added, in seconds."""
        return self._clock() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock on: tokens age, poll intervals pass, deployments progress."""
        with self.lock:
            self._offset += seconds

    # -- resources ------------------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        """`prefix` and a 4-digit counter: `app0001`."""
        with self.lock:
            self._ids += 1
            return f"{prefix}{self._ids:04d}"

    def add_application(self, name: str) -> Application:
        """A new application (another with the same name may exist, as in AppConfig)."""
        _check_name(name)
        with self.lock:
            app = Application(self.new_id("app"), name)
            self.applications[app.id] = app
            return app

    def add_environment(self, app: Application, name: str) -> Environment:
        """A new environment of `app`."""
        _check_name(name)
        with self.lock:
            env = Environment(self.new_id("env"), name)
            app.environments[env.id] = env
            return env

    def add_profile(
        self, app: Application, name: str, kind: str = FREEFORM, location: str = "hosted"
    ) -> Profile:
        """A new configuration profile of `app` (`kind`: `AWS.Freeform` or feature flags)."""
        _check_name(name)
        with self.lock:
            profile = Profile(self.new_id("cfg"), name, kind, location)
            app.profiles[profile.id] = profile
            return profile

    def add_strategy(self, strategy: Strategy) -> None:
        """Make `strategy` known (ListDeploymentStrategies, StartDeployment)."""
        with self.lock:
            self.strategies[strategy.id] = strategy

    def ensure(
        self, application: str, environment: str | None = None, profile: str | None = None
    ) -> tuple[Application, Environment | None, Profile | None]:
        """The application (and environment and profile) with these names, made if missing."""
        with self.lock:
            app = find(self.applications.values(), application)
            if app is None:
                app = self.add_application(application)
            env = prof = None
            if environment is not None:
                env = find(app.environments.values(), environment)
                env = env or self.add_environment(app, environment)
            if profile is not None:
                prof = find(app.profiles.values(), profile) or self.add_profile(app, profile)
            return app, env, prof

    def resolve(
        self, application: str, environment: str, profile: str
    ) -> tuple[Application, Environment, Profile]:
        """By name or id, as the Data API and the Agent take them; 404 naming what is missing."""
        with self.lock:
            app = find(self.applications.values(), application)
            if app is None:
                raise not_found("Application", application, "ApplicationIdentifier")
            env = find(app.environments.values(), environment)
            if env is None:
                raise not_found("Environment", environment, "EnvironmentIdentifier")
            prof = find(app.profiles.values(), profile)
            if prof is None:
                raise not_found("ConfigurationProfile", profile, "ConfigurationProfileIdentifier")
            return app, env, prof

    def application(self, app_id: str) -> Application:
        """The application with id `app_id` (the control plane takes ids only)."""
        with self.lock:
            if app_id not in self.applications:
                raise AppConfigApiError(
                    404, "ResourceNotFoundException", f"Application {app_id} not found"
                )
            return self.applications[app_id]

    def environment(self, app_id: str, env_id: str) -> Environment:
        """The environment with id `env_id` of application `app_id`."""
        with self.lock:
            env = self.application(app_id).environments.get(env_id)
            if env is None:
                raise AppConfigApiError(
                    404, "ResourceNotFoundException", f"Environment {env_id} not found"
                )
            return env

    def profile(self, app_id: str, profile_id: str) -> Profile:
        """The configuration profile with id `profile_id` of application `app_id`."""
        with self.lock:
            profile = self.application(app_id).profiles.get(profile_id)
            if profile is None:
                raise AppConfigApiError(
                    404, "ResourceNotFoundException", f"ConfigurationProfile {profile_id} not found"
                )
            return profile

    # -- versions and deployments ---------------------------------------------------------------

    def create_version(
        self,
        app_id: str,
        profile_id: str,
        content: bytes,
        content_type: str,
        *,
        description: str | None = None,
        latest: int | None = None,
        label: str | None = None,
    ) -> HostedVersion:
        """CreateHostedConfigurationVersion: refused (409) when `latest` is not the latest
        version number; a feature-flag profile's content must be its stored format."""
        with self.lock:
            profile = self.profile(app_id, profile_id)
            current = profile.versions[-1].number if profile.versions else None
            if latest is not None and latest != current:
                raise AppConfigApiError(
                    409,
                    "ConflictException",
                    f"LatestVersionNumber {latest} does not match the latest version {current}",
                )
            if profile.type == FEATURE_FLAGS and not _is_stored_feature_flags(content):
                raise AppConfigApiError(
                    400, "BadRequestException", "Content is not valid feature flag data"
                )
            version = HostedVersion(
                (current or 0) + 1, bytes(content), content_type, description, label
            )
            profile.versions.append(version)
            return version

    def version(self, profile: Profile, number: int) -> HostedVersion:
        """Hosted version `number` of `profile`."""
        with self.lock:
            for version in profile.versions:
                if version.number == number:
                    return version
        raise AppConfigApiError(
            404, "ResourceNotFoundException", f"HostedConfigurationVersion {number} not found"
        )

    def start_deployment(
        self,
        app_id: str,
        env_id: str,
        profile_id: str,
        version: str,
        strategy_id: str,
        *,
        description: str | None = None,
        latest_deployment: int | None = None,
    ) -> Deployment:
        """StartDeployment: refused (409) while another deployment to the environment is in
        progress, or when `latest_deployment` is not the environment's latest."""
        with self.lock:
            env = self.environment(app_id, env_id)
            strategy = self.strategies.get(strategy_id)
            if strategy is None:
                raise AppConfigApiError(
                    404, "ResourceNotFoundException", f"DeploymentStrategy {strategy_id} not found"
                )
            profile = self.profile(app_id, profile_id)
            if not any(str(v.number) == version for v in profile.versions):
                raise AppConfigApiError(
                    400, "BadRequestException", f"Configuration version {version} not found"
                )
            current = env.deployments[-1] if env.deployments else None
            number = current.number if current else None
            if latest_deployment is not None and latest_deployment != number:
                raise AppConfigApiError(
                    409,
                    "ConflictException",
                    f"LatestDeploymentNumber {latest_deployment} does not match the latest "
                    f"deployment {number}",
                )
            self.refuse_while_in_progress(env)
            deployment = Deployment(
                application_id=app_id,
                environment_id=env_id,
                number=(number or 0) + 1,
                profile_id=profile.id,
                profile_name=profile.name,
                location=profile.location,
                version=version,
                strategy=strategy,
                started=self.now(),
                description=description,
            )
            env.deployments.append(deployment)
            return deployment

    def refuse_while_in_progress(self, env: Environment) -> None:
        """409 ConflictException when a deployment to `env` is in progress (AppConfig runs
        one at a time per environment)."""
        with self.lock:
            current = env.deployments[-1] if env.deployments else None
            if current is not None and self.state(current) in IN_PROGRESS:
                raise AppConfigApiError(
                    409,
                    "ConflictException",
                    f"Deployment {current.number} is in progress for environment {env.id}",
                )

    def deployment(self, app_id: str, env_id: str, number: str) -> Deployment:
        """Deployment `number` to environment `env_id`."""
        with self.lock:
            for deployment in self.environment(app_id, env_id).deployments:
                if str(deployment.number) == number:
                    return deployment
        raise AppConfigApiError(404, "ResourceNotFoundException", f"Deployment {number} not found")

    def state(self, deployment: Deployment) -> str:
        """The deployment's state now."""
        return deployment.progress(self.now(), self.minute)[0]

    def stop_deployment(self, deployment: Deployment, allow_revert: bool) -> None:
        """StopDeployment: a deployment in progress ends ROLLED_BACK; with `allow_revert`, a
        COMPLETE one ends REVERTED (400 otherwise)."""
        with self.lock:
            state = self.state(deployment)
            if state == "DEPLOYING" or (allow_revert and state in IN_PROGRESS):
                deployment.end("ROLLED_BACK", self.now(), "USER")
            elif allow_revert and state == "COMPLETE":
                deployment.end("REVERTED", self.now(), "USER")
            else:
                raise AppConfigApiError(
                    400,
                    "BadRequestException",
                    f"Deployment {deployment.number} is {state} and cannot be stopped",
                )

    def roll_back(self, deployment: Deployment, triggered_by: str = "CLOUDWATCH_ALARM") -> None:
        """End `deployment` as ROLLED_BACK now, as an alarm (or a user) would."""
        with self.lock:
            deployment.end("ROLLED_BACK", self.now(), triggered_by)

    def served(
        self, app: Application, env: Environment, profile: Profile, position: float
    ) -> HostedVersion | None:
        """The version of `profile` a client at `position` (in [0, 100)) gets from `env` now."""
        with self.lock:
            number = served_version(env.deployments, profile.id, position, self.now(), self.minute)
            return None if number is None else self.version(profile, int(number))


def retrieval_form(profile: Profile, version: HostedVersion) -> tuple[bytes, str]:
    """(content, content type) of `version` as applications get it: a feature-flag profile
    hands out its flags in the retrieval format (`{KEY: {"enabled": ..., ...}}`, read from
    the stored definition as `flagkit.publish.document_from_definition` reads it - GUESS:
    AWS documents the two formats, not every detail of the conversion); any other profile
    hands out the version as stored."""
    if profile.type != FEATURE_FLAGS:
        return version.content, version.content_type
    from flagkit.errors import DocumentError
    from flagkit.publish.appconfig_format import document_from_definition

    try:
        document = document_from_definition(json.loads(version.content))
    except (ValueError, DocumentError):
        return version.content, version.content_type
    return json.dumps(document).encode(), "application/json"


def _check_name(name: str) -> None:
    if not 1 <= len(name) <= MAX_IDENTIFIER:
        raise ValueError(f"identifiers are 1 to {MAX_IDENTIFIER} characters: {name!r}")


def _is_stored_feature_flags(content: bytes) -> bool:
    """GUESS: AppConfig checks a feature-flag version against its schema; this only checks
    that it is a JSON object with `"version": "1"`."""
    try:
        parsed = json.loads(content)
    except ValueError:
        return False
    return isinstance(parsed, dict) and parsed.get("version") == "1"
