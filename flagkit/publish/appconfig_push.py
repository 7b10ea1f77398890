"""`flagkit push`: validate a document, diff it against what is deployed, store it, deploy it.

```
result = push(document, application="shop", environment="prod", profile="flags")
```

`push` talks to AppConfig's control plane: it resolves names to ids, reads the latest
and the deployed hosted versions, creates a hosted configuration version guarded by
`LatestVersionNumber` and starts a deployment.

boto3 is imported inside the functions that talk to AppConfig, never when this module
or `flagkit` is imported.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from flagkit.document import check_document
from flagkit.errors import DocumentError, PublishError
from flagkit.model import Tenant
from flagkit.publish.appconfig_format import (
    FEATURE_FLAGS_TYPE,
    appconfig_definition,
    document_from_definition,
    load_flag_document,
    unencodable_text,
)
from flagkit.publish.impact import Diff, diff_documents

if TYPE_CHECKING:
    from mypy_boto3_appconfig import AppConfigClient

__all__ = ["AppConfigTarget", "PushResult", "push"]

_T = TypeVar("_T")

_PREDEFINED_STRATEGIES = frozenset(
    {
        "AppConfig.AllAtOnce",
        "AppConfig.Linear50PercentEvery30Seconds",
        "AppConfig.Linear20PercentEvery6Minutes",
        "AppConfig.Canary10Percent20Minutes",
    }
)
_NOT_LIVE = frozenset({"ROLLING_BACK", "ROLLED_BACK", "REVERTED"})
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
class PushResult:
    """What `push` found and did.

    `compared_with` says what the diff is against (`deployed version 3`, `latest
    version 4`, or `nothing` for a profile without versions), `diff` is None when that
    version could not be read as a flag document (`diff_problem` says why).
    `latest_version` is the hosted version the new one was created after (the
    `LatestVersionNumber` lock). `version_number` and `deployment_number` are None on a
    dry run. `content` is what was (or would be) stored.
    """

    target: AppConfigTarget
    strategy_id: str
    strategy_name: str
    compared_with: str
    diff: Diff | None
    diff_problem: str | None
    latest_version: int | None
    content: bytes
    content_type: str
    dry_run: bool
    version_number: int | None = None
    deployment_number: int | None = None
    deployment_state: str | None = None


def push(
    document: Mapping[str, Any],
    *,
    application: str,
    environment: str,
    profile: str,
    strategy: str = "AppConfig.AllAtOnce",
    description: str | None = None,
    tenants: Sequence[Tenant] = (),
    dry_run: bool = False,
    content_type: str = "application/json",
    endpoint_url: str | None = None,
    region: str | None = None,
    client: AppConfigClient | None = None,
    on_diff: Callable[[PushResult], None] | None = None,
) -> PushResult:
    """Validate `document`, diff it against what is deployed, store it and deploy it.

    1. The document is checked (`DocumentError`, also for text that is not valid Unicode,
       before AppConfig is called); for a feature-flag profile it is converted with
       `appconfig_definition` (`DocumentError` for what that cannot hold).
    2. `application`, `environment`, `profile` and `strategy` are resolved, each by id or
       by name, with AppConfig's list APIs (predefined strategies such as
       `AppConfig.AllAtOnce` resolve by name too).
    3. The latest hosted version, and the version deployed to the environment, are read;
       the diff is against the deployed one (else the latest, else nothing).
       `on_diff`, when given, sees the result so far before anything is created.
    4. Unless `dry_run`: `create_hosted_configuration_version` with
       `LatestVersionNumber` set to the latest version read, so that of two concurrent
       pushes the second fails instead of overwriting the first; then
       `start_deployment` of the new version (with `LatestDeploymentNumber` where the
       installed botocore knows it).

    AppConfig errors, unknown names and conflicts raise `PublishError` with a message
    that says what to do. `client` is an `appconfig` boto3 client; without one, one is
    made from `endpoint_url` and `region` and the usual AWS credential chain.
    """
    check_document(document)
    unencodable = list(unencodable_text(document))
    if unencodable:
        raise DocumentError(unencodable)
    if client is None:
        client = _appconfig_client(endpoint_url, region)
    target = _resolve_target(client, application, environment, profile)
    if target.feature_flags:
        payload: Mapping[str, Any] = appconfig_definition(document)
        served: Mapping[str, Any] = document_from_definition(payload)  # as AppConfig keeps it
    else:
        payload = served = document
    content = (json.dumps(payload, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    strategy_id, strategy_name = _resolve_strategy(client, strategy)
    latest = _latest_version(client, target)
    latest_deployment, deployed = _deployed_version(client, target)
    base_version = deployed if deployed is not None else latest
    base: Mapping[str, Any] | None = {}
    problem: str | None = None
    if base_version is None:
        compared_with = "nothing (the profile has no version yet)"
    else:
        kind = "deployed" if deployed is not None else "latest"
        compared_with = f"{kind} version {base_version}"
        if deployed is not None and latest is not None and latest != deployed:
            compared_with += f" (the latest version is {latest})"
        base, problem = _read_version(client, target, base_version)
    diff = diff_documents(base, served, tenants) if base is not None else None
    result = PushResult(
        target=target,
        strategy_id=strategy_id,
        strategy_name=strategy_name,
        compared_with=compared_with,
        diff=diff,
        diff_problem=problem,
        latest_version=latest,
        content=content,
        content_type=content_type,
        dry_run=dry_run,
    )
    if on_diff is not None:
        on_diff(result)
    if dry_run:
        return result
    version = _create_version(client, target, content, content_type, description, latest)
    deployment = _start_deployment(
        client, target, strategy_id, version, description, latest_deployment
    )
    return replace(
        result,
        version_number=version,
        deployment_number=deployment.get("DeploymentNumber"),
        deployment_state=deployment.get("State"),
    )


def _appconfig_client(endpoint_url: str | None, region: str | None) -> AppConfigClient:
    import boto3
    from botocore.exceptions import BotoCoreError, NoRegionError

    try:
        return boto3.session.Session().client(
            "appconfig", endpoint_url=endpoint_url, region_name=region
        )
    except NoRegionError:
        raise PublishError(
            "no AWS region for AppConfig: pass --region (region=...) or set AWS_REGION"
        ) from None
    except BotoCoreError as exc:
        raise PublishError(f"cannot make an AppConfig client: {exc}") from None


def _call(operation: str, about: str, call: Callable[[], _T]) -> _T:
    """`call()`, with botocore's errors turned into a `PublishError` that names the call."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return call()
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code", "error")
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

    return _call(operation, about, pages)


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


