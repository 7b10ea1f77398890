"""From bytes (or an already parsed object) to a checked flag document.

parse (size limit, strict JSON, finite numbers) → depth limit → JSON Schema →
semantic checks the schema cannot express (`flagkit.semantics`) → warnings for
metadata keys that look mistyped. Every check reports all it finds, each problem
with its JSON path; loading raises `DocumentError` and nothing else.
"""

from __future__ import annotations

import functools
import json
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from flagkit.errors import DocumentError, InvalidFlagError, Problem, SchemaValidationError
from flagkit.field_hints import likely_meant
from flagkit.fields import DECLARED_ATTRIBUTES, RESERVED_FLAG_KEYS, flag_items, is_unicode_text
from flagkit.schema import ROOT, format_path, is_valid, problem_order, validate
from flagkit.semantics import semantic_problems
from flagkit.targeting_hints import targeting_warnings

__all__ = [
    "DECLARED_ATTRIBUTES",
    "DEFAULT_MAX_DOCUMENT_BYTES",
    "MAX_NESTING_DEPTH",
    "RESERVED_FLAG_KEYS",
    "CheckedDocument",
    "changed_flags",
    "check_document",
    "flag_items",
    "is_unicode_text",
    "load_document",
    "non_finite_numbers",
    "non_finite_problem",
    "parse_document",
    "reported_as_document_error",
    "size_problem",
]

DEFAULT_MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
"""Twice AppConfig's default 2 MB configuration size; larger documents are refused unread."""

MAX_NESTING_DEPTH = 32
"""How deep a document may nest objects and arrays (a flag's `rules[0].when[0].in` is 6)."""

_P = ParamSpec("_P")
_R = TypeVar("_R")

_RESERVED_DOCUMENT_KEYS = ("$schema", "_segments")


@dataclass(frozen=True, slots=True)
class CheckedDocument:
    """A document that passed every check, with the warnings (likely typos) it produced."""

    document: Mapping[str, Any]
    warnings: tuple[Problem, ...] = ()


