"""The AppConfig control plane `flagkit push` and `rollback` talk to in tests:
`flagkit.local_appconfig` (see its `control_api` for what is faithful and what is
guessed), with the set-up helpers the tests use, on ids.

Deployments progress on the endpoint's clock (`clock()` plus what `advance` added; a
strategy minute lasts `minute` seconds of it; `advance_on_get_deployment` moves it before
every GetDeployment, so a test follows a deployment poll by poll without sleeping).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flagkit.local_appconfig import LocalAppConfig
from flagkit.local_appconfig.control_api import Recorded
from flagkit.local_appconfig.deployments import Deployment, Strategy

__all__ = ["AppConfigControlStub", "Recorded"]


class AppConfigControlStub(LocalAppConfig):
    """The local AppConfig at `url`, set up through ids; use it as a context manager."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        minute: float = 60.0,
        advance_on_get_deployment: float = 0.0,
    ) -> None:
        super().__init__(clock=clock, minute=minute)
        self.control.advance_on_get_deployment = advance_on_get_deployment

    @property
    def requests(self) -> list[Recorded]:  # type: ignore[override]
        """Every control-plane request answered, oldest first."""
        return self.control.requests

    @property
    def before_create(self) -> Callable[[str, str], object] | None:
        """See `ControlApi.before_create`."""
        return self.control.before_create

    @before_create.setter
    def before_create(self, hook: Callable[[str, str], object] | None) -> None:
        self.control.before_create = hook

    @property
    def on_get_deployment(self) -> Callable[[Deployment], object] | None:
        """See `ControlApi.on_get_deployment`."""
        return self.control.on_get_deployment

    @on_get_deployment.setter
    def on_get_deployment(self, hook: Callable[[Deployment], object] | None) -> None:
        self.control.on_get_deployment = hook

    @property
    def advance_on_get_deployment(self) -> float:
        """See `ControlApi.advance_on_get_deployment`."""
        return self.control.advance_on_get_deployment

    @advance_on_get_deployment.setter
    def advance_on_get_deployment(self, seconds: float) -> None:
        self.control.advance_on_get_deployment = seconds

    @property
    def minute(self) -> float:
        """Seconds of the clock a strategy minute lasts."""
        return self.store.minute

    # -- set-up, by id ----------------------------------------------------------------------

    def add_application(self, name: str) -> str:
        """A new application; its id."""
        return self.store.add_application(name).id

    def add_environment(self, app_id: str, name: str) -> str:
        """A new environment of `app_id`; its id."""
        return self.store.add_environment(self.store.application(app_id), name).id

    def add_profile(
        self, app_id: str, name: str, kind: str = "AWS.Freeform", location: str = "hosted"
    ) -> str:
        """A new configuration profile of `app_id`; its id."""
        return self.store.add_profile(self.store.application(app_id), name, kind, location).id

    def add_strategy(
        self,
        name: str,
        *,
        duration: int = 0,
        growth: float = 100.0,
        growth_type: str = "LINEAR",
        bake: int = 0,
    ) -> str:
        """A new deployment strategy (minutes, percent); its id."""
        strategy_id = self.store.new_id("dst")
        self.store.add_strategy(Strategy(strategy_id, name, duration, growth, growth_type, bake))
        return strategy_id

    def roll_back(self, deployment: Deployment, triggered_by: str = "CLOUDWATCH_ALARM") -> None:
        """End `deployment` as ROLLED_BACK now, as an alarm (or a user) would."""
        self.store.roll_back(deployment, triggered_by)

    def add_version(self, app_id: str, profile_id: str, content: bytes) -> int:
        """A new hosted configuration version (application/json); its number."""
        return self.store.create_version(app_id, profile_id, content, "application/json").number

    def add_deployment(
        self, app_id: str, env_id: str, profile_id: str, version: int, state: str = "COMPLETE"
    ) -> int:
        """A deployment of `version` that is COMPLETE (or ROLLED_BACK, or DEPLOYING: with
        AppConfig.Linear20PercentEvery6Minutes, just started); its number."""
        strategy = "AppConfig.Linear20PercentEvery6Minutes" if state == "DEPLOYING" else None
        deployment = self.store.start_deployment(
            app_id, env_id, profile_id, str(version), strategy or "AppConfig.AllAtOnce"
        )
        if state != "DEPLOYING":
            deployment.started -= 24 * 60 * self.store.minute  # long over
        if state in ("ROLLED_BACK", "REVERTED"):
            deployment.end(state, deployment.started, "USER")
        return deployment.number

    def versions(self, app_id: str, profile_id: str) -> list[tuple[int, bytes, str]]:
        """(number, content, content type) of every hosted version, oldest first."""
        profile = self.store.profile(app_id, profile_id)
        return [(v.number, v.content, v.content_type) for v in profile.versions]

    def deployments(self, app_id: str, env_id: str) -> list[dict[str, Any]]:
        """Every deployment to `env_id` as GetDeployment answers it now, oldest first."""
        store = self.store
        return [
            d.view(store.now(), store.minute) for d in store.environment(app_id, env_id).deployments
        ]
