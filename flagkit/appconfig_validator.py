"""An AWS AppConfig validator: a Lambda function that runs `flagkit validate`'s checks.

Handler: `flagkit.appconfig_validator.handler`. Attach the function to a configuration
profile (`--validators Type=LAMBDA,Content=FUNCTION_ARN`) and AppConfig calls it for
every version before it can be deployed; a version flagkit would reject is refused, and
the AppConfig console shows the message with every problem and its JSON path. The
deployment steps are in docs/appconfig.md.

AppConfig's event (its user guide, "Understanding validators")::

    {"applicationId": "abc1234", "configurationProfileId": "ur8hx2f",
     "configurationVersion": "3", "content": "<base64>", "uri": "hosted"}

`content` is the version as stored: a flag document for a freeform (`AWS.Freeform`)
profile, the console's `{"version": "1", "flags": ..., "values": ...}` for a feature-flag
(`AWS.AppConfig.FeatureFlags`) profile. Both are read by `load_flag_document`, the
function `flagkit validate` uses, so the two always give the same verdict. The event
does not say a freeform version's content type: a version whose text does not start
with `{` is read as YAML (as flagkit's sources read `application/x-yaml`, with the same
refusals: no anchors, aliases or duplicate keys; the function needs
`flagkit-engine[yaml]`). No boto3: the function calls no AWS API.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flagkit.document import DEFAULT_MAX_DOCUMENT_BYTES
from flagkit.errors import ConfigurationError, DocumentError, Problem
from flagkit.publish.appconfig_format import load_flag_document
from flagkit.yaml_document import yaml_as_json

__all__ = ["ConfigurationRejected", "ValidatorEvent", "handler"]

_LOGGER = logging.getLogger("flagkit.appconfig_validator")


@dataclass(frozen=True, slots=True)
class ValidatorEvent:
    """What AppConfig asks a validator to check: one version of one configuration profile."""

    application_id: str | None
    profile_id: str | None
    version: str | None
    uri: str | None
    content: bytes

    @classmethod
    def from_event(cls, event: Any) -> ValidatorEvent:
        """Read AppConfig's event; `ConfigurationError` when it is not one."""
        if not isinstance(event, Mapping):
            raise _not_an_event(f"a {type(event).__name__}, not an object")
        if "content" not in event:
            raise _not_an_event("no 'content'")
        try:
            content = base64.b64decode(event["content"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise _not_an_event("'content' is not base64 text") from None

        def text(name: str) -> str | None:
            value = event.get(name)
            return None if value is None else str(value)

        return cls(
            application_id=text("applicationId"),
            profile_id=text("configurationProfileId"),
            version=text("configurationVersion"),
            uri=text("uri"),
            content=content,
        )

    @property
    def description(self) -> str:
        """`configuration version 3 of profile ur8hx2f (application abc1234)`."""
        return (
            f"configuration version {self.version or '?'} of profile {self.profile_id or '?'} "
            f"(application {self.application_id or '?'})"
        )


class ConfigurationRejected(DocumentError):
    """flagkit refused a version AppConfig asked it to validate.

    The message is what the AppConfig console shows: the version, then every problem
    on its own line with its JSON path (all of them, unlike other `DocumentError`s).
    """

    def __init__(self, problems: Sequence[Problem], *, source: str) -> None:
        super().__init__(problems, source=source)

    def _render(self) -> str:
        lines = [f"  {problem}" for problem in self.problems]
        return "\n".join([f"flagkit refused {self.source}:", *lines])


def handler(event: Any, context: Any) -> None:
    """The Lambda handler: returns when the version is valid, raises when it is not.

    Raises `ConfigurationRejected` listing every problem (Lambda then reports a
    function error and AppConfig refuses the version), or `ConfigurationError` when
    `event` is not AppConfig's. A field name one edit away from a flag field
    (`percentge`) is an error, as in `flagkit validate`; what `flagkit validate` prints as
    a warning (a likely typo in a top-level `_` key) is logged and lets the version through.
    """
    request = ValidatorEvent.from_event(event)
    try:
        content = request.content
        text = content.lstrip(b"\xef\xbb\xbf \t\r\n")
        if text and not text.startswith(b"{"):
            content = yaml_as_json(content, "YAML", max_bytes=DEFAULT_MAX_DOCUMENT_BYTES)
        checked = load_flag_document(content)
    except DocumentError as exc:
        raise ConfigurationRejected(exc.problems, source=request.description) from None
    for warning in checked.warnings:
        _LOGGER.warning("%s: warning: %s", request.description, warning)


def _not_an_event(reason: str) -> ConfigurationError:
    return ConfigurationError(f"not an AppConfig validator event: {reason}")
