"""The loopback AppConfig endpoint the tests start: `flagkit.local_appconfig`, under the
names the tests use (`AppConfigEndpoint`, the operation names, `RequestRecord`).

The Data API, the Agent's HTTP API and what is faithful to AWS and what is guessed are
described in `flagkit.local_appconfig.data_api` and `.agent_api`; `flagkit
appconfig-local` is the command that serves it.
"""

from __future__ import annotations

from flagkit.local_appconfig import (
    AGENT,
    GET_CONFIGURATION,
    START_SESSION,
    UNKNOWN,
    FaultKind,
    Operation,
    RequestRecord,
)
from flagkit.local_appconfig import LocalAppConfig as AppConfigEndpoint
from flagkit.local_appconfig.data_api import DEFAULT_TOKEN_TTL

__all__ = [
    "AGENT",
    "DEFAULT_TOKEN_TTL",
    "GET_CONFIGURATION",
    "START_SESSION",
    "UNKNOWN",
    "AppConfigEndpoint",
    "FaultKind",
    "Operation",
    "RequestRecord",
]
