"""Following an AppConfig deployment to its end, and rolling one back.

```
final = follow_deployment(client, target, 7, timeout=600, on_progress=print)
result = rollback(application="shop", environment="prod", profile="flags")
```

`follow_deployment` polls GetDeployment until the deployment is COMPLETE, ROLLED_BACK
or REVERTED (or the time runs out). `rollback` stops the profile's deployment in progress
(StopDeployment) or, when none is, redeploys the version deployed before the one the
environment serves.

boto3 is imported inside the functions that talk to AppConfig, never when this module
or `flagkit` is imported.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flagkit.errors import PublishError
from flagkit.model import Tenant
from flagkit.publish.appconfig_control import (
    DEFAULT_STRATEGY,
    IN_PROGRESS,
    AppConfigTarget,
    DeploymentStrategy,
    appconfig_client,
    call_appconfig,
    is_of_profile,
    knows_member,
    list_deployments,
    read_version,
    resolve_strategy,
    resolve_target,
    start_deployment,
)
from flagkit.publish.impact import Diff, diff_documents

if TYPE_CHECKING:
    from mypy_boto3_appconfig import AppConfigClient

__all__ = [
    "FINAL_STATES",
    "DeploymentProgress",
    "RollbackPlan",
    "RollbackResult",
    "deployment_progress",
    "follow_deployment",
    "rollback",
]

FINAL_STATES = frozenset({"COMPLETE", "ROLLED_BACK", "REVERTED"})
"""The states a deployment ends in."""

_ROLLBACK_EVENTS = frozenset({"ROLLBACK_STARTED", "ROLLBACK_COMPLETED", "REVERT_COMPLETED"})


@dataclass(frozen=True, slots=True)
class DeploymentProgress:
    """Where a deployment is: its state, the percentage of clients that have its version,
    and (once rolled back) what AppConfig's event log says of why."""

    number: int
    version: str
    state: str
    percentage: float
    rollback_reason: str | None = None

    @property
    def finished(self) -> bool:
        """Whether the deployment has ended (COMPLETE, ROLLED_BACK or REVERTED)."""
        return self.state in FINAL_STATES


def deployment_progress(
    client: AppConfigClient, target: AppConfigTarget, number: int
) -> DeploymentProgress:
    """GetDeployment of deployment `number` to `target`'s environment."""
    about = f"deployment {number} to environment {target.environment_name!r}"
    answer = call_appconfig(
        "get_deployment",
        about,
        lambda: client.get_deployment(
            ApplicationId=target.application_id,
            EnvironmentId=target.environment_id,
            DeploymentNumber=number,
        ),
    )
    return _progress(answer, number)


def _progress(answer: Mapping[str, Any], number: int) -> DeploymentProgress:
    events = [e for e in answer.get("EventLog", []) if e.get("EventType") in _ROLLBACK_EVENTS]
    newest = max(events, key=lambda e: e.get("OccurredAt", 0), default=None)
    reason = None
    if newest is not None:
        reason = str(newest.get("Description") or newest.get("TriggeredBy") or "") or None
    return DeploymentProgress(
        number=int(answer.get("DeploymentNumber", number)),
        version=str(answer.get("ConfigurationVersion", "")),
        state=str(answer.get("State", "")),
        percentage=float(answer.get("PercentageComplete", 0.0)),
        rollback_reason=reason,
    )


