"""The AppConfig control-plane calls `push` and `rollback` share.

```
client = appconfig_client(endpoint_url=None, region=None)
target = resolve_target(client, "shop", "prod", "flags")
strategy = resolve_strategy(client, "AppConfig.AllAtOnce")
```

Names resolve to ids (or ids are taken as they are), deployment strategies come with
their growth and timing, an environment's deployments are listed newest first, and every
botocore error becomes a `PublishError` that names the call and what it was about.

boto3 is imported inside the functions that talk to AppConfig, never when this module
or `flagkit` is imported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from flagkit.aws_region import client_region
from flagkit.document import parse_document
from flagkit.errors import DocumentError, PublishError
from flagkit.publish.appconfig_format import FEATURE_FLAGS_TYPE, load_flag_document

if TYPE_CHECKING:
    from mypy_boto3_appconfig import AppConfigClient

__all__ = [
    "DEFAULT_STRATEGY",
    "IN_PROGRESS",
    "NOT_LIVE",
    "AppConfigTarget",
    "DeploymentStrategy",
    "StoredVersion",
    "appconfig_client",
    "call_appconfig",
    "is_of_profile",
    "knows_member",
    "list_deployments",
    "read_version",
    "resolve_strategy",
    "resolve_target",
    "start_deployment",
]

_T = TypeVar("_T")

DEFAULT_STRATEGY = "AppConfig.AllAtOnce"
"""The deployment strategy `push` and `rollback` use unless told otherwise: every polling
process gets the new document at once, so a tenant gets one answer everywhere (gradual
exposure belongs in the document's `percentage`; see docs/deploying.md)."""

IN_PROGRESS = frozenset({"VALIDATING", "DEPLOYING", "BAKING"})
"""Deployment states of a deployment that has not ended (StopDeployment can roll it back)."""

NOT_LIVE = frozenset({"ROLLING_BACK", "ROLLED_BACK", "REVERTED"})
"""Deployment states whose configuration is not (or no longer) what the environment serves."""


@dataclass(frozen=True, slots=True)
class AppConfigTarget:
    """Where a push goes: the application, environment and configuration profile, resolved."""

    application_id: str
    application_name: str
    environment_id: str
    environment_name: str
    profile_id: str
    profile_name: str
    profile_type: str

    @property
    def feature_flags(self) -> bool:
        """Whether the profile is an `AWS.AppConfig.FeatureFlags` profile."""
        return self.profile_type == FEATURE_FLAGS_TYPE


@dataclass(frozen=True, slots=True)
class DeploymentStrategy:
    """A deployment strategy: how fast AppConfig hands a new version to the polling clients.

    `growth_factor` is the percentage of clients each step adds (`growth_type` LINEAR or
    EXPONENTIAL) over `duration_minutes`; `bake_minutes` is the watch for alarms after.
    """

    id: str
    name: str
    growth_type: str = "LINEAR"
    growth_factor: float = 100.0
    duration_minutes: int = 0
    bake_minutes: int = 0

    @property
    def gradual(self) -> bool:
        """Whether some clients get the new version while others keep the old one for a while."""
        return self.growth_factor < 100 and self.duration_minutes > 0

    @property
    def label(self) -> str:
        """The name, and the id when it differs: `canary (dst0001)`."""
        return self.name if self.id == self.name else f"{self.name} ({self.id})"

    def describe(self) -> str:
        """How it rolls out, in words."""
        bake = f", then a {self.bake_minutes}-minute bake" if self.bake_minutes else ""
        if not self.gradual:
            return f"to every client at once{bake}"
        growth = "exponential" if self.growth_type == "EXPONENTIAL" else "linear"
        return (
            f"{self.growth_factor:g}% of clients per step ({growth}) over "
            f"{self.duration_minutes} minutes{bake}"
        )


PREDEFINED_STRATEGIES = {
    strategy.id: strategy
    for strategy in (
        DeploymentStrategy("AppConfig.AllAtOnce", "AppConfig.AllAtOnce", "LINEAR", 100, 0, 10),
        DeploymentStrategy(
            "AppConfig.Linear50PercentEvery30Seconds",
            "AppConfig.Linear50PercentEvery30Seconds",
            "LINEAR",
            50,
            1,
            1,
        ),
        DeploymentStrategy(
            "AppConfig.Linear20PercentEvery6Minutes",
            "AppConfig.Linear20PercentEvery6Minutes",
            "LINEAR",
            20,
            30,
            30,
        ),
        DeploymentStrategy(
            "AppConfig.Canary10Percent20Minutes",
            "AppConfig.Canary10Percent20Minutes",
            "EXPONENTIAL",
            10,
            20,
            10,
        ),
    )
}
"""AppConfig's predefined strategies, as AWS documents them, for when the list omits them."""


def appconfig_client(endpoint_url: str | None, region: str | None) -> AppConfigClient:
    """An `appconfig` client for `endpoint_url` (None: AWS's) in `client_region(region)`."""
    import boto3
    from botocore.exceptions import BotoCoreError, NoRegionError

    try:
        return boto3.session.Session().client(
            "appconfig", endpoint_url=endpoint_url, region_name=client_region(region)
        )
    except NoRegionError:
        raise PublishError(
            "no AWS region for AppConfig: pass --region (region=...), set AWS_REGION or "
            "AWS_DEFAULT_REGION, or give the AWS profile a region"
        ) from None
    except BotoCoreError as exc:
        raise PublishError(f"cannot make an AppConfig client: {exc}") from None


def call_appconfig(
    operation: str, about: str, call: Callable[[], _T], *, conflict: str | None = None
) -> _T:
    """`call()`, with botocore's errors turned into a `PublishError` that names the call.

    With `conflict`, AppConfig's `ConflictException` (a version or deployment made by
    someone else meanwhile) is that message instead, with AppConfig's own words after it.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return call()
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code", "error")
        if conflict is not None and code == "ConflictException":
            raise PublishError(f"{conflict} (AppConfig: {error.get('Message', '')})") from None
        raise PublishError(
            f"AppConfig {operation} failed for {about}: {code}: {error.get('Message', '')}"
        ) from None
    except BotoCoreError as exc:
        raise PublishError(f"AppConfig {operation} failed for {about}: {exc}") from None


def _items(
    client: AppConfigClient, operation: str, about: str, **params: str
) -> list[Mapping[str, Any]]:
    """Every item of a paginated list operation."""

    def pages() -> list[Mapping[str, Any]]:
        paginator: Any = client.get_paginator(operation)  # type: ignore[call-overload]
        return [item for page in paginator.paginate(**params) for item in page.get("Items", [])]

    return call_appconfig(operation, about, pages)


def _pick(kind: str, wanted: str, items: Iterable[Mapping[str, Any]], where: str) -> Any:
    """The item whose Id, else whose Name, is `wanted`; `PublishError` naming the choices."""
    items = list(items)
    for item in items:
        if item.get("Id") == wanted:
            return item
    named = [item for item in items if item.get("Name") == wanted]
    if len(named) == 1:
        return named[0]
    if named:
        ids = ", ".join(str(item.get("Id")) for item in named)
        raise PublishError(
            f"{kind} {wanted!r}{where} is ambiguous: {len(named)} {kind}s have that name "
            f"(ids {ids}); pass the id instead"
        )
    known = [f"{item.get('Name')} ({item.get('Id')})" for item in items]
    shown = ", ".join(known[:20]) + (f" and {len(known) - 20} more" if len(known) > 20 else "")
    raise PublishError(
        f"no {kind} {wanted!r}{where}; expected the name or id of one of: {shown or 'none'}"
    )


def resolve_target(
    client: AppConfigClient, application: str, environment: str, profile: str
) -> AppConfigTarget:
    """The application, environment and hosted configuration profile, by name or id."""
    app = _pick(
        "application",
        application,
        _items(client, "list_applications", f"application {application!r}"),
        "",
    )
    app_id = str(app["Id"])
    where = f" in application {app.get('Name')!r} ({app_id})"
    env = _pick(
        "environment",
        environment,
        _items(client, "list_environments", f"application {app_id}", ApplicationId=app_id),
        where,
    )
    prof = _pick(
        "configuration profile",
        profile,
        _items(
            client,
            "list_configuration_profiles",
            f"application {app_id}",
            ApplicationId=app_id,
        ),
        where,
    )
    location = prof.get("LocationUri", "hosted")
    if location != "hosted":
        raise PublishError(
            f"configuration profile {prof.get('Name')!r} ({prof.get('Id')}) reads its "
            f"configuration from {location!r}; flagkit push needs a profile whose location "
            "is 'hosted' (the AppConfig hosted configuration store)"
        )
    return AppConfigTarget(
        application_id=app_id,
        application_name=str(app.get("Name", app_id)),
        environment_id=str(env["Id"]),
        environment_name=str(env.get("Name", env["Id"])),
        profile_id=str(prof["Id"]),
        profile_name=str(prof.get("Name", prof["Id"])),
        profile_type=str(prof.get("Type") or "AWS.Freeform"),
    )


def resolve_strategy(client: AppConfigClient, strategy: str) -> DeploymentStrategy:
    """The deployment strategy named (or with the id) `strategy`, with its growth and timing."""
    items = _items(client, "list_deployment_strategies", f"deployment strategy {strategy!r}")
    try:
        found = _pick("deployment strategy", strategy, items, "")
    except PublishError:
        if strategy in PREDEFINED_STRATEGIES:  # predefined ones are addressed by name
            return PREDEFINED_STRATEGIES[strategy]
        raise
    return DeploymentStrategy(
        id=str(found["Id"]),
        name=str(found.get("Name", found["Id"])),
        growth_type=str(found.get("GrowthType") or "LINEAR"),
        growth_factor=float(found.get("GrowthFactor", 100)),
        duration_minutes=int(found.get("DeploymentDurationInMinutes", 0)),
        bake_minutes=int(found.get("FinalBakeTimeInMinutes", 0)),
    )


def is_of_profile(deployment: Mapping[str, Any], target: AppConfigTarget) -> bool:
    """Whether a listed deployment deployed `target`'s profile (by id, else by name)."""
    profile_id = deployment.get("ConfigurationProfileId")
    if profile_id:
        return bool(profile_id == target.profile_id)
    return bool(deployment.get("ConfigurationName") == target.profile_name)


def list_deployments(
    client: AppConfigClient,
    target: AppConfigTarget,
    enough: Callable[[list[Mapping[str, Any]]], bool],
) -> list[Mapping[str, Any]]:
    """The environment's deployments, newest first, read page by page until `enough` of them."""
    about = f"environment {target.environment_name!r} ({target.environment_id})"

    def scan() -> list[Mapping[str, Any]]:
        paginator = client.get_paginator("list_deployments")
        found: list[Mapping[str, Any]] = []
        pages = paginator.paginate(
            ApplicationId=target.application_id, EnvironmentId=target.environment_id
        )
        for page in pages:
            found.extend(page.get("Items", []))
            if enough(found):
                break
        return found

    return call_appconfig("list_deployments", about, scan)


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """A hosted configuration version as read: `parsed` is its JSON (None when it is not
    JSON), `document` the flag document it holds (a feature-flag definition read back
    into one), or None with `problem` saying why it is not one flagkit can read."""

    number: int
    parsed: Any
    document: Mapping[str, Any] | None
    problem: str | None


def read_version(client: AppConfigClient, target: AppConfigTarget, version: int) -> StoredVersion:
    """Hosted configuration version `version` of `target`'s profile, parsed and checked."""
    about = f"version {version} of profile {target.profile_name!r} ({target.profile_id})"

    def read() -> bytes:
        response = client.get_hosted_configuration_version(
            ApplicationId=target.application_id,
            ConfigurationProfileId=target.profile_id,
            VersionNumber=version,
        )
        with response["Content"] as body:
            return body.read()

    content = call_appconfig("get_hosted_configuration_version", about, read)
    try:
        parsed = parse_document(content)
    except DocumentError:
        parsed = None
    try:
        return StoredVersion(version, parsed, load_flag_document(content).document, None)
    except DocumentError as exc:
        first = exc.problems[0] if exc.problems else "unreadable"
        more = f" (and {len(exc.problems) - 1} more problems)" if len(exc.problems) > 1 else ""
        problem = f"version {version} is not a flag document flagkit can read: {first}{more}"
        return StoredVersion(version, parsed, None, problem)


def start_deployment(
    client: AppConfigClient,
    target: AppConfigTarget,
    strategy: DeploymentStrategy,
    version: int,
    description: str | None,
    latest_deployment: int | None,
    created: bool,
) -> Mapping[str, Any]:
    """StartDeployment of `version` (guarded by `LatestDeploymentNumber` where botocore knows
    it); a conflict says whether this command `created` the version it could not deploy."""

    params: dict[str, Any] = {
        "ApplicationId": target.application_id,
        "EnvironmentId": target.environment_id,
        "DeploymentStrategyId": strategy.id,
        "ConfigurationProfileId": target.profile_id,
        "ConfigurationVersion": str(version),
    }
    if description:
        params["Description"] = description
    if latest_deployment is not None and knows_member(
        client, "StartDeployment", "LatestDeploymentNumber"
    ):
        params["LatestDeploymentNumber"] = latest_deployment
    about = f"version {version} to environment {target.environment_name!r}"
    what, command = (
        (f"created hosted configuration version {version} but could not deploy it", "push")
        if created
        else (f"could not deploy version {version}", "rollback")
    )

    conflict = (
        f"{what} to environment {target.environment_name!r}: another deployment is in "
        "progress or started since this command read the environment; nothing was deployed; "
        f"re-run flagkit {command} to review the impact against what is deployed now"
    )
    return call_appconfig(
        "start_deployment", about, lambda: client.start_deployment(**params), conflict=conflict
    )


def knows_member(client: AppConfigClient, operation: str, member: str) -> bool:
    """Whether the installed botocore's model of `operation` has the input `member`."""
    shape = client.meta.service_model.operation_model(operation).input_shape
    return shape is not None and member in shape.members
