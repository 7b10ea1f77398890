"""Tenants files: the tenants `flagkit diff` and `flagkit push` evaluate a change for.

Three formats, chosen by the file's extension unless named (`format=`, or the CLI's
`--tenants-format`):

| format | extension | a tenant is |
|---|---|---|
| `text` | any other | a line `ID` or `ID TIER`; `#` starts a comment |
| `jsonl` | `.jsonl`, `.ndjson` | a line `{"id": "acme", "tier": "gold", "plan": "pro"}` |
| `csv` | `.csv` | a row under a header: `id,tier,plan` then `acme,gold,pro` |

A JSON Lines object or a CSV row is read as an evaluation context is
(`flagkit.evaluation.tenant_parts`): the id is `id` (else `tenant`, else
`targetingKey`), the tier is `tier`, and every other key is an attribute, at the top
level. A CSV cell that is JSON (`42`, `2.5`, `true`, `false`, `null`, `"quoted"`,
`["a", "b"]`) is that value, any other cell its text, and an empty cell is an absent
attribute; `id` and `tier` cells are always text. docs/impact.md says it for users.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator, Mapping
from typing import Any, Literal, get_args

from flagkit.document import parse_document
from flagkit.errors import DocumentError, PublishError
from flagkit.evaluation import tenant_parts
from flagkit.model import Tenant, read_only

__all__ = ["TenantsFormat", "parse_tenants", "read_tenants", "tenants_format_for"]

TenantsFormat = Literal["text", "jsonl", "csv"]
"""How a tenants file is written: `ID [TIER]` lines, JSON Lines, or CSV with a header."""

_EXTENSIONS: Mapping[str, TenantsFormat] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
_ID_KEYS = ("id", "tenant", "targetingKey")
"""Where a tenant object's id is, in this order: what `tenant_parts` reads."""
_TEXT_KEYS = frozenset({*_ID_KEYS, "tier"})
_EXAMPLE_OBJECT = '{"id": "acme", "tier": "gold", "plan": "pro"}'


def tenants_format_for(path: str | os.PathLike[str]) -> TenantsFormat:
    """The format a tenants file's extension names: `jsonl` for `.jsonl` and `.ndjson`,
    `csv` for `.csv`, else `text`."""
    extension = os.path.splitext(os.fspath(path))[1].lower()
    return _EXTENSIONS.get(extension, "text")


def parse_tenants(
    text: str, source: str = "<tenants>", format: TenantsFormat = "text"
) -> tuple[Tenant, ...]:
    """The tenants of a tenants file's text, in file order.

    A problem (a malformed line or row, a tenant without an id, an id listed twice)
    raises `PublishError` naming `source`, the line number and what was expected.
    """
    if format not in get_args(TenantsFormat):
        raise PublishError(f"unknown tenants format {format!r}; expected text, jsonl or csv")
    records = {"text": _text_tenants, "jsonl": _json_lines_tenants, "csv": _csv_tenants}[format]
    tenants: list[Tenant] = []
    seen: dict[str, int] = {}
    for number, tenant in records(text, source):
        tenant_id = tenant.id or ""
        if tenant_id in seen:
            raise PublishError(
                f"{source}:{number}: tenant {tenant_id!r} is listed again (first on line "
                f"{seen[tenant_id]}); expected each tenant once"
            )
        seen[tenant_id] = number
        tenants.append(tenant)
    return tuple(tenants)


def read_tenants(
    path: str | os.PathLike[str], format: TenantsFormat | None = None
) -> tuple[Tenant, ...]:
    """`parse_tenants` of a UTF-8 file (a byte-order mark is allowed), in `format` or the one
    its extension names; an unreadable file raises `PublishError`."""
    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8-sig") as handle:
            text = handle.read()
    except OSError as exc:
        raise PublishError(f"cannot read tenants file {name!r}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise PublishError(
            f"tenants file {name!r} is not UTF-8 text: {exc.reason} at byte {exc.start}"
        ) from None
    return parse_tenants(text, name, format or tenants_format_for(name))