def _resolve_target(
    client: AppConfigClient, application: str, environment: str, profile: str
) -> AppConfigTarget:
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


def _resolve_strategy(client: AppConfigClient, strategy: str) -> tuple[str, str]:
    items = _items(client, "list_deployment_strategies", f"deployment strategy {strategy!r}")
    try:
        found = _pick("deployment strategy", strategy, items, "")
    except PublishError:
        if strategy in _PREDEFINED_STRATEGIES:  # predefined ones are addressed by name
            return strategy, strategy
        raise
    return str(found["Id"]), str(found.get("Name", found["Id"]))


def _latest_version(client: AppConfigClient, target: AppConfigTarget) -> int | None:
    """The highest hosted version number, None when the profile has none yet.

    AppConfig lists versions newest first, so the first page is enough; should a page
    not be in that order, every page is read.
    """
    about = f"profile {target.profile_name!r} ({target.profile_id})"

    def latest() -> int | None:
        paginator = client.get_paginator("list_hosted_configuration_versions")
        found: int | None = None
        pages = paginator.paginate(
            ApplicationId=target.application_id, ConfigurationProfileId=target.profile_id
        )
        for page in pages:
            numbers = [item["VersionNumber"] for item in page.get("Items", [])]
            if numbers:
                found = max([*numbers, *([] if found is None else [found])])
                if numbers == sorted(numbers, reverse=True):
                    break
        return found

    return _call("list_hosted_configuration_versions", about, latest)


