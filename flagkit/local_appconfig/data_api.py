"""The AppConfig Data API (`appconfigdata`): configuration sessions, tokens, poll intervals.

Faithful to the service model botocore ships (`appconfigdata/2021-11-11`):

* `POST /configurationsessions` (StartConfigurationSession) answers 201 with
  `{"InitialConfigurationToken": ...}`; the identifiers may be names or ids, unknown ones
  answer 404 ResourceNotFoundException with `Message`, `ResourceType` and `ReferencedBy`;
  `RequiredMinimumPollIntervalInSeconds` must lie in 15..86400 (`OptionalPollSeconds`).
* `GET /configuration?configuration_token=...` (GetLatestConfiguration) answers 200 with
  `Next-Poll-Configuration-Token`, `Next-Poll-Interval-In-Seconds`, `Content-Type` and
  `Version-Label`, and the configuration as the body; the body (and `Version-Label`) is
  empty when the session already received the version it is served now.
* Tokens are single-use, valid for `token_ttl` (24 h, as the model documents), opaque
  base64 text (with `+`, `/` and `=`: clients must URL-encode them, as with AWS).
* Token problems answer 400 BadRequestException with `Reason` InvalidParameters and
  `Details.InvalidParameters.ConfigurationToken.Problem` (Corrupted, Expired,
  PollIntervalNotSatisfied).

Simplified or guessed (GUESS): no SigV4 check; invented `Message` texts; a reused token
answers 400 Corrupted (`strict_tokens=False`: accepted instead; AWS documents no error for
it); a session that set `RequiredMinimumPollIntervalInSeconds` is held to it (unless
`honour_required_minimum` is off), and `enforce_poll_interval` also holds every session
to the advertised interval (a refused call does not use up its token); a profile never
deployed to the environment starts a session and then answers 404 with `ResourceType`
Deployment; an empty (already current) answer still carries the `Content-Type`. During a
gradual deployment each session gets the new version or not by its position, drawn at
random when it starts (see `flagkit.local_appconfig.deployments`).
"""

from __future__ import annotations

import base64
import json
import random
import secrets
from dataclasses import dataclass
from typing import Final

from flagkit.local_appconfig.responses import Response, aws_error, json_response
from flagkit.local_appconfig.store import (
    MAX_IDENTIFIER,
    AppConfigApiError,
    Application,
    Environment,
    Profile,
    Store,
    retrieval_form,
)

__all__ = [
    "DEFAULT_TOKEN_TTL",
    "MAX_REQUIRED_POLL",
    "MIN_REQUIRED_POLL",
    "DataApi",
    "DataPlaneSettings",
]

DEFAULT_TOKEN_TTL: Final = 24 * 60 * 60.0
MIN_REQUIRED_POLL: Final = 15
MAX_REQUIRED_POLL: Final = 86400
"""`OptionalPollSeconds` in the service model."""

_IDENTIFIERS: Final = (
    "ApplicationIdentifier",
    "EnvironmentIdentifier",
    "ConfigurationProfileIdentifier",
)


@dataclass
class DataPlaneSettings:
    """The knobs of the Data API and the Agent path; they may be changed at any time.

    `poll_interval` is the `Next-Poll-Interval-In-Seconds` advertised (raised to a session's
    required minimum when `honour_required_minimum`); `agent_token`, when set, is the
    bearer token the Agent path wants (the agent's `ACCESS_TOKEN` setting).
    """

    poll_interval: int = 60
    token_ttl: float = DEFAULT_TOKEN_TTL
    enforce_poll_interval: bool = False
    strict_tokens: bool = True
    honour_required_minimum: bool = True
    agent_token: str | None = None


@dataclass
class _Session:
    application: Application
    environment: Environment
    profile: Profile
    required_minimum: int | None
    position: float
    # The version number this session last received a body for.
    last_version: int | None = None


