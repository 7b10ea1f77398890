"""A protocol-faithful AWS AppConfig endpoint served on loopback, for tests and local development.

moto does not implement the AppConfig *Data* API (``appconfigdata``), so flagkit's tests point a
real boto3 ``appconfigdata`` client at this server with ``endpoint_url=endpoint.url``, and talk to
its AppConfig-Agent-style path with plain HTTP.  Standard library only.

Faithful (taken from the service model botocore ships, ``appconfigdata/2021-11-11``, and from how
botocore's rest-json parser reads responses, so that boto3 raises its modeled exceptions):

* ``POST /configurationsessions`` (StartConfigurationSession) answers ``201`` with the JSON body
  ``{"InitialConfigurationToken": ...}``; the identifiers may be names or ids, unknown ones answer
  ``404 ResourceNotFoundException`` with ``Message``, ``ResourceType`` and ``ReferencedBy``;
  ``RequiredMinimumPollIntervalInSeconds`` must lie in 15..86400 (the model's
  ``OptionalPollSeconds``).
* ``GET /configuration?configuration_token=...`` (GetLatestConfiguration) answers ``200`` with the
  headers ``Next-Poll-Configuration-Token``, ``Next-Poll-Interval-In-Seconds``, ``Content-Type``
  and ``Version-Label`` and the raw configuration as the body.  The body is empty, and
  ``Version-Label`` is empty, when this session already received the deployed version (model
  documentation of ``Configuration`` and ``VersionLabel``).
* Tokens are single-use, valid for ``token_ttl`` (24 h, as the model documents), and are opaque
  base64 text (with ``+``, ``/`` and ``=``, so clients must URL-encode them, as with AWS).
* Errors carry the ``x-amzn-ErrorType`` header (what botocore's ``RestJSONParser`` reads first
  for the error code), an ``x-amzn-RequestId`` header, and a JSON body with the modeled members:
  ``BadRequestException`` (400: ``Message``, ``Reason`` = ``InvalidParameters``,
  ``Details.InvalidParameters.ConfigurationToken.Problem`` in ``Corrupted`` / ``Expired`` /
  ``PollIntervalNotSatisfied``), ``ResourceNotFoundException`` (404), ``ThrottlingException``
  (429) and ``InternalServerException`` (500).  boto3 therefore raises
  ``client.exceptions.BadRequestException`` etc. with ``e.response["Error"]["Code"]`` and the
  modeled members (``e.response["Details"]``, ``e.response["ResourceType"]``, ...) filled in.
* The Agent path ``GET /applications/{app}/environments/{env}/configurations/{profile}`` answers
  with the latest deployed content, its ``Content-Type`` and a ``Configuration-Version`` header;
  with ``agent_token`` set it wants ``Authorization: Bearer <token>`` (the agent's
  ``ACCESS_TOKEN`` setting).  Its errors are plain-text bodies with the statuses the agent's
  OpenAPI document lists (400, 404, 500, 502, 504).

Simplified or guessed (each spot is marked ``GUESS`` in the code):

* There is no SigV4 check: any ``Authorization`` header, or none, is accepted on the data plane.
* Deployments are instantaneous: no deployment strategies, bake time or gradual rollout, no
  validators, no rollback; ``deploy`` makes a new hosted version and deploys it at once.
* The exact ``Message`` texts are invented; AWS's wording is not documented.
* Reusing a token answers ``400`` ``Corrupted``.  AWS documents only that a token "is only valid
  for one call" and "should only be used once"; it documents no error for a reused token.
  ``strict_tokens=False`` makes reuse succeed instead (the other plausible behaviour).
* A session whose ``RequiredMinimumPollIntervalInSeconds`` is set is always held to it (older AWS
  SDK docs: "the service will throw a BadRequestException if the client polls before the specified
  poll interval. By default, client poll intervals are not enforced").  ``enforce_poll_interval``
  additionally holds every session to the advertised ``Next-Poll-Interval-In-Seconds``.  A call
  refused for its poll interval does not use up the token.
* A profile that exists (``create``) but has no deployment in the environment: the session
  starts, and GetLatestConfiguration answers ``404`` with ``ResourceType`` ``Deployment``.
* An empty (already-current) response still carries the deployed ``Content-Type``.
* The agent's version header is sent as ``Configuration-Version: <version number>`` (the OpenAPI
  document names it ``ConfigurationVersion``; hyphenated here like every other AppConfig header).
  Its error bodies use ``Content-Type: application/text`` as that document says, and ``401`` is
  the status used for a missing or wrong bearer token (undocumented).
* The agent's ``?flag=`` feature-flag filtering, caching, polling and prefetching are not modelled:
  it serves whatever is deployed right now.

Run it in the foreground for local development (Ctrl-C stops it)::

    python -m tests.appconfig_endpoint --port 2772 --deploy APP/ENV/PROFILE=path/to/flags.json
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import secrets
import signal
import socket
import socketserver
import string
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal, NamedTuple, cast, get_args
from urllib.parse import parse_qs, quote, unquote, urlsplit

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

START_SESSION: Final = "StartConfigurationSession"
GET_CONFIGURATION: Final = "GetLatestConfiguration"
AGENT: Final = "Agent"
# Requests that match no route are logged under this name.
UNKNOWN: Final = "Unknown"

Operation = Literal["StartConfigurationSession", "GetLatestConfiguration", "Agent"]
FaultKind = Literal["throttle", "internal", "drop", "delay", "hold"]

DEFAULT_TOKEN_TTL: Final = 24 * 60 * 60.0
# OptionalPollSeconds in the service model.
MIN_REQUIRED_POLL: Final = 15
MAX_REQUIRED_POLL: Final = 86400
# Identifier: min 1, max 128 in the service model.
MAX_IDENTIFIER: Final = 128

_AGENT_PREFIX: Final = "/applications/"
_ID_ALPHABET: Final = string.ascii_lowercase + string.digits


class RequestRecord(NamedTuple):
    """One answered (or dropped) request: what the log in ``AppConfigEndpoint.requests`` holds."""

    operation: str
    # None when the connection was dropped without a response.
    status: int | None
    # The configuration token a GetLatestConfiguration call presented; None for other calls.
    token: str | None
    # The endpoint's clock (see ``advance``) when the request was answered.
    time: float


@dataclass
class _Version:
    number: int
    content: bytes
    content_type: str
    label: str
    send_label: bool


@dataclass
class _Profile:
    name: str
    id: str
    versions: list[_Version] = field(default_factory=list)


@dataclass
class _Environment:
    name: str
    id: str


@dataclass
class _Application:
    name: str
    id: str
    environments: dict[str, _Environment] = field(default_factory=dict)
    profiles: dict[str, _Profile] = field(default_factory=dict)


@dataclass
class _Session:
    application: _Application
    environment: _Environment
    profile: _Profile
    required_minimum: int | None
    # Version number this session last received a body for.
    last_version: int | None = None


@dataclass
class _Token:
    session: _Session
    issued_at: float
    # The Next-Poll-Interval-In-Seconds sent with this token; None for an initial token.
    advertised_interval: int | None
    used: bool = False


@dataclass
class _Fault:
    kind: FaultKind
    operation: str | None
    seconds: float
    # None: stays until clear_faults().
    remaining: int | None


@dataclass
class _Response:
    status: int
    headers: dict[str, str]
    body: bytes = b""


class _NotFound(Exception):
    def __init__(self, resource_type: str, parameter: str, identifier: str) -> None:
        super().__init__(f"{resource_type} {identifier!r} could not be found.")
        self.resource_type = resource_type
        self.parameter = parameter
        self.identifier = identifier


def _new_id() -> str:
    # AppConfig ids are 4-7 lowercase letters and digits (e.g. "abc1234").
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(7))


def _new_token() -> str:
    # GUESS: AWS tokens are long opaque base64 strings.  97 random bytes give 132 characters that
    # usually contain "+" and "/" and always end in "==", so clients must URL-encode them.
    return base64.b64encode(secrets.token_bytes(97)).decode("ascii")


def _find(items: dict[str, Any], identifier: str) -> Any:
    """An item by name, or by id (AppConfig accepts either)."""
    found = items.get(identifier)
    if found is not None:
        return found
    for item in items.values():
        if item.id == identifier:
            return item
    return None


def _aws_error(status: int, code: str, message: str, **members: Any) -> _Response:
    body = {"Message": message, **members}
    return _Response(
        status,
        {
            "Content-Type": "application/json",
            # botocore's RestJSONParser takes the code from this header before the body's
            # "code"/"__type"; anything after a ":" would be dropped (AWS sometimes appends a
            # namespace URI there).
            "x-amzn-ErrorType": code,
        },
        json.dumps(body).encode(),
    )


def _bad_token(problem: str, message: str) -> _Response:
    return _aws_error(
        400,
        "BadRequestException",
        message,
        Reason="InvalidParameters",
        Details={"InvalidParameters": {"ConfigurationToken": {"Problem": problem}}},
    )


def _bad_request(message: str) -> _Response:
    # GUESS: the model's InvalidParameterProblem enum only covers the token, so other invalid
    # input gets Message and Reason without Details.
    return _aws_error(400, "BadRequestException", message, Reason="InvalidParameters")


def _not_found(error: _NotFound) -> _Response:
    return _aws_error(
        404,
        "ResourceNotFoundException",
        str(error),
        ResourceType=error.resource_type,
        ReferencedBy={error.parameter: error.identifier},
    )


def _agent_error(status: int, text: str) -> _Response:
    # The agent's OpenAPI document gives its error bodies as content "application/text".
    return _Response(status, {"Content-Type": "application/text"}, text.encode())


class AppConfigEndpoint:
    """AppConfig Data API and AppConfig Agent HTTP API on ``127.0.0.1``, served from a thread.

    Use it as a context manager (or call ``close()``)::

        with AppConfigEndpoint(poll_interval=1) as endpoint:
            endpoint.deploy("app", "prod", "flags", {"flags": {}})
            client = boto3.client("appconfigdata", endpoint_url=endpoint.url, ...)

    Publishing: ``deploy`` makes a new version of a profile and deploys it to an environment at
    once, creating the application, environment and profile on first use; ``create`` makes them
    exist without any deployment.  Names or the generated ids (``resource_ids``) both identify them.

    Knobs (plain attributes, may be changed at any time): ``poll_interval`` (the advertised
    ``Next-Poll-Interval-In-Seconds``, raised to a session's
    ``RequiredMinimumPollIntervalInSeconds``), ``token_ttl``, ``enforce_poll_interval``,
    ``strict_tokens`` (a reused token answers 400 ``Corrupted``), ``agent_token``,
    ``honour_required_minimum`` (False: ignore sessions' required minimum, for fast tests).

    Time: the endpoint reads ``clock()`` (default ``time.monotonic``) plus whatever ``advance``
    added, so tests expire tokens and satisfy poll intervals without sleeping.

    Faults: ``fail_next`` (the next ``count`` matching requests) and ``set_fault`` (every matching
    request until ``clear_faults``), optionally for one ``operation`` only (``START_SESSION``,
    ``GET_CONFIGURATION``, ``AGENT``).  Kinds: ``"throttle"`` (429 ThrottlingException; the agent
    answers 502, as an agent whose upstream call failed would - GUESS), ``"internal"`` (500
    InternalServerException), ``"drop"`` (the connection is closed without any response),
    ``"delay"`` (wait ``seconds``, then answer normally) and ``"hold"`` (wait until ``release()``,
    then answer normally: ``wait_for_held`` tells a test that a request is in flight, with no
    guessing at durations).  A delayed or held request is answered with what is deployed when
    the wait ends; the endpoint closing ends every wait without an answer.

    Observation: ``requests`` (a copy of the log of ``RequestRecord``), ``counts`` and
    ``count(operation)``, and ``wait_for_requests``, which blocks on a condition variable until
    enough requests were answered.  A request is logged just before its response is written (or
    its connection dropped), so once a client has its answer, the log has its request.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        poll_interval: int = 60,
        token_ttl: float = DEFAULT_TOKEN_TTL,
        enforce_poll_interval: bool = False,
        strict_tokens: bool = True,
        agent_token: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        verbose: bool = False,
        honour_required_minimum: bool = True,
    ) -> None:
        self.poll_interval = poll_interval
        # False lets a test advertise a short poll interval to a client that (like flagkit)
        # always asks for AppConfig's 15-second minimum, so it need not sleep 15 s a poll.
        self.honour_required_minimum = honour_required_minimum
        self.token_ttl = token_ttl
        self.enforce_poll_interval = enforce_poll_interval
        self.strict_tokens = strict_tokens
        self.agent_token = agent_token
        self.verbose = verbose
        self._clock = clock
        self._offset = 0.0
        self._cond = threading.Condition()
        self._applications: dict[str, _Application] = {}
        # (application id, environment id, profile id) -> deployed version
        self._deployments: dict[tuple[str, str, str], _Version] = {}
        self._tokens: dict[str, _Token] = {}
        self._one_shot: list[_Fault] = []
        self._persistent: list[_Fault] = []
        self._log: list[RequestRecord] = []
        self._counts: dict[str, int] = {}
        self._held = 0  # requests waiting in a "hold" fault now
        self._releases = 0  # how many times release() was called
        self._closing = threading.Event()
        self._closed = False
        self._server = _Server(("127.0.0.1", port), _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"appconfig-endpoint-{self.port}",
            daemon=True,
        )
        self._thread.start()

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def agent_url(self, application: str, environment: str, profile: str) -> str:
        """The Agent-style URL of a configuration (identifiers percent-encoded)."""
        app, env, prof = (quote(name, safe="") for name in (application, environment, profile))
        return f"{self.url}/applications/{app}/environments/{env}/configurations/{prof}"

    def __enter__(self) -> AppConfigEndpoint:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving, cut open connections, join every thread, close the listening socket."""
        if self._closed:
            return
        self._closed = True
        self._closing.set()  # wakes handlers waiting in a "delay" fault
        with self._cond:
            self._cond.notify_all()  # and those waiting in a "hold" fault
        self._server.shutdown()  # returns once serve_forever has stopped
        self._thread.join()
        self._server.close_connections()
        self._server.server_close()

    # -- publishing ------------------------------------------------------------------------

    def create(
        self, application: str, environment: str | None = None, profile: str | None = None
    ) -> None:
        """Make an application (and an environment and profile in it) exist, deploying nothing."""
        with self._cond:
            self._ensure(application, environment, profile)

    def deploy(
        self,
        application: str,
        environment: str,
        profile: str,
        content: bytes | str | dict[str, Any],
        *,
        content_type: str = "application/json",
        version_label: str | None = None,
        send_version_label: bool = True,
    ) -> int:
        """Publish a new version of ``profile`` and deploy it to ``environment``; its number.

        Version numbers count per profile, from 1, as hosted configuration versions do.
        ``version_label`` defaults to the number as text; ``""`` sends an empty ``Version-Label``
        header and ``send_version_label=False`` sends none at all (AWS omits it for
        configurations that are not hosted versions).
        """
        if isinstance(content, dict):
            data = json.dumps(content).encode()
        elif isinstance(content, str):
            data = content.encode()
        else:
            data = bytes(content)
        with self._cond:
            app, env, prof = self._ensure(application, environment, profile)
            assert env is not None
            assert prof is not None
            number = len(prof.versions) + 1
            version = _Version(
                number=number,
                content=data,
                content_type=content_type,
                label=str(number) if version_label is None else version_label,
                send_label=send_version_label,
            )
            prof.versions.append(version)
            self._deployments[(app.id, env.id, prof.id)] = version
            return number

    def resource_ids(
        self, application: str, environment: str, profile: str
    ) -> tuple[str, str, str]:
        """The generated ids of an application, environment and profile (usable as identifiers)."""
        with self._cond:
            app = self._applications[application]
            return (app.id, app.environments[environment].id, app.profiles[profile].id)

    def _ensure(
        self, application: str, environment: str | None, profile: str | None
    ) -> tuple[_Application, _Environment | None, _Profile | None]:
        for name in (application, environment, profile):
            if name is not None and not 1 <= len(name) <= MAX_IDENTIFIER:
                raise ValueError(f"identifiers are 1 to {MAX_IDENTIFIER} characters: {name!r}")
        app = self._applications.get(application)
        if app is None:
            app = self._applications[application] = _Application(application, _new_id())
        env = prof = None
        if environment is not None:
            env = app.environments.get(environment)
            if env is None:
                env = app.environments[environment] = _Environment(environment, _new_id())
        if profile is not None:
            prof = app.profiles.get(profile)
            if prof is None:
                prof = app.profiles[profile] = _Profile(profile, _new_id())
        return app, env, prof

    def _resolve(
        self, application: str, environment: str, profile: str
    ) -> tuple[_Application, _Environment, _Profile]:
        app = cast(_Application | None, _find(self._applications, application))
        if app is None:
            raise _NotFound("Application", "ApplicationIdentifier", application)
        env = cast(_Environment | None, _find(app.environments, environment))
        if env is None:
            raise _NotFound("Environment", "EnvironmentIdentifier", environment)
        prof = cast(_Profile | None, _find(app.profiles, profile))
        if prof is None:
            raise _NotFound("ConfigurationProfile", "ConfigurationProfileIdentifier", profile)
        return app, env, prof

    def issued_tokens(self) -> list[str]:
        """Every configuration token this endpoint has handed out, used or not."""
        with self._cond:
            return list(self._tokens)

    # -- clock -----------------------------------------------------------------------------

    def now(self) -> float:
        return self._clock() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the endpoint's clock forward (tokens age, poll intervals pass)."""
        with self._cond:
            self._offset += seconds

    # -- faults ----------------------------------------------------------------------------

    def fail_next(
        self,
        kind: FaultKind,
        count: int = 1,
        *,
        operation: Operation | None = None,
        seconds: float = 1.0,
    ) -> None:
        """Make the next ``count`` requests (of ``operation``, or of any) fail with ``kind``."""
        self._check_fault(kind, operation)
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._cond:
            self._one_shot.append(_Fault(kind, operation, seconds, count))

    def set_fault(
        self, kind: FaultKind, *, operation: Operation | None = None, seconds: float = 1.0
    ) -> None:
        """Make every request (of ``operation``, or of any) fail with ``kind`` until cleared."""
        self._check_fault(kind, operation)
        with self._cond:
            self._persistent.append(_Fault(kind, operation, seconds, None))

    def clear_faults(self) -> None:
        with self._cond:
            self._one_shot.clear()
            self._persistent.clear()

    def wait_for_held(self, count: int = 1, timeout: float = 5.0) -> bool:
        """Block until ``count`` requests are waiting in a ``"hold"`` fault; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._held >= count, timeout)

    def release(self) -> None:
        """Let every request waiting in a ``"hold"`` fault now go on and be answered."""
        with self._cond:
            self._releases += 1
            self._cond.notify_all()

    def _hold(self) -> bool:
        """Wait in a ``"hold"`` fault until ``release()``; False when the endpoint closes first."""
        with self._cond:
            released = self._releases
            self._held += 1
            self._cond.notify_all()
            try:
                self._cond.wait_for(lambda: self._releases != released or self._closing.is_set())
            finally:
                self._held -= 1
            return not self._closing.is_set()

    @staticmethod
    def _check_fault(kind: str, operation: str | None) -> None:
        if kind not in get_args(FaultKind):
            raise ValueError(f"unknown fault kind {kind!r}; one of {get_args(FaultKind)}")
        if operation is not None and operation not in get_args(Operation):
            raise ValueError(f"unknown operation {operation!r}; one of {get_args(Operation)}")

    def _take_fault(self, operation: str) -> _Fault | None:
        with self._cond:
            for fault in self._one_shot:
                if fault.operation in (None, operation):
                    assert fault.remaining is not None
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._one_shot.remove(fault)
                    return fault
            for fault in self._persistent:
                if fault.operation in (None, operation):
                    return fault
        return None

    # -- observation -----------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """A copy of the request log, oldest first."""
        with self._cond:
            return list(self._log)

    @property
    def counts(self) -> dict[str, int]:
        """Requests answered (or dropped) so far, per operation."""
        with self._cond:
            return dict(self._counts)

    def count(self, operation: str) -> int:
        with self._cond:
            return self._counts.get(operation, 0)

    def wait_for_requests(
        self, operation: str | None = None, count: int = 1, timeout: float = 5.0
    ) -> bool:
        """Block until ``count`` requests of ``operation`` (any, if None) were logged in total.

        Counts every request since the endpoint started, not only new ones.  False on timeout.
        """

        def enough() -> bool:
            seen = len(self._log) if operation is None else self._counts.get(operation, 0)
            return seen >= count

        with self._cond:
            return self._cond.wait_for(enough, timeout)

    def _record(self, operation: str, status: int | None, token: str | None) -> None:
        with self._cond:
            self._log.append(RequestRecord(operation, status, token, self.now()))
            self._counts[operation] = self._counts.get(operation, 0) + 1
            self._cond.notify_all()

    # -- request handling (called from handler threads) -------------------------------------

    def _start_session(self, body: bytes) -> _Response:
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return _bad_request("The request body is not valid JSON.")
        if not isinstance(request, dict):
            return _bad_request("The request body must be a JSON object.")
        identifiers = []
        for member in (
            "ApplicationIdentifier",
            "EnvironmentIdentifier",
            "ConfigurationProfileIdentifier",
        ):
            value = request.get(member)
            if not isinstance(value, str) or not 1 <= len(value) <= MAX_IDENTIFIER:
                return _bad_request(
                    f"{member} must be a string of 1 to {MAX_IDENTIFIER} characters."
                )
            identifiers.append(value)
        required = request.get("RequiredMinimumPollIntervalInSeconds")
        if required is not None and (
            not isinstance(required, int)
            or isinstance(required, bool)
            or not MIN_REQUIRED_POLL <= required <= MAX_REQUIRED_POLL
        ):
            return _bad_request(
                "RequiredMinimumPollIntervalInSeconds must be an integer from "
                f"{MIN_REQUIRED_POLL} to {MAX_REQUIRED_POLL}."
            )
        with self._cond:
            try:
                app, env, prof = self._resolve(*identifiers)
            except _NotFound as error:
                return _not_found(error)
            session = _Session(app, env, prof, required)
            token = _new_token()
            self._tokens[token] = _Token(session, self.now(), advertised_interval=None)
        return _Response(
            201,
            {"Content-Type": "application/json"},
            json.dumps({"InitialConfigurationToken": token}).encode(),
        )

    def _get_configuration(self, token: str | None) -> _Response:
        if not token:
            return _bad_request("ConfigurationToken is required.")
        with self._cond:
            now = self.now()
            record = self._tokens.get(token)
            if record is None:
                return _bad_token("Corrupted", "The configuration token is not valid.")
            if now - record.issued_at > self.token_ttl:
                return _bad_token("Expired", "The configuration token has expired.")
            if record.used and self.strict_tokens:
                # GUESS: see the module docstring; AWS documents no error for a reused token.
                return _bad_token("Corrupted", "The configuration token was already used.")
            session = record.session
            required_minimum = session.required_minimum if self.honour_required_minimum else None
            if record.advertised_interval is not None:
                gap = required_minimum or 0
                if self.enforce_poll_interval:
                    gap = max(gap, record.advertised_interval)
                if now < record.issued_at + gap:
                    wait = record.issued_at + gap - now
                    return _bad_token(
                        "PollIntervalNotSatisfied",
                        f"Poll interval of {gap} seconds not satisfied; "
                        f"retry in {wait:.1f} seconds.",
                    )
            key = (session.application.id, session.environment.id, session.profile.id)
            version = self._deployments.get(key)
            if version is None:
                # GUESS: what AWS answers for a profile never deployed to the environment.
                return _aws_error(
                    404,
                    "ResourceNotFoundException",
                    f"No deployment of configuration profile {session.profile.name!r} "
                    f"to environment {session.environment.name!r} could be found.",
                    ResourceType="Deployment",
                    ReferencedBy={
                        "EnvironmentIdentifier": session.environment.id,
                        "ConfigurationProfileIdentifier": session.profile.id,
                    },
                )
            record.used = True
            interval = max(self.poll_interval, required_minimum or 0)
            next_token = _new_token()
            self._tokens[next_token] = _Token(session, now, advertised_interval=interval)
            headers = {
                "Content-Type": version.content_type,
                "Next-Poll-Configuration-Token": next_token,
                "Next-Poll-Interval-In-Seconds": str(interval),
            }
            if session.last_version == version.number:
                body = b""
                label = ""
            else:
                body = version.content
                label = version.label
                session.last_version = version.number
            if version.send_label:
                headers["Version-Label"] = label
        return _Response(200, headers, body)

    def _agent(self, path: str, authorization: str | None) -> _Response:
        if self.agent_token is not None and authorization != f"Bearer {self.agent_token}":
            return _agent_error(401, "Unauthorized")
        parts = path[len(_AGENT_PREFIX) :].split("/")
        if len(parts) != 5 or parts[1] != "environments" or parts[3] != "configurations":
            return _agent_error(404, "ResourceNotFoundException: no such path")
        application, environment, profile = (unquote(p) for p in parts[0::2])
        with self._cond:
            try:
                app, env, prof = self._resolve(application, environment, profile)
            except _NotFound as error:
                return _agent_error(404, f"ResourceNotFoundException: {error}")
            version = self._deployments.get((app.id, env.id, prof.id))
            if version is None:
                return _agent_error(
                    404,
                    f"ResourceNotFoundException: {profile!r} is not deployed to {environment!r}",
                )
            return _Response(
                200,
                {
                    "Content-Type": version.content_type,
                    # GUESS: see the module docstring.
                    "Configuration-Version": str(version.number),
                },
                version.content,
            )

    def _fault_response(self, fault: _Fault, operation: str) -> _Response:
        if operation == AGENT:
            if fault.kind == "throttle":
                return _agent_error(502, "BadGatewayException: ThrottlingException: Rate exceeded")
            return _agent_error(500, "InternalServerException: An internal error occurred.")
        if fault.kind == "throttle":
            return _aws_error(429, "ThrottlingException", "Rate exceeded")
        return _aws_error(500, "InternalServerException", "An internal error occurred.")


class _Server(ThreadingHTTPServer):
    """Serves each connection from a daemon thread it keeps track of, so close() can end them."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        endpoint: AppConfigEndpoint,
    ) -> None:
        self.endpoint = endpoint
        self._connections: dict[threading.Thread, socket.socket] = {}
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would resolve the host name (getfqdn); nothing here needs it.
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name=f"appconfig-endpoint-conn-{client_address[1]}",
            daemon=True,
        )
        with self._connections_lock:
            self._connections[thread] = request
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.pop(threading.current_thread(), None)

    def close_connections(self) -> None:
        """Shut down every open connection (idle keep-alive ones too) and join their threads."""
        with self._connections_lock:
            connections = list(self._connections.items())
        for _, sock in connections:
            with contextlib.suppress(OSError):  # already closed by its handler
                sock.shutdown(socket.SHUT_RDWR)
        for thread, _ in connections:
            thread.join(timeout=10)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if self.endpoint._closing.is_set() or isinstance(error, ConnectionError | TimeoutError):
            return  # a client that went away (e.g. after its read timeout), or shutting down
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as AWS endpoints and the agent allow
    # Headers and body go out in separate writes; without this, Nagle's algorithm and the
    # client's delayed ACK add ~40 ms to every response.
    disable_nagle_algorithm = True
    # An idle keep-alive connection is closed after this many seconds.
    timeout = 60

    @property
    def endpoint(self) -> AppConfigEndpoint:
        return cast(_Server, self.server).endpoint

    def version_string(self) -> str:
        return "AppConfigEndpoint"

    def log_message(self, format: str, *args: Any) -> None:
        if self.endpoint.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        endpoint = self.endpoint
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        token: str | None = None
        if self.command == "POST" and parts.path == "/configurationsessions":
            operation = START_SESSION
        elif self.command == "GET" and parts.path == "/configuration":
            operation = GET_CONFIGURATION
            token = parse_qs(parts.query).get("configuration_token", [None])[0]
        elif self.command == "GET" and parts.path.startswith(_AGENT_PREFIX):
            operation = AGENT
        else:
            operation = UNKNOWN

        fault = endpoint._take_fault(operation) if operation != UNKNOWN else None
        response: _Response | None = None
        if fault is not None:
            if fault.kind == "drop":
                # The request was read in full, so closing sends a FIN (not a RST): the client
                # sees the connection end without any status line.
                self.close_connection = True
                endpoint._record(operation, None, token)
                return
            if fault.kind in ("delay", "hold"):
                if fault.kind == "hold":
                    closing = not endpoint._hold()
                else:
                    closing = endpoint._closing.wait(fault.seconds)
                if closing:
                    # Shutting down: give up on this request; the client got no response.
                    self.close_connection = True
                    endpoint._record(operation, None, token)
                    return
            else:
                response = endpoint._fault_response(fault, operation)

        if response is None:
            if operation == START_SESSION:
                response = endpoint._start_session(body)
            elif operation == GET_CONFIGURATION:
                response = endpoint._get_configuration(token)
            elif operation == AGENT:
                response = endpoint._agent(parts.path, self.headers.get("Authorization"))
            else:
                # GUESS: what AWS's front end answers for an unknown route.
                response = _aws_error(404, "UnknownOperationException", "Unknown operation.")
        # Logged before the response goes out, so a client that has its answer always finds
        # its request in the log.
        endpoint._record(operation, response.status, token)
        self._send(response)

    def _send(self, response: _Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if "x-amzn-RequestId" not in response.headers:
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)
        self.wfile.flush()