def _deployed_version(
    client: AppConfigClient, target: AppConfigTarget
) -> tuple[int | None, int | None]:
    """(the environment's latest deployment number, the hosted version of this profile it serves).

    Deployments are listed newest first; the first of this profile that was not rolled
    back is what the environment serves.
    """
    about = f"environment {target.environment_name!r} ({target.environment_id})"

    def scan() -> tuple[int | None, int | None]:
        paginator = client.get_paginator("list_deployments")
        latest: int | None = None
        pages = paginator.paginate(
            ApplicationId=target.application_id, EnvironmentId=target.environment_id
        )
        for page in pages:
            for item in page.get("Items", []):
                if latest is None:
                    latest = item.get("DeploymentNumber")
                profile_id = item.get("ConfigurationProfileId")
                ours = (
                    profile_id == target.profile_id
                    if profile_id
                    else item.get("ConfigurationName") == target.profile_name
                )
                version = str(item.get("ConfigurationVersion", ""))
                if ours and item.get("State") not in _NOT_LIVE and version.isdigit():
                    return latest, int(version)
        return latest, None

    return _call("list_deployments", about, scan)


def _read_version(
    client: AppConfigClient, target: AppConfigTarget, version: int
) -> tuple[Mapping[str, Any] | None, str | None]:
    """(the flag document of a hosted version, None) or (None, why it cannot be read)."""
    about = f"version {version} of profile {target.profile_name!r} ({target.profile_id})"

    def read() -> bytes:
        response = client.get_hosted_configuration_version(
            ApplicationId=target.application_id,
            ConfigurationProfileId=target.profile_id,
            VersionNumber=version,
        )
        with response["Content"] as body:
            return body.read()

    content = _call("get_hosted_configuration_version", about, read)
    try:
        return load_flag_document(content).document, None
    except DocumentError as exc:
        first = exc.problems[0] if exc.problems else "unreadable"
        more = f" (and {len(exc.problems) - 1} more problems)" if len(exc.problems) > 1 else ""
        return None, f"version {version} is not a flag document flagkit can read: {first}{more}"


def _create_version(
    client: AppConfigClient,
    target: AppConfigTarget,
    content: bytes,
    content_type: str,
    description: str | None,
    latest: int | None,
) -> int:
    from botocore.exceptions import ClientError

    params: dict[str, Any] = {
        "ApplicationId": target.application_id,
        "ConfigurationProfileId": target.profile_id,
        "Content": content,
        "ContentType": content_type,
    }
    if description:
        params["Description"] = description
    if latest is not None:
        params["LatestVersionNumber"] = latest
    about = f"profile {target.profile_name!r} ({target.profile_id})"

    def create() -> int:
        try:
            response = client.create_hosted_configuration_version(**params)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConflictException":
                after = f"version {latest}" if latest is not None else "no version"
                raise PublishError(
                    f"another hosted configuration version of {about} was created since this "
                    f"push read the latest one ({after}), so nothing was created or deployed; "
                    "re-run flagkit push to review the impact against the new version "
                    f"(AppConfig: {exc.response.get('Error', {}).get('Message', '')})"
                ) from None
            raise
        with response["Content"] as body:  # read and close the echoed content
            body.read()
        return int(response["VersionNumber"])

    return _call("create_hosted_configuration_version", about, create)


def _start_deployment(
    client: AppConfigClient,
    target: AppConfigTarget,
    strategy_id: str,
    version: int,
    description: str | None,
    latest_deployment: int | None,
) -> Mapping[str, Any]:
    from botocore.exceptions import ClientError

    params: dict[str, Any] = {
        "ApplicationId": target.application_id,
        "EnvironmentId": target.environment_id,
        "DeploymentStrategyId": strategy_id,
        "ConfigurationProfileId": target.profile_id,
        "ConfigurationVersion": str(version),
    }
    if description:
        params["Description"] = description
    if latest_deployment is not None and _knows(
        client, "StartDeployment", "LatestDeploymentNumber"
    ):
        params["LatestDeploymentNumber"] = latest_deployment
    about = f"version {version} to environment {target.environment_name!r}"

    def start() -> Mapping[str, Any]:
        try:
            return client.start_deployment(**params)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConflictException":
                raise PublishError(
                    f"created hosted configuration version {version} but could not deploy it to "
                    f"environment {target.environment_name!r}: another deployment is in "
                    "progress or started since this push read the environment; nothing was "
                    "deployed; re-run flagkit push to review the impact against what is "
                    f"deployed now (AppConfig: {exc.response.get('Error', {}).get('Message', '')})"
                ) from None
            raise

    return _call("start_deployment", about, start)


def _knows(client: AppConfigClient, operation: str, member: str) -> bool:
    """Whether the installed botocore's model of `operation` has the input `member`."""
    shape = client.meta.service_model.operation_model(operation).input_shape
    return shape is not None and member in shape.members
