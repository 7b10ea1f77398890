"""From bytes (or an already parsed object) to a checked flag document.

parse → size and depth limits → JSON Schema → semantic checks the schema cannot
express (cycles in `requires`, unknown flags, segments and variants, duplicate
rule ids, zero total weight, more than two decimals in a percentage) → typo
warnings. Every check reports all it finds, each problem with its JSON path.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from flagkit.errors import InvalidFlagError, Problem, SchemaValidationError
from flagkit.schema import ROOT, format_path, is_valid, problem_order, validate

__all__ = [
    "DEFAULT_MAX_DOCUMENT_BYTES",
    "MAX_NESTING_DEPTH",
    "RESERVED_FLAG_KEYS",
    "CheckedDocument",
    "changed_flags",
    "check_document",
    "load_document",
    "parse_document",
]

DEFAULT_MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
"""Twice AppConfig's default 2 MB configuration size; larger documents are refused unread."""

MAX_NESTING_DEPTH = 32
"""How deep a document may nest objects and arrays (a flag's `rules[0].when[0].in` is 6)."""

RESERVED_FLAG_KEYS = frozenset(
    {
        "enabled",
        "description",
        "requires",
        "excludedTenants",
        "rules",
        "tenants",
        "segments",
        "tiers",
        "percentage",
        "stickiness",
        "salt",
        "variants",
        "defaultVariant",
        "offVariant",
        "split",
    }
)
"""Flag keys with a meaning; every other key of a flag is an attribute."""

_RESERVED_DOCUMENT_KEYS = ("$schema", "_segments")
_RESERVED_FLAG_KEYS_SORTED = tuple(sorted(RESERVED_FLAG_KEYS))


@dataclass(frozen=True, slots=True)
class CheckedDocument:
    """A document that passed every check, with the warnings (likely typos) it produced."""

    document: Mapping[str, Any]
    warnings: tuple[Problem, ...] = ()


def parse_document(content: bytes | str, *, max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES) -> Any:
    """Parse JSON text (bytes must be UTF-8), refusing oversized or malformed input clearly."""
    size = len(content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content)
    if size > max_bytes:
        raise SchemaValidationError(
            [Problem(ROOT, f"{size} bytes is larger than the limit of {max_bytes} bytes")]
        )
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
    try:
        return json.loads(
            content, parse_constant=_reject_constant, object_pairs_hook=_object_without_duplicates
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


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
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
    content: bytes | str, *, max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
) -> CheckedDocument:
    """`parse_document` then `check_document`."""
    return check_document(parse_document(content, max_bytes=max_bytes))


def check_document(document: Any) -> CheckedDocument:
    """Check a parsed document against the schema and for semantic errors.

    Raises `SchemaValidationError` or `InvalidFlagError` listing every problem.
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
    problems = list(_semantic_problems(document))
    if problems:
        raise InvalidFlagError(sorted(problems, key=problem_order))
    return CheckedDocument(document, tuple(_typo_warnings(document)))


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


def flag_items(document: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The (key, flag) pairs of a document: every key that is not metadata."""
    for key, flag in document.items():
        if not key.startswith(("$", "_")):
            yield key, flag


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


def _semantic_problems(document: Mapping[str, Any]) -> Iterator[Problem]:
    flags = dict(flag_items(document))
    segments: Mapping[str, Any] = document.get("_segments", {})
    for key, flag in flags.items():
        yield from _flag_problems(key, flag, flags, segments)
    yield from _cycle_problems(flags)


def _flag_problems(
    key: str, flag: Mapping[str, Any], flags: Mapping[str, Any], segments: Mapping[str, Any]
) -> Iterator[Problem]:
    def at(*parts: str | int) -> str:
        return format_path([key, *parts])

    for index, required in enumerate(flag.get("requires", [])):
        if required not in flags:
            yield Problem(at("requires", index), f"unknown flag {json.dumps(required)}")
    for index, segment in enumerate(flag.get("segments", [])):
        if segment not in segments:
            yield Problem(at("segments", index), f"unknown segment {json.dumps(segment)}")
    if "percentage" in flag:
        yield from _percentage_problems(flag["percentage"], at("percentage"))
    salt = flag.get("salt")
    if salt is not None and not is_unicode_text(salt):
        yield Problem(at("salt"), "not valid Unicode text (it has a lone surrogate)")

    variants: Mapping[str, Any] | None = flag.get("variants")
    yield from _variant_problems(flag, variants, at)
    seen_ids: dict[str, int] = {}
    for index, rule in enumerate(flag.get("rules", [])):
        rule_id = rule.get("id")
        if rule_id is not None:
            if rule_id in seen_ids:
                yield Problem(
                    at("rules", index, "id"),
                    f"duplicate rule id {json.dumps(rule_id)} (also rules[{seen_ids[rule_id]}])",
                )
            else:
                seen_ids[rule_id] = index
        if "percentage" in rule:
            yield from _percentage_problems(rule["percentage"], at("rules", index, "percentage"))
        if "serve" in rule:
            yield from _serve_problems(rule["serve"], variants, at("rules", index, "serve"))
        if "split" in rule:
            yield from _split_problems(rule["split"], variants, at("rules", index, "split"))
        for position, condition in enumerate(rule.get("when", [])):
            for operator in ("inSegment", "notInSegment"):
                segment = condition.get(operator)
                if segment is not None and segment not in segments:
                    yield Problem(
                        at("rules", index, "when", position, operator),
                        f"unknown segment {json.dumps(segment)}",
                    )


