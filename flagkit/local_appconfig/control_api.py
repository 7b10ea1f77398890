"""The AppConfig control-plane calls `flagkit push`, `pull` and `rollback` make (`appconfig`).

Faithful to the service model botocore ships (`appconfig/2019-10-09`): the paths, the
query names (`max_results`, `next_token`), the header members of the hosted
configuration version operations (`Application-Id`, `Configuration-Profile-Id`,
`Version-Number`, `Content-Type`, `Description`, `Latest-Version-Number`, `VersionLabel`)
with the content as the raw body, the 201 of the create calls, lists newest first where
AWS says so (ListDeployments, ListHostedConfigurationVersions), and errors as botocore
reads them. Served: ListApplications, ListEnvironments, ListConfigurationProfiles,
ListDeploymentStrategies, List/Create/GetHostedConfigurationVersion, ListDeployments,
StartDeployment, GetDeployment and StopDeployment (`Allow-Revert` header, 202).

moto implements applications, profiles and hosted versions, but not environments,
deployment strategies, deployments or the `LatestVersionNumber` lock; this does.

GUESS: ids are made-up 7-character strings; the texts of errors; a stopped deployment is
ROLLED_BACK at once (no ROLLING_BACK in between); predefined strategies have their names
as ids.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flagkit.local_appconfig.deployments import Deployment
from flagkit.local_appconfig.responses import Response, aws_error, json_response
from flagkit.local_appconfig.store import AppConfigApiError, Store

__all__ = ["ControlApi", "Recorded"]

_VERSIONS = "applications/{}/configurationprofiles/{}/hostedconfigurationversions"
_DEPLOYMENTS = "applications/{}/environments/{}/deployments"
_LISTS = frozenset(
    {
        "applications",
        "deploymentstrategies",
        "applications/{}/environments",
        "applications/{}/configurationprofiles",
        _VERSIONS,
    }
)
_ROUTES = frozenset(
    {
        ("GET", "applications"),
        ("GET", "deploymentstrategies"),
        ("GET", "applications/{}/environments"),
        ("GET", "applications/{}/configurationprofiles"),
        ("GET", _VERSIONS),
        ("POST", _VERSIONS),
        ("GET", _VERSIONS + "/{}"),
        ("GET", _DEPLOYMENTS),
        ("POST", _DEPLOYMENTS),
        ("GET", _DEPLOYMENTS + "/{}"),
        ("DELETE", _DEPLOYMENTS + "/{}"),
    }
)


@dataclass(frozen=True)
class Recorded:
    """One control-plane request: method, path (decoded), query, headers, body."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


def _route(path: str) -> tuple[str, list[str]]:
    """(`applications/{}/environments`, [ids]) of a decoded path."""
    parts = path.strip("/").split("/")
    route = "/".join("{}" if index % 2 else part for index, part in enumerate(parts))
    return route, parts[1::2]


