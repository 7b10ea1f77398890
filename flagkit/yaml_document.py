"""A flag document written in YAML (an AppConfig freeform profile may hold one), as JSON bytes.

YAML can say more than a flag document may: anchors and aliases (`&a`, `*a`), which
let a few hundred bytes stand for gigabytes once written out; merge keys (`<<`); the
same key twice; keys that are not text (`on:` is the boolean true); `.inf` and `.nan`.
All of these are refused, each with where it is, and so is a document nested deeper
than any flag document may be, before the recursive part of PyYAML gets to it. What is
left is plain data no bigger than the text it came from, converted to the JSON that
`flagkit.document.load_document` then checks, size limit included.

PyYAML is imported only here, and only when a YAML document arrives.
"""

from __future__ import annotations

import json
import math
from typing import Any

from flagkit.document import (
    MAX_NESTING_DEPTH,
    non_finite_numbers,
    non_finite_problem,
    size_problem,
)
from flagkit.errors import Problem, SchemaValidationError
from flagkit.schema import ROOT

__all__ = ["YAML_MEDIA_TYPES", "yaml_as_json"]

YAML_MEDIA_TYPES = ("application/x-yaml", "application/yaml", "text/yaml")
"""The content types read as YAML."""

_MERGE_TAG = "tag:yaml.org,2002:merge"
_KEY_KINDS = {bool: "true or false", int: "a number", float: "a number", type(None): "null"}


def yaml_as_json(body: bytes, media_type: str, *, max_bytes: int) -> bytes:
    """The YAML document `body` (of `media_type`) as UTF-8 JSON.

    Raises `SchemaValidationError` when it cannot be one, or is larger than `max_bytes`.
    """
    if len(body) > max_bytes:
        raise SchemaValidationError([size_problem(len(body), max_bytes)])
    try:
        import yaml
    except ImportError:
        raise SchemaValidationError(
            [
                Problem(
                    ROOT,
                    f"the document is {media_type}; install PyYAML to read YAML flag documents "
                    "(pip install 'flagkit-engine[yaml]'), or deploy it as application/json",
                )
            ]
        ) from None
    loader = _strict_loader_class()(body)
    try:
        document = loader.get_single_data()
    except _Refused as exc:
        raise SchemaValidationError([Problem(ROOT, str(exc))]) from None
    except yaml.YAMLError as exc:
        raise SchemaValidationError(
            [Problem(ROOT, f"the YAML document does not parse: {exc}")]
        ) from None
    finally:
        loader.dispose()
    problems = [
        non_finite_problem(path, _yaml_spelling(number))
        for path, number in non_finite_numbers(document)
    ]
    if problems:
        raise SchemaValidationError(problems)
    # A date or timestamp (which YAML reads without quotes) becomes its text: `2026-01-31`.
    return json.dumps(document, ensure_ascii=False, default=str).encode("utf-8")


class _Refused(Exception):
    """YAML a flag document may not use; the message says what and where."""

    def __init__(self, what: str, mark: Any) -> None:
        super().__init__(f"{what} (line {mark.line + 1}, column {mark.column + 1})")


def _strict_loader_class() -> type[Any]:
    """PyYAML's safe loader, refusing what `yaml_as_json` refuses (made on first use)."""
    import yaml

    class StrictLoader(yaml.SafeLoader):
        depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()  # type: ignore[no-untyped-call]
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                raise _Refused(
                    "YAML anchors and aliases (&name, *name) are not accepted in a flag "
                    "document; write each value out",
                    event.start_mark,
                )
            if isinstance(event, yaml.CollectionStartEvent):
                self.depth += 1
                if self.depth > MAX_NESTING_DEPTH + 1:
                    raise _Refused(
                        f"the YAML document is nested deeper than {MAX_NESTING_DEPTH} levels",
                        event.start_mark,
                    )
            try:
                return super().compose_node(parent, index)
            finally:
                if isinstance(event, yaml.CollectionStartEvent):
                    self.depth -= 1

        def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
            mapping: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    raise _Refused(
                        "YAML merge keys (<<) are not accepted in a flag document; "
                        "write the keys out",
                        key_node.start_mark,
                    )
                key = self.construct_object(key_node, deep=deep)
                if not isinstance(key, str):
                    kind = _KEY_KINDS.get(type(key), f"a {type(key).__name__}")
                    raise _Refused(
                        f"the YAML key {key_node.value} is read as {kind}, not as text; quote it",
                        key_node.start_mark,
                    )
                if key in mapping:
                    raise _Refused(
                        f"not valid YAML: the key {json.dumps(key, ensure_ascii=False)} appears "
                        "twice in one object",
                        key_node.start_mark,
                    )
                mapping[key] = self.construct_object(value_node, deep=deep)
            return mapping

    return StrictLoader


def _yaml_spelling(number: float) -> str:
    if math.isnan(number):
        return ".nan"
    return ".inf" if number > 0 else "-.inf"
