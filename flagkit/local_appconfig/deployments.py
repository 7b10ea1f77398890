"""How an AppConfig deployment progresses, and which version each polling client gets.

A deployment follows its strategy: DEPLOYING while the percentage of clients that have
the version grows (LINEAR: `GrowthFactor` more per step; EXPONENTIAL: `GrowthFactor`
doubled per step) over `DeploymentDurationInMinutes`, then BAKING for
`FinalBakeTimeInMinutes`, then COMPLETE. StopDeployment (or an alarm) ends one in
progress as ROLLED_BACK; StopDeployment with `AllowRevert` ends a COMPLETE one as
REVERTED. Times are the store's clock in seconds; `minute` says how many of them a
strategy minute lasts: 60 for the real thing, less to rehearse a 20-minute canary in a
blink.

While a deployment is DEPLOYING at P%, a client whose position (drawn once per
configuration session, in [0, 100)) is below P gets its version and the others keep the
version deployed before it; BAKING and COMPLETE give every client the version; a
ROLLED_BACK or REVERTED deployment gives every client the version before it again
(`served_version`).

GUESS: AppConfig documents the growth types and states, not the exact step timing; here
a deployment is DEPLOYING at 0% the instant it starts (StartDeployment's answer), and the
N steps a strategy needs to reach 100% are spread evenly over its duration, the first
right after the start. Event descriptions are invented; their types and `TriggeredBy` are the
model's enums.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flagkit.publish.appconfig_control import IN_PROGRESS
from flagkit.publish.appconfig_control import PREDEFINED_STRATEGIES as PREDEFINED

__all__ = [
    "IMMEDIATE",
    "IN_PROGRESS",
    "PREDEFINED_STRATEGIES",
    "Deployment",
    "Strategy",
    "served_version",
]


@dataclass(frozen=True)
class Strategy:
    """A deployment strategy as ListDeploymentStrategies answers it."""

    id: str
    name: str
    duration: int = 0
    growth: float = 100.0
    growth_type: str = "LINEAR"
    bake: int = 0

    def as_item(self) -> dict[str, Any]:
        """The `DeploymentStrategy` shape."""
        return {
            "Id": self.id,
            "Name": self.name,
            "DeploymentDurationInMinutes": self.duration,
            "GrowthType": self.growth_type,
            "GrowthFactor": self.growth,
            "FinalBakeTimeInMinutes": self.bake,
            "ReplicateTo": "NONE",
        }

    def steps(self) -> list[float]:
        """The percentage of clients after each step, ending at 100."""
        found: list[float] = []
        step = 0
        while not found or found[-1] < 100:
            grown = (
                self.growth * (step + 1) if self.growth_type == "LINEAR" else self.growth * 2**step
            )
            found.append(min(100.0, grown))
            step += 1
        return found


PREDEFINED_STRATEGIES = tuple(
    Strategy(
        known.id,
        known.name,
        known.duration_minutes,
        known.growth_factor,
        known.growth_type,
        known.bake_minutes,
    )
    for known in PREDEFINED.values()
)
"""AppConfig's predefined strategies, with the growth and times AWS documents."""

IMMEDIATE = Strategy("flagkit-local-immediate", "flagkit-local-immediate", 0, 100, "LINEAR", 0)
"""Every client at once, no bake: COMPLETE as soon as it started. How the local AppConfig
deploys the files it watches (and what `--strategy flagkit-local-immediate` picks, so a
rehearsal can push again at once); AppConfig has no such predefined strategy."""