class ControlApi:
    """The control-plane operations over `store`.

    Hooks for tests (None or 0 by default): `before_create(app id, profile id)` runs once
    before the next CreateHostedConfigurationVersion (another push winning the race);
    `on_get_deployment(deployment)` runs before each GetDeployment answer (an alarm can
    `roll_back` it there); `advance_on_get_deployment` seconds are added to the clock
    before each GetDeployment, so a test follows a deployment poll by poll.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self.requests: list[Recorded] = []
        self.before_create: Callable[[str, str], object] | None = None
        self.on_get_deployment: Callable[[Deployment], object] | None = None
        self.advance_on_get_deployment = 0.0

    @staticmethod
    def serves(method: str, path: str) -> bool:
        """Whether `method` `path` (decoded) is one of the operations served."""
        return (method, _route(path)[0]) in _ROUTES

    def handle(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: Mapping[str, str],
        body: bytes,
    ) -> Response:
        """The answer to one request (`path` decoded); AppConfig's error when refused.
        Header names are matched without regard to case."""
        self.requests.append(Recorded(method, path, query, dict(headers), body))
        try:
            lowered = {name.lower(): value for name, value in headers.items()}
            with self._store.lock:
                return self._answer(method, path, query, lowered, body)
        except AppConfigApiError as error:
            return aws_error(error)

    def _answer(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: Mapping[str, str],
        body: bytes,
    ) -> Response:
        store = self._store
        route, ids = _route(path)
        if method == "GET" and route in _LISTS:
            return _page(self._list(route, ids), query)
        if (method, route) == ("POST", _VERSIONS):
            if self.before_create is not None:
                racer, self.before_create = self.before_create, None
                racer(ids[0], ids[1])
            latest = headers.get("latest-version-number")
            version = store.create_version(
                ids[0],
                ids[1],
                body,
                headers.get("content-type", ""),
                description=headers.get("description"),
                latest=int(latest) if latest is not None else None,
                label=headers.get("versionlabel"),
            )
            return self._version(ids[0], ids[1], version.number, status=201)
        if (method, route) == ("GET", _VERSIONS + "/{}"):
            return self._version(ids[0], ids[1], int(ids[2]), status=200)
        if (method, route) == ("GET", _DEPLOYMENTS):
            deployments = store.environment(ids[0], ids[1]).deployments
            items = [d.view(store.now(), store.minute, summary=True) for d in reversed(deployments)]
            return _page(items, query)
        if (method, route) == ("POST", _DEPLOYMENTS):
            request = json.loads(body or b"{}")
            deployment = store.start_deployment(
                ids[0],
                ids[1],
                str(request.get("ConfigurationProfileId")),
                str(request.get("ConfigurationVersion")),
                str(request.get("DeploymentStrategyId")),
                description=request.get("Description"),
                latest_deployment=request.get("LatestDeploymentNumber"),
            )
            return self._deployment(201, deployment, at=deployment.started)
        if (method, route) == ("GET", _DEPLOYMENTS + "/{}"):
            store.advance(self.advance_on_get_deployment)
            deployment = store.deployment(*ids)
            if self.on_get_deployment is not None:
                self.on_get_deployment(deployment)
            return self._deployment(200, deployment)
        if (method, route) == ("DELETE", _DEPLOYMENTS + "/{}"):
            deployment = store.deployment(*ids)
            allow_revert = headers.get("allow-revert", "false").lower() == "true"
            store.stop_deployment(deployment, allow_revert)
            return self._deployment(202, deployment)
        raise AppConfigApiError(404, "NotFoundException", f"no route for {method} {path}")

    def _list(self, route: str, ids: list[str]) -> list[dict[str, Any]]:
        store = self._store
        if route == "applications":
            return [{"Id": a.id, "Name": a.name} for a in store.applications.values()]
        if route == "deploymentstrategies":
            return [s.as_item() for s in store.strategies.values()]
        app = store.application(ids[0])
        if route == "applications/{}/environments":
            return [
                {"ApplicationId": app.id, "Id": e.id, "Name": e.name, "State": "ReadyForDeployment"}
                for e in app.environments.values()
            ]
        if route == "applications/{}/configurationprofiles":
            return [
                {
                    "ApplicationId": app.id,
                    "Id": p.id,
                    "Name": p.name,
                    "LocationUri": p.location,
                    "Type": p.type,
                }
                for p in app.profiles.values()
            ]
        profile = store.profile(ids[0], ids[1])
        return [
            {
                "ApplicationId": app.id,
                "ConfigurationProfileId": profile.id,
                "VersionNumber": v.number,
                "ContentType": v.content_type,
            }
            for v in reversed(profile.versions)
        ]

    def _deployment(self, status: int, deployment: Deployment, at: float | None = None) -> Response:
        now = self._store.now() if at is None else at
        return json_response(status, deployment.view(now, self._store.minute))

    def _version(self, app_id: str, profile_id: str, number: int, status: int) -> Response:
        version = self._store.version(self._store.profile(app_id, profile_id), number)
        headers = {
            "Application-Id": app_id,
            "Configuration-Profile-Id": profile_id,
            "Version-Number": str(number),
            "Content-Type": version.content_type,
        }
        if version.description:
            headers["Description"] = version.description
        if version.label is not None:
            headers["VersionLabel"] = version.label
        return Response(status, headers, version.content)


def _page(items: list[dict[str, Any]], query: dict[str, list[str]]) -> Response:
    size = int(query.get("max_results", ["50"])[0])
    start = int(query.get("next_token", ["0"])[0])
    page: dict[str, Any] = {"Items": items[start : start + size]}
    if start + size < len(items):
        page["NextToken"] = str(start + size)
    return json_response(200, page)
