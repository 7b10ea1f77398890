"""The answers the local AppConfig's APIs give, before the HTTP layer writes them.

AWS errors are what botocore's rest-json parser reads: the `x-amzn-ErrorType` header
(the code, taken before the body's `code`/`__type`; anything after a `:` would be
dropped) and a JSON body with `Message` and the error's modeled members, so that boto3
raises its modeled exception (`client.exceptions.ConflictException`...) with them filled in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from flagkit.local_appconfig.store import AppConfigApiError

__all__ = ["Response", "agent_error", "aws_error", "json_response"]


@dataclass(frozen=True)
class Response:
    """An HTTP answer: status, headers (without Content-Length) and body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def json_response(status: int, payload: Any, **headers: str) -> Response:
    """`payload` as a JSON body."""
    return Response(
        status, {"Content-Type": "application/json", **headers}, json.dumps(payload).encode()
    )


def aws_error(error: AppConfigApiError) -> Response:
    """AppConfig's error response for `error`."""
    body = {"Message": error.message, **error.members}
    return json_response(error.status, body, **{"x-amzn-ErrorType": error.code})


def agent_error(status: int, text: str) -> Response:
    """The AppConfig Agent's error: plain text, `Content-Type: application/text` as its
    OpenAPI document gives it."""
    return Response(status, {"Content-Type": "application/text"}, text.encode())