def follow_deployment(
    client: AppConfigClient,
    target: AppConfigTarget,
    number: int,
    *,
    timeout: float,
    interval: float = 5.0,
    on_progress: Callable[[DeploymentProgress], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> DeploymentProgress:
    """Poll deployment `number` every `interval` seconds until it ends or `timeout` passes.

    `on_progress` sees the first answer and every change of state or percentage. The last
    answer is returned: `finished` is False when the time ran out first.
    """
    deadline = clock() + timeout
    shown: tuple[str, float] | None = None
    while True:
        progress = deployment_progress(client, target, number)
        if on_progress is not None and (progress.state, progress.percentage) != shown:
            on_progress(progress)
        shown = (progress.state, progress.percentage)
        left = deadline - clock()
        if progress.finished or left <= 0:
            return progress
        sleep(min(interval, left))


@dataclass(frozen=True, slots=True)
class RollbackPlan:
    """What `rollback` found and will do.

    `stop` is the profile's deployment in progress, to stop (clients go back to
    `to_version`, the version deployed before it, None when there was none); otherwise
    `to_version` is redeployed with `strategy` over `from_version` (what the environment
    serves, by deployment `from_deployment`). `diff` is from `from_version` to
    `to_version` (None when either cannot be read: `diff_problem` says why).
    """

    target: AppConfigTarget
    stop: DeploymentProgress | None
    from_version: int
    from_deployment: int
    to_version: int | None
    strategy: DeploymentStrategy | None
    diff: Diff | None
    diff_problem: str | None
    latest_deployment: int | None


@dataclass(frozen=True, slots=True)
class RollbackResult:
    """What `rollback` did: `deployment_number` is the stopped deployment, or the new one;
    None (and `cancelled`) when `confirm` said no."""

    plan: RollbackPlan
    cancelled: bool = False
    deployment_number: int | None = None
    deployment_state: str | None = None


def rollback(
    *,
    application: str,
    environment: str,
    profile: str,
    strategy: str = DEFAULT_STRATEGY,
    description: str | None = None,
    tenants: Sequence[Tenant] = (),
    endpoint_url: str | None = None,
    region: str | None = None,
    client: AppConfigClient | None = None,
    on_plan: Callable[[RollbackPlan], None] | None = None,
    confirm: Callable[[RollbackPlan], bool] | None = None,
) -> RollbackResult:
    """Undo the last deployment of `profile` to `environment`.

    The environment's deployments are read, newest first. When this profile's newest
    deployment is in progress (DEPLOYING, BAKING, VALIDATING) it is stopped with
    StopDeployment (`AllowRevert` where botocore knows it, so that a deployment that
    completes meanwhile is reverted): AppConfig hands the clients back the version
    deployed before it. Otherwise the newest COMPLETE deployment is what the environment
    serves, and the version of the COMPLETE deployment before it (the newest with another
    version) is deployed again with `strategy`. `on_plan` sees the plan (with the diff of
    the change for `tenants`) and `confirm` may refuse it, before anything is changed.
    `PublishError` when there is nothing to roll back to, or AppConfig refuses.
    """
    if client is None:
        client = appconfig_client(endpoint_url, region)
    target = resolve_target(client, application, environment, profile)
    deployments = list_deployments(
        client, target, lambda found: _choose(found, target, every=False) is not None
    )
    chosen = _choose(deployments, target, every=True)
    if chosen is None:
        raise PublishError(_nothing_to_roll_back(deployments, target))
    current, previous = chosen
    stop = _progress(current, 0) if current.get("State") in IN_PROGRESS else None
    to_version = _version_of(previous) if previous is not None else None
    from_version = _version_of(current)
    base, problem = _diff(client, target, from_version, to_version, tenants)
    plan = RollbackPlan(
        target=target,
        stop=stop,
        from_version=from_version,
        from_deployment=int(current["DeploymentNumber"]),
        to_version=to_version,
        strategy=resolve_strategy(client, strategy) if stop is None else None,
        diff=base,
        diff_problem=problem,
        latest_deployment=deployments[0].get("DeploymentNumber") if deployments else None,
    )
    if on_plan is not None:
        on_plan(plan)
    if confirm is not None and not confirm(plan):
        return RollbackResult(plan, cancelled=True)
    if stop is not None:
        state = _stop(client, target, stop)
        return RollbackResult(plan, deployment_number=stop.number, deployment_state=state)
    if plan.strategy is None or to_version is None:  # only a stop has neither
        raise PublishError(_nothing_to_roll_back(deployments, target))
    answer = start_deployment(
        client,
        target,
        plan.strategy,
        to_version,
        description or f"flagkit rollback from version {from_version} to {to_version}",
        plan.latest_deployment,
        created=False,
    )
    return RollbackResult(
        plan,
        deployment_number=answer.get("DeploymentNumber"),
        deployment_state=answer.get("State"),
    )


def _version_of(deployment: Mapping[str, Any]) -> int:
    return int(str(deployment.get("ConfigurationVersion", "")))


def _choose(
    deployments: Sequence[Mapping[str, Any]], target: AppConfigTarget, *, every: bool
) -> tuple[Mapping[str, Any], Mapping[str, Any] | None] | None:
    """(the deployment to undo, the one whose version to go back to), or None when there
    is none; `every` says whether `deployments` are all there are (else None also means
    that the ones read so far do not tell yet)."""
    ours = [
        d
        for d in deployments
        if is_of_profile(d, target) and str(d.get("ConfigurationVersion", "")).isdigit()
    ]
    complete = [d for d in ours if d.get("State") == "COMPLETE"]
    if ours and ours[0].get("State") in IN_PROGRESS:
        if complete or every:
            return ours[0], complete[0] if complete else None
        return None
    if not complete:
        return None
    current = complete[0]
    for earlier in complete[1:]:
        if _version_of(earlier) != _version_of(current):
            return current, earlier
    return None


def _nothing_to_roll_back(deployments: Sequence[Mapping[str, Any]], target: AppConfigTarget) -> str:
    where = (
        f"profile {target.profile_name!r} ({target.profile_id}) in environment "
        f"{target.environment_name!r} ({target.environment_id})"
    )
    complete = [d for d in deployments if is_of_profile(d, target) and d.get("State") == "COMPLETE"]
    if not complete:
        return f"nothing to roll back: no deployment of {where} is in progress or complete"
    return (
        f"nothing to roll back to: no deployment of {where} is in progress, and no complete "
        f"deployment before deployment {complete[0].get('DeploymentNumber')} deployed another "
        f"version than {complete[0].get('ConfigurationVersion')}"
    )


def _diff(
    client: AppConfigClient,
    target: AppConfigTarget,
    from_version: int,
    to_version: int | None,
    tenants: Sequence[Tenant],
) -> tuple[Diff | None, str | None]:
    if to_version is None:
        return None, "no version was deployed before it"
    old, new = read_version(client, target, from_version), read_version(client, target, to_version)
    if old.document is None or new.document is None:
        return None, old.problem or new.problem
    return diff_documents(old.document, new.document, tenants), None


def _stop(client: AppConfigClient, target: AppConfigTarget, stop: DeploymentProgress) -> str:
    """StopDeployment; the state AppConfig answers."""
    params: dict[str, Any] = {
        "ApplicationId": target.application_id,
        "EnvironmentId": target.environment_id,
        "DeploymentNumber": stop.number,
    }
    if knows_member(client, "StopDeployment", "AllowRevert"):
        params["AllowRevert"] = True
    about = f"deployment {stop.number} to environment {target.environment_name!r}"
    answer = call_appconfig("stop_deployment", about, lambda: client.stop_deployment(**params))
    return str(answer.get("State", ""))
