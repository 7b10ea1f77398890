"""OFREP request bodies → `flagkit.Tenant`, with the size limits checked and every error named."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from flagkit import model
from flagkit.document import object_without_duplicates
from flagkit.model import ErrorCode, Tenant

__all__ = [
    "MAX_DEPTH",
    "ContextError",
    "ContextLimits",
    "attributes_from_pairs",
    "tenant_from_body",
    "tenant_from_context",
]


class ContextError(Exception):
    """A request whose context cannot be evaluated; `code` is OpenFeature's error code."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ContextLimits:
    """How many context attributes, and how long a string, a request may carry."""

    __slots__ = ("max_attributes", "max_string")

    def __init__(self, max_attributes: int, max_string: int) -> None:
        self.max_attributes = max_attributes
        self.max_string = max_string


def tenant_from_body(body: bytes, limits: ContextLimits) -> Tenant:
    """The tenant an OFREP request body `{"context": {...}}` describes.

    A key twice in one object is refused (PARSE_ERROR), as flag documents refuse it:
    JSON parsers disagree on which of the two wins, so neither may silently.

    A body without `context` (the Python OFREP provider sends `{}` when the
    evaluation context is empty) is an empty context: flags that need a tenant id
    then answer TARGETING_KEY_MISSING.
    """
    try:
        request = json.loads(body, object_pairs_hook=_object_refusing_duplicates)
    except ValueError as exc:  # UnicodeDecodeError is one
        raise ContextError(ErrorCode.PARSE_ERROR, f"request body is not JSON: {exc}") from None
    except RecursionError:
        raise ContextError(ErrorCode.PARSE_ERROR, "request body is nested too deeply") from None
    if not isinstance(request, dict):
        raise ContextError(
            ErrorCode.PARSE_ERROR,
            f'request body must be a JSON object like {{"context": {{...}}}}, '
            f"got {_json_type(request)}",
        )
    return tenant_from_context(request.get("context", {}), limits)


def _object_refusing_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """`json.loads`'s object hook: the object, or PARSE_ERROR naming a key it holds twice."""
    try:
        return object_without_duplicates(pairs)
    except ValueError as exc:
        raise ContextError(ErrorCode.PARSE_ERROR, f"request body: {exc}") from None


def attributes_from_pairs(items: Iterable[str], what: str = "attr") -> dict[str, Any]:
    """`KEY=VALUE` texts → attributes; VALUE is JSON when it parses (`10`, `true`, `["a"]`),
    else the text, as `flagkit eval` reads them. A text without `=` or a KEY raises
    `ContextError` (INVALID_CONTEXT) naming it and `what` it was."""
    attributes: dict[str, Any] = {}
    for item in items:
        name, separator, text = item.partition("=")
        if not separator or not name:
            raise ContextError(
                ErrorCode.INVALID_CONTEXT, f"{what} {item!r} must look like KEY=VALUE"
            )
        try:
            attributes[name] = json.loads(text)
        except (ValueError, RecursionError):  # `[[[[...` too deep to parse is text too, not a 500
            attributes[name] = text
    return attributes


def tenant_from_context(context: object, limits: ContextLimits) -> Tenant:
    """`targetingKey` is the tenant id, `tier` the tier, every other key an attribute."""
    if not isinstance(context, dict):
        raise ContextError(
            ErrorCode.INVALID_CONTEXT, f"context must be a JSON object, got {_json_type(context)}"
        )
    if len(context) > limits.max_attributes:
        raise ContextError(
            ErrorCode.INVALID_CONTEXT,
            f"context: {len(context)} attributes is more than the limit of {limits.max_attributes}",
        )
    _check_strings(context, "context", limits.max_string)
    tenant_id = context.get("targetingKey")
    tier = context.get("tier")
    for name, value in (("targetingKey", tenant_id), ("tier", tier)):
        if value is not None and not isinstance(value, str):
            raise ContextError(
                ErrorCode.INVALID_CONTEXT,
                f"context.{name} must be a string, got {_json_type(value)}",
            )
    return model.tenant_from_context(tenant_id, context, skip=("targetingKey",))


MAX_DEPTH = 32
"""How deeply context values may nest (as flag documents)."""


def _check_strings(value: Any, path: str, limit: int, depth: int = 0) -> None:
    """Every key and string in `value`, at any depth, is at most `limit` characters."""
    if depth > MAX_DEPTH:
        raise ContextError(
            ErrorCode.INVALID_CONTEXT, f"{path}: nested more than {MAX_DEPTH} levels deep"
        )
    if isinstance(value, str):
        if len(value) > limit:
            raise ContextError(
                ErrorCode.INVALID_CONTEXT,
                f"{path}: {len(value)} characters is longer than the limit of {limit}",
            )
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if len(key) > limit:
                raise ContextError(
                    ErrorCode.INVALID_CONTEXT,
                    f"{path}: a key of {len(key)} characters is longer than the limit of {limit}",
                )
            _check_strings(item, f"{path}.{key}", limit, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_strings(item, f"{path}[{index}]", limit, depth + 1)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
