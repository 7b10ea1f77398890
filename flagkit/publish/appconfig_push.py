"""`flagkit push`: validate a document, diff it against what is deployed, store it, deploy it.

```
result = push(document, application="shop", environment="prod", profile="flags")
```

`push` talks to AppConfig's control plane: it resolves names to ids, reads the latest
and the deployed hosted versions, does nothing when the document equals the deployed
one (unless `force`), asks `confirm` (when given), creates a hosted configuration version
guarded by `LatestVersionNumber` and starts a deployment.

boto3 is imported inside the functions that talk to AppConfig, never when this module
or `flagkit` is imported.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from flagkit.document import check_document
from flagkit.errors import DocumentError, PublishError
from flagkit.model import Tenant
from flagkit.publish.appconfig_control import (
    DEFAULT_STRATEGY,
    IN_PROGRESS,
    NOT_LIVE,
    AppConfigTarget,
    DeploymentStrategy,
    appconfig_client,
    call_appconfig,
    is_of_profile,
    list_deployments,
    read_version,
    resolve_strategy,
    resolve_target,
    start_deployment,
)
from flagkit.publish.appconfig_format import (
    appconfig_definition,
    document_from_definition,
    unencodable_text,
)
from flagkit.publish.impact import Diff, diff_documents

if TYPE_CHECKING:
    from mypy_boto3_appconfig import AppConfigClient

__all__ = ["PushResult", "push"]


@dataclass(frozen=True, slots=True)
class PushResult:
    """What `push` found and did.

    `compared_with` says what the diff is against (`deployed version 3`, `latest
    version 4`, or `nothing` for a profile without versions), `diff` is None when that
    version could not be read as a flag document (`diff_problem` says why).
    `latest_version` is the hosted version the new one was created after (the
    `LatestVersionNumber` lock). `deployed_version` is the version the environment
    serves (or is being deployed), and `unchanged` says the document equals it, as the
    profile holds documents (the feature-flag definition for a feature-flag profile):
    then nothing is created unless `force`. `cancelled` says `confirm` said no.
    `version_number` and `deployment_number` are None when nothing was deployed.
    `content` is what was (or would be) stored; `strategy` how it rolls out.
    """

    target: AppConfigTarget
    strategy: DeploymentStrategy
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
    deployed_version: int | None = None
    unchanged: bool = False
    cancelled: bool = False

    @property
    def strategy_id(self) -> str:
        """The deployment strategy's id."""
        return self.strategy.id

    @property
    def strategy_name(self) -> str:
        """The deployment strategy's name."""
        return self.strategy.name

    @property
    def next_version(self) -> int:
        """The number the version this push creates gets (the one after the latest)."""
        return (self.latest_version or 0) + 1