@dataclass
class _Token:
    session: _Session
    issued_at: float
    # The Next-Poll-Interval-In-Seconds sent with this token; None for an initial token.
    advertised_interval: int | None
    used: bool = False


def _new_token() -> str:
    # GUESS: AWS tokens are long opaque base64 strings. 97 random bytes give 132 characters
    # that usually contain "+" and "/" and always end in "==".
    return base64.b64encode(secrets.token_bytes(97)).decode("ascii")


def _bad_token(problem: str, message: str) -> Response:
    return aws_error(
        AppConfigApiError(
            400,
            "BadRequestException",
            message,
            Reason="InvalidParameters",
            Details={"InvalidParameters": {"ConfigurationToken": {"Problem": problem}}},
        )
    )


def _bad_request(message: str) -> Response:
    # GUESS: the model's InvalidParameterProblem enum only covers the token, so other
    # invalid input gets Message and Reason without Details.
    return aws_error(
        AppConfigApiError(400, "BadRequestException", message, Reason="InvalidParameters")
    )


class DataApi:
    """StartConfigurationSession and GetLatestConfiguration over `store`."""

    def __init__(self, store: Store, settings: DataPlaneSettings) -> None:
        self._store = store
        self._settings = settings
        self._tokens: dict[str, _Token] = {}

    def issued_tokens(self) -> list[str]:
        """Every configuration token handed out, used or not."""
        with self._store.lock:
            return list(self._tokens)

    def start_session(self, body: bytes) -> Response:
        """StartConfigurationSession."""
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return _bad_request("The request body is not valid JSON.")
        if not isinstance(request, dict):
            return _bad_request("The request body must be a JSON object.")
        identifiers = []
        for member in _IDENTIFIERS:
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
        with self._store.lock:
            try:
                app, env, profile = self._store.resolve(*identifiers)
            except AppConfigApiError as error:
                return aws_error(error)
            session = _Session(app, env, profile, required, random.uniform(0, 100))  # noqa: S311
            token = _new_token()
            self._tokens[token] = _Token(session, self._store.now(), advertised_interval=None)
        return json_response(201, {"InitialConfigurationToken": token})

    def get_configuration(self, token: str | None) -> Response:
        """GetLatestConfiguration."""
        if not token:
            return _bad_request("ConfigurationToken is required.")
        settings = self._settings
        with self._store.lock:
            now = self._store.now()
            record = self._tokens.get(token)
            if record is None:
                return _bad_token("Corrupted", "The configuration token is not valid.")
            if now - record.issued_at > settings.token_ttl:
                return _bad_token("Expired", "The configuration token has expired.")
            if record.used and settings.strict_tokens:
                return _bad_token("Corrupted", "The configuration token was already used.")
            session = record.session
            minimum = session.required_minimum if settings.honour_required_minimum else None
            if record.advertised_interval is not None:
                gap = minimum or 0
                if settings.enforce_poll_interval:
                    gap = max(gap, record.advertised_interval)
                if now < record.issued_at + gap:
                    return _bad_token(
                        "PollIntervalNotSatisfied",
                        f"Poll interval of {gap} seconds not satisfied; "
                        f"retry in {record.issued_at + gap - now:.1f} seconds.",
                    )
            version = self._store.served(
                session.application, session.environment, session.profile, session.position
            )
            if version is None:
                return aws_error(
                    AppConfigApiError(
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
                )
            record.used = True
            interval = max(settings.poll_interval, minimum or 0)
            next_token = _new_token()
            self._tokens[next_token] = _Token(session, now, advertised_interval=interval)
            content, content_type = retrieval_form(session.profile, version)
            headers = {
                "Content-Type": content_type,
                "Next-Poll-Configuration-Token": next_token,
                "Next-Poll-Interval-In-Seconds": str(interval),
            }
            if session.last_version == version.number:
                body, label = b"", ""
            else:
                body, label = content, version.label or ""
                session.last_version = version.number
            if version.label is not None:
                headers["Version-Label"] = label
        return Response(200, headers, body)