def reported_as_document_error(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """`function`, with any exception other than a `DocumentError` turned into one.

    Loading must never fail in a way its callers do not expect: a refresher thread, the
    service's loader and `flagkit validate` all report a `DocumentError` and carry on.
    The original exception is the new one's `__cause__`.
    """

    @functools.wraps(function)
    def reported(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return function(*args, **kwargs)
        except DocumentError:
            raise
        except Exception as exc:
            problem = Problem(ROOT, f"could not be loaded: {type(exc).__name__}: {exc}")
            raise DocumentError([problem]) from exc

    return reported


def size_problem(size: int, max_bytes: int) -> Problem:
    """The problem of a document of `size` bytes when at most `max_bytes` are allowed."""
    return Problem(ROOT, f"{size} bytes is larger than the limit of {max_bytes} bytes")


@reported_as_document_error
def parse_document(content: bytes | str, *, max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES) -> Any:
    """Parse JSON text (bytes must be UTF-8), refusing oversized or malformed input clearly.

    Numbers JSON can write but a float cannot hold (`1e400`, which Python reads as
    infinity) are refused here, each with its path.
    """
    size = len(content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content)
    if size > max_bytes:
        raise SchemaValidationError([size_problem(size, max_bytes)])
    if isinstance(content, bytes):
        try:
            # Strictly UTF-8: json.loads(bytes) would also take UTF-16 and encoded surrogates.
            content = content.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError as exc:
            raise SchemaValidationError(
                [Problem(ROOT, f"not UTF-8 text: {exc.reason} at byte {exc.start}")]
            ) from None
    if not content.strip():
        raise SchemaValidationError([Problem(ROOT, "the document is empty")])
    out_of_range: list[str] = []  # the text of every number that became infinity, in order

    def finite_float(text: str) -> float:
        number = float(text)
        if math.isinf(number):
            out_of_range.append(text)
        return number

    try:
        document = json.loads(
            content,
            parse_float=finite_float,
            parse_constant=_reject_constant,
            object_pairs_hook=object_without_duplicates,
        )
    except RecursionError:
        raise SchemaValidationError(
            [Problem(ROOT, f"nested deeper than {MAX_NESTING_DEPTH} levels")]
        ) from None
    except json.JSONDecodeError as exc:
        where = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
        raise SchemaValidationError([Problem(ROOT, f"not valid JSON: {where}")]) from None
    except ValueError as exc:  # NaN, Infinity and duplicate keys, refused by the hooks below
        raise SchemaValidationError([Problem(ROOT, f"not valid JSON: {exc}")]) from None
    if out_of_range:
        paths = [path for path, _ in non_finite_numbers(document)]
        raise SchemaValidationError(
            [non_finite_problem(path, text) for path, text in zip(paths, out_of_range, strict=True)]
        )
    return document


def non_finite_numbers(value: Any) -> Iterator[tuple[list[str | int], float]]:
    """(path, number) of every infinite or NaN float in `value`, in document order; no recursion."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, float):
            if not math.isfinite(node):
                yield list(path), node
        elif isinstance(node, dict | list):
            items = node.items() if isinstance(node, dict) else enumerate(node)
            children = [((*path, key), child) for key, child in items]
            stack.extend(reversed(children))


def non_finite_problem(path: list[str | int], spelling: str) -> Problem:
    """The problem of a number no float can hold, `spelling` as the document wrote it."""
    return Problem(
        format_path(path),
        f"{spelling} is not a number a document can hold "
        "(numbers must be finite, at most about 1.8e308 in size)",
    )


def object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """`json.loads`'s `object_pairs_hook`: the object, or `ValueError` naming a key it holds
    twice (JSON allows it; flag documents and service request bodies do not)."""
    document = dict(pairs)
    if len(document) < len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        raise ValueError(
            f"the key {json.dumps(duplicate, ensure_ascii=False)} appears twice in one object"
        )
    return document


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def load_document(
    content: bytes | str,
    *,
    max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
    now: float | None = None,
) -> CheckedDocument:
    """`parse_document` then `check_document` (`now` as there).

    Raises `DocumentError` and nothing else: an exception of any other kind while
    loading (a bug) becomes one whose message names it.
    """
    return check_document(parse_document(content, max_bytes=max_bytes), now=now)


@reported_as_document_error
def check_document(document: Any, *, now: float | None = None) -> CheckedDocument:
    """Check a parsed document against the schema and for semantic errors.

    The warnings name likely typos and useless targeting (`flagkit.targeting_hints`):
    time already past is judged against `now` (seconds since the epoch; the current
    time when None).

    Raises `SchemaValidationError` or `InvalidFlagError` listing every problem (and a
    `DocumentError` naming any unexpected exception).
    """
    if not isinstance(document, dict):
        kinds = {list: "an array", str: "a string", bool: "true or false", type(None): "null"}
        kind = kinds.get(type(document), "a number")
        raise SchemaValidationError(
            [Problem(ROOT, f"a flag document is a JSON object of flags, not {kind}")]
        )
    odd_keys = [key for key in document if not isinstance(key, str)]
    if odd_keys:
        raise SchemaValidationError(
            [
                Problem(
                    ROOT, f"keys must be strings, not {type(odd_keys[0]).__name__} {odd_keys[0]!r}"
                )
            ]
        )
    # A valid document's schema-shaped parts nest a few levels at most, so only its
    # free-form values (attributes, variant values, metadata) need the depth walk; a
    # document the fast check refuses is walked whole before jsonschema reads it.
    if is_valid(document):
        _refuse_deep_nesting(_free_form_values(document))
    else:
        _refuse_deep_nesting([([], document)])
        validate(document)
    problems = list(semantic_problems(document))
    if problems:
        raise InvalidFlagError(sorted(problems, key=problem_order))
    hints = targeting_warnings(document, now=time.time() if now is None else now)
    return CheckedDocument(document, (*_typo_warnings(document), *hints))


def changed_flags(old: Mapping[str, Any], new: Mapping[str, Any]) -> frozenset[str]:
    """The keys of the flags that differ between two checked documents.

    A flag differs when its own JSON does (`true` and `1` differ, as in JSON) or
    when a segment it uses does; added and removed flags count.
    """
    keys = {key for key, _ in flag_items(old)} | {key for key, _ in flag_items(new)}
    return frozenset(key for key in keys if _canonical(old, key) != _canonical(new, key))


def _canonical(document: Mapping[str, Any], key: str) -> str | None:
    flag = document.get(key)
    if flag is None:
        return None
    segments = document.get("_segments", {})
    used = segments_used(flag)
    return json.dumps([flag, {name: segments.get(name) for name in used}], sort_keys=True)


def segments_used(flag: Mapping[str, Any]) -> set[str]:
    """The names of the `_segments` a flag uses: in `segments`, and in its rules' conditions."""
    used = set(flag.get("segments", []))
    for rule in flag.get("rules", []):
        for condition in rule.get("when", []):
            used.update(
                condition[operator]
                for operator in ("inSegment", "notInSegment")
                if operator in condition
            )
    return used


def _free_form_values(
    document: Mapping[str, Any],
) -> Iterator[tuple[list[str | int], Any]]:
    """(path, value) of every value the schema leaves free: attributes, variants, metadata."""
    for key, value in document.items():
        if key.startswith(("$", "_")):
            if key != "_segments":
                yield [key], value
            continue
        for field, member in value.items():
            if field == "variants":
                for name, variant in member.items():
                    yield [key, field, name], variant
            elif field not in RESERVED_FLAG_KEYS:
                yield [key, field], member


def _refuse_deep_nesting(values: Iterable[tuple[list[str | int], Any]]) -> None:
    for path, value in values:
        too_deep = _first_too_deep(value, MAX_NESTING_DEPTH - len(path))
        if too_deep is not None:
            raise SchemaValidationError(
                [
                    Problem(
                        format_path([*path, *too_deep]),
                        f"nested deeper than {MAX_NESTING_DEPTH} levels",
                    )
                ]
            )


def _first_too_deep(value: Any, limit: int) -> list[str | int] | None:
    """The path within `value` of the first value nested deeper than `limit`; no recursion.

    Depths alone are tracked; the path is rebuilt only for a value that fails.
    """
    if not isinstance(value, dict | list):
        return None
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return _path_to_depth(value, limit + 1)
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return None


def _path_to_depth(document: Any, depth: int) -> list[str | int]:
    stack: list[tuple[Any, list[str | int]]] = [(document, [])]
    while stack:
        value, path = stack.pop()
        if len(path) >= depth:
            return path
        items = value.items() if isinstance(value, dict) else enumerate(value)
        stack.extend(
            (child, [*path, key]) for key, child in items if isinstance(child, dict | list)
        )
    return []


def _typo_warnings(document: Mapping[str, Any]) -> Iterator[Problem]:
    """Metadata keys one edit from `_segments` or `$schema`: likely typos, but only warnings."""
    for key in document:
        if key.startswith("_") and key not in _RESERVED_DOCUMENT_KEYS:
            hint = likely_meant(key, _RESERVED_DOCUMENT_KEYS)
            if hint:
                yield Problem(format_path([key]), f"unknown key; did you mean {json.dumps(hint)}?")