@dataclass
class Deployment:
    """One deployment to an environment; `view(now, minute)` is what the API answers."""

    application_id: str
    environment_id: str
    number: int
    profile_id: str
    profile_name: str
    location: str
    version: str
    strategy: Strategy
    started: float
    description: str | None = None
    ended: tuple[str, float, str, str] | None = None
    """(final state, when, event type, triggered by) once stopped, rolled back or reverted."""
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def progress(self, now: float, minute: float) -> tuple[str, float]:
        """(state, percentage complete) at `now`."""
        if self.ended is not None and now >= self.ended[1]:
            state = self.ended[0]
            return state, 0.0 if state == "ROLLED_BACK" else 100.0
        elapsed = now - self.started
        duration = self.strategy.duration * minute
        if elapsed <= 0:
            return "DEPLOYING", 0.0  # what StartDeployment answers
        if elapsed < duration:
            steps = self.strategy.steps()
            return "DEPLOYING", steps[min(len(steps) - 1, int(elapsed * len(steps) / duration))]
        if elapsed < duration + self.strategy.bake * minute:
            return "BAKING", 100.0
        return "COMPLETE", 100.0

    def end(self, state: str, now: float, triggered_by: str) -> None:
        """Stop it as `state` (ROLLED_BACK, REVERTED) from `now` on."""
        kind = "REVERT_COMPLETED" if state == "REVERTED" else "ROLLBACK_COMPLETED"
        self.ended = (state, now, kind, triggered_by)

    def view(self, now: float, minute: float, *, summary: bool = False) -> dict[str, Any]:
        """The `Deployment` shape (GetDeployment, StartDeployment, StopDeployment), or the
        `DeploymentSummary` shape of ListDeployments."""
        state, percentage = self.progress(now, minute)
        answer: dict[str, Any] = {
            "DeploymentNumber": self.number,
            "ConfigurationProfileId": self.profile_id,
            "ConfigurationName": self.profile_name,
            "ConfigurationVersion": self.version,
            "DeploymentDurationInMinutes": self.strategy.duration,
            "GrowthType": self.strategy.growth_type,
            "GrowthFactor": self.strategy.growth,
            "FinalBakeTimeInMinutes": self.strategy.bake,
            "State": state,
            "PercentageComplete": percentage,
            "StartedAt": self._wall(self.started, now).isoformat(),
        }
        if state not in IN_PROGRESS:
            ended = self.ended[1] if self.ended is not None else now
            answer["CompletedAt"] = self._wall(ended, now).isoformat()
        if summary:
            return answer
        return {
            "ApplicationId": self.application_id,
            "EnvironmentId": self.environment_id,
            "DeploymentStrategyId": self.strategy.id,
            "ConfigurationLocationUri": self.location,
            **({"Description": self.description} if self.description else {}),
            **answer,
            "EventLog": self._events(now, minute),
        }

    def _wall(self, when: float, now: float) -> datetime:
        return self.started_at + timedelta(seconds=min(when, now) - self.started)

    def _events(self, now: float, minute: float) -> list[dict[str, Any]]:
        """The event log, newest first (as the console shows it)."""
        start = self.started
        events = [("DEPLOYMENT_STARTED", "USER", start, "Deployment started")]
        duration = self.strategy.duration * minute
        steps = self.strategy.steps() if duration else [100.0]
        for index, percentage in enumerate(steps):
            at = start + duration * index / len(steps)
            events.append(
                ("PERCENTAGE_UPDATED", "APPCONFIG", at, f"Deployed to {percentage:g}% of clients")
            )
        events.append(("BAKE_TIME_STARTED", "APPCONFIG", start + duration, "Bake time started"))
        done = start + duration + self.strategy.bake * minute
        events.append(("DEPLOYMENT_COMPLETED", "APPCONFIG", done, "Deployment completed"))
        if self.ended is not None:
            state, at, kind, by = self.ended
            events = [event for event in events if event[2] < at]
            what = "reverted" if state == "REVERTED" else "rolled back"
            events.append((kind, by, at, f"Deployment {what} ({by.lower()})"))
        shown = [event for event in events if event[2] <= now]
        return [
            {
                "EventType": kind,
                "TriggeredBy": by,
                "Description": text,
                "OccurredAt": self._wall(at, now).isoformat(),
            }
            for kind, by, at, text in sorted(shown, key=lambda event: event[2], reverse=True)
        ]


def served_version(
    deployments: list[Deployment], profile_id: str, position: float, now: float, minute: float
) -> str | None:
    """The version of `profile_id` a client at `position` (0 <= position < 100) gets at `now`
    from an environment's `deployments` (oldest first); None when none has reached it."""
    served = None
    for deployment in deployments:
        if deployment.profile_id != profile_id:
            continue
        state, percentage = deployment.progress(now, minute)
        if state in ("ROLLED_BACK", "REVERTED"):
            continue
        if state in ("DEPLOYING", "VALIDATING") and position >= percentage:
            continue
        served = deployment.version
    return served