def _variant_problems(
    flag: Mapping[str, Any], variants: Mapping[str, Any] | None, at: Any
) -> Iterator[Problem]:
    if variants is None:
        for field in ("defaultVariant", "offVariant", "split"):
            if field in flag:
                yield Problem(at(field), 'needs "variants" in the same flag')
        return
    if "defaultVariant" not in flag:
        yield Problem(at("defaultVariant"), 'is required when the flag has "variants"')
    for field in ("defaultVariant", "offVariant"):
        name = flag.get(field)
        if name is not None and name not in variants:
            yield Problem(at(field), _unknown_variant(name, variants))
    if "split" in flag:
        yield from _split_problems(flag["split"], variants, at("split"))


def _serve_problems(serve: Any, variants: Mapping[str, Any] | None, path: str) -> Iterator[Problem]:
    if isinstance(serve, bool):
        return
    if variants is None:
        yield Problem(
            path, f"{json.dumps(serve)} is not true or false, and the flag has no variants"
        )
    elif serve not in variants:
        yield Problem(path, _unknown_variant(serve, variants))


def _split_problems(
    split: Mapping[str, int], variants: Mapping[str, Any] | None, path: str
) -> Iterator[Problem]:
    if variants is None:
        yield Problem(path, 'needs "variants" in the same flag')
        return
    for name in split:
        if name not in variants:
            yield Problem(f"{path}.{name}", _unknown_variant(name, variants))
    if sum(split.values()) == 0:
        yield Problem(path, "weights add up to 0; at least one must be positive")


def _percentage_problems(percentage: float, path: str) -> Iterator[Problem]:
    if abs(percentage * 100 - round(percentage * 100)) > 1e-6:
        yield Problem(path, f"{percentage} has more than two decimal places (steps of 0.01)")


def is_unicode_text(text: str) -> bool:
    """Whether UTF-8 can encode `text`: False when it has a lone surrogate (`"\\ud800"`)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _unknown_variant(name: str, variants: Mapping[str, Any]) -> str:
    return f"unknown variant {json.dumps(name)} (variants: {', '.join(variants)})"


def _cycle_problems(flags: Mapping[str, Any]) -> Iterator[Problem]:
    """One problem per cycle in `requires`, named by its path through the flags."""
    requires = {
        key: [r for r in flag.get("requires", []) if r in flags] for key, flag in flags.items()
    }
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    reported: set[frozenset[str]] = set()

    def visit(key: str, path: list[str]) -> Iterator[Problem]:
        state[key] = 1
        path.append(key)
        for required in requires[key]:
            if state.get(required) == 1:
                cycle = [*path[path.index(required) :], required]
                members = frozenset(cycle)
                if members not in reported:
                    reported.add(members)
                    yield Problem(
                        format_path([cycle[0], "requires"]),
                        f"cycle of prerequisites: {' -> '.join(cycle)}",
                    )
            elif required not in state:
                yield from visit(required, path)
        path.pop()
        state[key] = 2

    for key in flags:
        if key not in state:
            yield from visit(key, [])


def _typo_warnings(document: Mapping[str, Any]) -> Iterator[Problem]:
    for key in document:
        if key.startswith("_") and key not in _RESERVED_DOCUMENT_KEYS:
            hint = _likely_meant(key, _RESERVED_DOCUMENT_KEYS)
            if hint:
                yield Problem(format_path([key]), f"unknown key; did you mean {json.dumps(hint)}?")
    for key, flag in flag_items(document):
        for field in flag:
            if field in RESERVED_FLAG_KEYS:
                continue
            hint = _likely_meant(field, _RESERVED_FLAG_KEYS_SORTED)
            if hint:
                yield Problem(
                    format_path([key, field]),
                    f"did you mean {json.dumps(hint)}? (kept as an attribute)",
                )


def _likely_meant(word: str, candidates: Iterable[str]) -> str | None:
    """The first of `candidates` that `word` is one edit (or only letter case) away from."""
    lowered = word.lower()
    for candidate in candidates:
        if abs(len(candidate) - len(word)) > 1:
            continue
        if lowered == candidate.lower() or _one_edit_apart(word, candidate):
            return candidate
    return None


def _one_edit_apart(a: str, b: str) -> bool:
    """True when one insertion, deletion, substitution or swap of neighbours turns a into b."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]]
            and a[diffs[1]] == b[diffs[0]]
        )
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))