_CONTENT_TYPES: Final = {
    ".json": "application/json",
    ".yaml": "application/x-yaml",
    ".yml": "application/x-yaml",
    ".txt": "text/plain",
}


def _parse_deploy(spec: str) -> tuple[str, str, str, Path]:
    target, sep, path = spec.partition("=")
    names = target.split("/")
    if not sep or len(names) != 3 or not all(names) or not path:
        raise argparse.ArgumentTypeError(f"expected APP/ENV/PROFILE=path, got {spec!r}")
    return names[0], names[1], names[2], Path(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.appconfig_endpoint",
        description="Serve a local AppConfig Data API and AppConfig Agent endpoint until Ctrl-C.",
    )
    parser.add_argument("--port", type=int, default=2772, help="0 picks a free port")
    parser.add_argument(
        "--deploy",
        action="append",
        default=[],
        type=_parse_deploy,
        metavar="APP/ENV/PROFILE=FILE",
        help="deploy FILE's content (repeatable; content type from the extension)",
    )
    parser.add_argument("--poll-interval", type=int, default=60)
    parser.add_argument("--agent-token", default=None, help="require 'Authorization: Bearer T'")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # Ctrl-C and SIGTERM both stop it, even when started with SIGINT ignored (background jobs).
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    endpoint = AppConfigEndpoint(
        port=args.port,
        poll_interval=args.poll_interval,
        agent_token=args.agent_token,
        verbose=args.verbose,
    )
    try:
        for application, environment, profile, path in args.deploy:
            content_type = _CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")
            number = endpoint.deploy(
                application, environment, profile, path.read_bytes(), content_type=content_type
            )
            print(
                f"deployed {path} as {application}/{environment}/{profile} version {number}",
                flush=True,
            )
        print(f"AppConfig endpoint listening on {endpoint.url} (Ctrl-C stops it)", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        endpoint.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