def push(
    document: Mapping[str, Any],
    *,
    application: str,
    environment: str,
    profile: str,
    strategy: str = DEFAULT_STRATEGY,
    description: str | None = None,
    tenants: Sequence[Tenant] = (),
    dry_run: bool = False,
    force: bool = False,
    content_type: str = "application/json",
    endpoint_url: str | None = None,
    region: str | None = None,
    client: AppConfigClient | None = None,
    on_diff: Callable[[PushResult], None] | None = None,
    confirm: Callable[[PushResult], bool] | None = None,
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
    4. When the document equals the deployed version (compared parsed, in the profile's
       form: a feature-flag profile's definition, attribute constraints included and the
       console's `_createdAt`/`_updatedAt` left out), nothing is created (`unchanged`),
       unless `force`. On a `dry_run` neither.
    5. A deployment in progress in the environment (AppConfig takes one at a time) raises
       `PublishError` before anything is created. `confirm`, when given, sees the result
       so far; unless it returns True nothing is created (`cancelled`).
    6. `create_hosted_configuration_version` with `LatestVersionNumber` set to the latest
       version read, so that of two concurrent pushes the second fails instead of
       overwriting the first; then `start_deployment` of the new version (with
       `LatestDeploymentNumber` where the installed botocore knows it).

    AppConfig errors, unknown names and conflicts raise `PublishError` with a message
    that says what to do. `client` is an `appconfig` boto3 client; without one, one is
    made from `endpoint_url` and `region` (else `AWS_REGION`, else boto3's) and the usual
    AWS credential chain.
    """
    check_document(document)
    unencodable = list(unencodable_text(document))
    if unencodable:
        raise DocumentError(unencodable)
    if client is None:
        client = appconfig_client(endpoint_url, region)
    target = resolve_target(client, application, environment, profile)
    if target.feature_flags:
        payload: Mapping[str, Any] = appconfig_definition(document)
        served: Mapping[str, Any] = document_from_definition(payload)  # as AppConfig keeps it
    else:
        payload = served = document
    content = (json.dumps(payload, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    chosen = resolve_strategy(client, strategy)
    latest = _latest_version(client, target)
    newest, deployed = _deployed_version(client, target)
    latest_deployment = newest.get("DeploymentNumber") if newest else None
    base_version = deployed if deployed is not None else latest
    base: Mapping[str, Any] | None = {}
    problem: str | None = None
    unchanged = False
    if base_version is None:
        compared_with = "nothing (the profile has no version yet)"
    else:
        kind = "deployed" if deployed is not None else "latest"
        compared_with = f"{kind} version {base_version}"
        if deployed is not None and latest is not None and latest != deployed:
            compared_with += f" (the latest version is {latest})"
        stored = read_version(client, target, base_version)
        base, problem = stored.document, stored.problem
        unchanged = deployed is not None and _comparable(stored.parsed) == _comparable(payload)
    diff = diff_documents(base, served, tenants) if base is not None else None
    result = PushResult(
        target=target,
        strategy=chosen,
        compared_with=compared_with,
        diff=diff,
        diff_problem=problem,
        latest_version=latest,
        content=content,
        content_type=content_type,
        dry_run=dry_run,
        deployed_version=deployed,
        unchanged=unchanged,
    )
    if on_diff is not None:
        on_diff(result)
    if dry_run or (unchanged and not force):
        return result
    if newest is not None and newest.get("State") in IN_PROGRESS:
        raise PublishError(_in_progress(newest, target))
    if confirm is not None and not confirm(result):
        return replace(result, cancelled=True)
    version = _create_version(client, target, content, content_type, description, latest)
    deployment = start_deployment(
        client, target, chosen, version, description, latest_deployment, created=True
    )
    return replace(
        result,
        version_number=version,
        deployment_number=deployment.get("DeploymentNumber"),
        deployment_state=deployment.get("State"),
    )


_TIMESTAMPS = frozenset({"_createdAt", "_updatedAt"})
"""What AppConfig's console stamps on the entries of a feature-flag definition it saves."""


def _comparable(parsed: Any) -> Any:
    """A parsed document as `push` compares it with the deployed one: a feature-flag
    definition without the console's timestamps; anything else as it is."""
    if not (isinstance(parsed, Mapping) and parsed.get("version") == "1"):
        return parsed
    comparable = dict(parsed)
    for part in ("flags", "values"):
        entries = parsed.get(part)
        if isinstance(entries, Mapping):
            comparable[part] = {
                key: {k: v for k, v in entry.items() if k not in _TIMESTAMPS}
                if isinstance(entry, Mapping)
                else entry
                for key, entry in entries.items()
            }
    return comparable


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

    return call_appconfig("list_hosted_configuration_versions", about, latest)


def _in_progress(deployment: Mapping[str, Any], target: AppConfigTarget) -> str:
    return (
        f"deployment {deployment.get('DeploymentNumber')} to environment "
        f"{target.environment_name!r} is {deployment.get('State')} "
        f"({float(deployment.get('PercentageComplete', 0.0)):g}% of clients); AppConfig "
        "takes one deployment per environment at a time, so nothing was created or deployed: "
        "wait for it to end, or stop it, then re-run flagkit push"
    )


def _deployed_version(
    client: AppConfigClient, target: AppConfigTarget
) -> tuple[Mapping[str, Any] | None, int | None]:
    """(the environment's newest deployment, the hosted version of this profile it serves).

    Deployments are listed newest first; the first of this profile that was not rolled
    back is what the environment serves (or is being given).
    """

    def live(item: Mapping[str, Any]) -> bool:
        version = str(item.get("ConfigurationVersion", ""))
        return (
            is_of_profile(item, target) and item.get("State") not in NOT_LIVE and version.isdigit()
        )

    deployments = list_deployments(client, target, lambda found: any(map(live, found)))
    latest = deployments[0] if deployments else None
    for item in deployments:
        if live(item):
            return latest, int(str(item["ConfigurationVersion"]))
    return latest, None


def _create_version(
    client: AppConfigClient,
    target: AppConfigTarget,
    content: bytes,
    content_type: str,
    description: str | None,
    latest: int | None,
) -> int:

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

    after = f"version {latest}" if latest is not None else "no version"
    conflict = (
        f"another hosted configuration version of {about} was created since this push read "
        f"the latest one ({after}), so nothing was created or deployed; re-run flagkit push "
        "to review the impact against the new version"
    )

    def create() -> int:
        response = client.create_hosted_configuration_version(**params)
        with response["Content"] as body:  # read and close the echoed content
            body.read()
        return int(response["VersionNumber"])

    return call_appconfig("create_hosted_configuration_version", about, create, conflict=conflict)