def _text_tenants(text: str, source: str) -> Iterator[tuple[int, Tenant]]:
    """`ID` or `ID TIER` per line; blank lines and everything from a word starting with `#`
    are ignored."""
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split()
        for index, word in enumerate(words):
            if word.startswith("#"):
                del words[index:]
                break
        if not words:
            continue
        if len(words) > 2:
            raise PublishError(
                f"{source}:{number}: {line.strip()!r} has {len(words)} words; "
                "expected `ID` or `ID TIER` (a tenant id, then optionally its tier); "
                "for attributes, write a .jsonl or .csv tenants file"
            )
        yield number, Tenant(words[0], words[1] if len(words) == 2 else None)


def _json_lines_tenants(text: str, source: str) -> Iterator[tuple[int, Tenant]]:
    """One JSON object per line; blank lines are ignored."""
    # Not splitlines(): JSON text may hold U+2028 and other line breaks inside strings.
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        record = _json_value(line, where)
        if not isinstance(record, dict):
            raise PublishError(
                f"{where}: {_json_kind(record)}, not an object; expected one tenant object "
                f"per line, such as {_EXAMPLE_OBJECT}"
            )
        if isinstance(record.get("attributes"), dict):
            raise PublishError(
                f'{where}: "attributes" holds an object; a tenant\'s attributes are keys of '
                f"its own object, such as {_EXAMPLE_OBJECT}"
            )
        yield number, _tenant(record, where)


def _csv_tenants(text: str, source: str) -> Iterator[tuple[int, Tenant]]:
    """A header row naming the columns, then one tenant per row; blank lines are ignored."""
    reader = csv.reader(io.StringIO(text), strict=True)
    header: list[str] | None = None
    start = 1
    try:
        for row in reader:
            number, start = start, reader.line_num + 1
            if not row:
                continue
            where = f"{source}:{number}"
            if header is None:
                header = _csv_header(row, where)
                continue
            if len(row) != len(header):
                raise PublishError(
                    f"{where}: {_count(len(row), 'cell')}, but the header has "
                    f"{_count(len(header), 'column')}"
                )
            record = {
                name: cell if name in _TEXT_KEYS else _cell_value(cell)
                for name, cell in zip(header, row, strict=True)
                if cell != ""
            }
            yield number, _tenant(record, where)
    except csv.Error as exc:
        raise PublishError(f"{source}:{start}: not valid CSV: {exc}") from None


def _csv_header(row: list[str], where: str) -> list[str]:
    names = [cell.strip() for cell in row]
    for position, name in enumerate(names, 1):
        if not name:
            raise PublishError(f"{where}: column {position} of the header has no name")
        if name in names[: position - 1]:
            raise PublishError(f"{where}: column {name!r} appears twice in the header")
    if not any(name in _ID_KEYS for name in names):
        raise PublishError(
            f"{where}: the header {','.join(names)!r} has no id column; expected a header "
            "such as 'id,tier,plan' (the id column may also be named tenant or targetingKey)"
        )
    return names


def _cell_value(cell: str) -> Any:
    """A CSV cell's value: the JSON value it spells, else its text."""
    try:
        return parse_document(cell)
    except DocumentError:
        return cell


def _tenant(record: Mapping[str, Any], where: str) -> Tenant:
    """The tenant a JSON object or CSV row describes, read as `tenant_parts` reads a mapping."""
    parts = tenant_parts(record)
    if isinstance(parts, str):
        raise PublishError(f"{where}: {parts}")
    tenant_id, tier, attributes = parts
    if not tenant_id:
        raise PublishError(
            f'{where}: no tenant id; expected "id" (or "tenant" or "targetingKey") '
            "with a non-empty string"
        )
    return Tenant(tenant_id, tier, read_only(attributes))


def _json_value(line: str, where: str) -> Any:
    """The JSON value of one line, read as a flag document is (no NaN, no key twice)."""
    try:
        return parse_document(line)
    except DocumentError as exc:
        message = exc.problems[0].message.replace(" at line 1 column ", " at column ")
        raise PublishError(f"{where}: {message}") from None


def _json_kind(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, list):
        return "an array"
    return "a string" if isinstance(value, str) else "a number"


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"
