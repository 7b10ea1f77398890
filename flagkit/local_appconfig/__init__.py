"""AWS AppConfig on this machine: `flagkit appconfig-local`, and what tests run against.

```
from flagkit.local_appconfig import LocalAppConfig

with LocalAppConfig(port=2772, poll_interval=1, honour_required_minimum=False) as local:
    local.deploy("shop", "prod", "flags", {"payments": {"enabled": True}})
    ...  # Flags.from_appconfig("shop", "prod", "flags") with AWS_ENDPOINT_URL_APPCONFIGDATA
```

One loopback port serves the AppConfig Data API (`appconfigdata`), the AppConfig Agent's
HTTP API and the control-plane calls `flagkit push`, `pull` and `rollback` make, over one
store, with deployments that progress as their strategy says. moto cannot stand in: it
has no Data API and no deployments. Modules, one job each:

- `store`: applications, environments, profiles, hosted versions, deployments;
- `deployments`: how a deployment progresses and which client gets which version;
- `data_api`, `agent_api`, `control_api`: the three APIs;
- `faults`: injected faults and the request log (for tests);
- `server`: the HTTP server on loopback; `endpoint`: `LocalAppConfig`, all of it together;
- `file_deployer`: deploys flag documents from files, again whenever they change.

Standard library only; boto3 is never imported.
"""

from __future__ import annotations

from flagkit.local_appconfig.endpoint import LocalAppConfig
from flagkit.local_appconfig.faults import (
    AGENT,
    GET_CONFIGURATION,
    START_SESSION,
    UNKNOWN,
    FaultKind,
    Operation,
    RequestRecord,
)
from flagkit.local_appconfig.server import NotLoopbackError
from flagkit.local_appconfig.store import AppConfigApiError

__all__ = [
    "AGENT",
    "GET_CONFIGURATION",
    "START_SESSION",
    "UNKNOWN",
    "AppConfigApiError",
    "FaultKind",
    "LocalAppConfig",
    "NotLoopbackError",
    "Operation",
    "RequestRecord",
]
