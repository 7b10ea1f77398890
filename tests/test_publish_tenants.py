"""flagkit.publish.tenants: reading the tenants files `flagkit diff` and `push` take."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flagkit.errors import PublishError
from flagkit.evaluation import tenant_parts
from flagkit.model import Tenant
from flagkit.publish import parse_tenants, read_tenants
from tests.helpers import write


def test_tenants_file_takes_ids_tiers_comments_and_blank_lines() -> None:
    text = "# our tenants\nacme enterprise\n\n  globex   # no tier yet\numbrella free # data\n"
    assert parse_tenants(text) == (
        Tenant("acme", "enterprise"),
        Tenant("globex"),
        Tenant("umbrella", "free"),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "acme\nglobex pro extra\n",
            "t.txt:2: 'globex pro extra' has 3 words; expected `ID` or `ID TIER` "
            "(a tenant id, then optionally its tier); for attributes, write a .jsonl or .csv "
            "tenants file",
        ),
        (
            "acme\n# x\nacme pro\n",
            "t.txt:3: tenant 'acme' is listed again (first on line 1); expected each tenant once",
        ),
    ],
    ids=["three-words", "duplicate"],
)
def test_tenants_file_problems_name_the_line_the_value_and_what_was_expected(
    text: str, message: str
) -> None:
    with pytest.raises(PublishError) as raised:
        parse_tenants(text, "t.txt")
    assert str(raised.value) == message


def test_an_unreadable_tenants_file_is_a_publish_error(tmp_path: Path) -> None:
    with pytest.raises(PublishError, match=r"cannot read tenants file .*missing\.txt"):
        read_tenants(tmp_path / "missing.txt")
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"caf\xe9\n")
    with pytest.raises(PublishError, match="is not UTF-8 text"):
        read_tenants(latin)


# -- JSON Lines and CSV: tenants with attributes ----------------------------------------------

JSON_LINES = (
    '{"id": "acme", "tier": "gold", "plan": "pro", "seats": 40, "groups": ["beta"]}\n'
    "\n"
    '{"tenant": "globex", "region": "eu-west-1", "note": "line\u2028break"}\n'
    '{"targetingKey": "initech", "tier": null, "trial": true}\n'
)


def test_json_lines_read_each_object_as_an_evaluation_context() -> None:
    """`id` (else `tenant`, else `targetingKey`), `tier`, and every other key an attribute."""
    assert parse_tenants(JSON_LINES, "t.jsonl", "jsonl") == (
        Tenant("acme", "gold", {"plan": "pro", "seats": 40, "groups": ["beta"]}),
        Tenant("globex", None, {"region": "eu-west-1", "note": "line\u2028break"}),
        Tenant("initech", None, {"trial": True}),
    )


def test_a_json_lines_tenant_is_the_tenant_an_evaluation_context_makes() -> None:
    """The same mapping rules as `Flags.evaluate` given a mapping (`tenant_parts`)."""
    record = {"targetingKey": "x", "tenant": "globex", "tier": "gold", "plan": "pro"}
    (tenant,) = parse_tenants(json.dumps(record), "t.jsonl", "jsonl")
    assert tenant_parts(tenant) == tenant_parts(record) == ("globex", "gold", {"plan": "pro"})


CSV_FILE = (
    "id, tier ,plan,seats,trial,zip,groups,note\n"
    'acme,gold,pro,40,true,02134,"[""beta"", ""eu""]",""""\n'
    "globex,,,2.5,null,,,\n"
    "\n"
    '007,true,"""true""",-1,false,x,"a, b",{\n'
)


def test_csv_cells_that_are_json_are_json_and_the_rest_is_text() -> None:
    """`40` is a number, `true` a boolean, `null` null, `""true""` the text "true";
    `02134` and `a, b` are text; an empty cell is no attribute; id and tier are text."""
    assert parse_tenants(CSV_FILE, "t.csv", "csv") == (
        Tenant(
            "acme",
            "gold",
            {
                "plan": "pro",
                "seats": 40,
                "trial": True,
                "zip": "02134",
                "groups": ["beta", "eu"],
                "note": '"',
            },
        ),
        Tenant("globex", None, {"seats": 2.5, "trial": None}),
        Tenant(
            "007",
            "true",
            {
                "plan": "true",
                "seats": -1,
                "trial": False,
                "zip": "x",
                "groups": "a, b",
                "note": "{",
            },
        ),
    )


EXAMPLE = '{"id": "acme", "tier": "gold", "plan": "pro"}'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            '{"id": "acme"}\n{"id": "acme", "plan": 1}',
            "t.jsonl:2: tenant 'acme' is listed again (first on line 1); expected each tenant once",
            id="duplicate",
        ),
        pytest.param(
            '\n{"id": "acme",}',
            "t.jsonl:2: not valid JSON: Expecting property name enclosed in double quotes "
            "at column 15",
            id="syntax",
        ),
        pytest.param(
            '{"id": "acme", "seats": NaN}',
            "t.jsonl:1: not valid JSON: NaN is not a JSON number",
            id="nan",
        ),
        pytest.param(
            '{"id": "a", "plan": 1, "plan": 2}',
            't.jsonl:1: not valid JSON: the key "plan" appears twice in one object',
            id="key-twice",
        ),
        pytest.param(
            '["acme", "gold"]',
            "t.jsonl:1: an array, not an object; expected one tenant object per line, "
            f"such as {EXAMPLE}",
            id="array",
        ),
        pytest.param(
            "acme gold",
            "t.jsonl:1: not valid JSON: Expecting value at column 1",
            id="not-json",
        ),
        pytest.param(
            '{"id": 42}',
            "t.jsonl:1: tenant id must be a str, got int",
            id="id-type",
        ),
        pytest.param(
            '{"id": "acme", "tier": 2}',
            "t.jsonl:1: tenant tier must be a str, got int",
            id="tier-type",
        ),
        pytest.param(
            '{"plan": "pro"}',
            't.jsonl:1: no tenant id; expected "id" (or "tenant" or "targetingKey") '
            "with a non-empty string",
            id="no-id",
        ),
        pytest.param(
            '{"id": "acme", "attributes": {"plan": "pro"}}',
            't.jsonl:1: "attributes" holds an object; a tenant\'s attributes are keys of '
            f"its own object, such as {EXAMPLE}",
            id="nested",
        ),
    ],
)
def test_json_lines_problems_name_the_line_and_what_was_expected(text: str, message: str) -> None:
    with pytest.raises(PublishError) as raised:
        parse_tenants(text, "t.jsonl", "jsonl")
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "id,tier\nacme,gold\nacme,free\n",
            "t.csv:3: tenant 'acme' is listed again (first on line 2); expected each tenant once",
            id="duplicate",
        ),
        pytest.param(
            "name,tier\nacme,gold\n",
            "t.csv:1: the header 'name,tier' has no id column; expected a header such as "
            "'id,tier,plan' (the id column may also be named tenant or targetingKey)",
            id="no-id-column",
        ),
        pytest.param(
            "id,,plan\n",
            "t.csv:1: column 2 of the header has no name",
            id="unnamed",
        ),
        pytest.param(
            "id,plan,plan\n",
            "t.csv:1: column 'plan' appears twice in the header",
            id="named-twice",
        ),
        pytest.param(
            "id,tier\nacme,gold,pro\n",
            "t.csv:2: 3 cells, but the header has 2 columns",
            id="too-many",
        ),
        pytest.param(
            "id,tier\n\nacme\n",
            "t.csv:3: 1 cell, but the header has 2 columns",
            id="too-few",
        ),
        pytest.param(
            "id,tier\n,gold\n",
            't.csv:2: no tenant id; expected "id" (or "tenant" or "targetingKey") '
            "with a non-empty string",
            id="empty-id",
        ),
        pytest.param(
            'id,note\nacme,"two\nlines\nglobex,x\n',
            "t.csv:2: not valid CSV: unexpected end of data",
            id="open-quote",
        ),
        pytest.param(
            'id,note\nacme,"a"b\n',
            "t.csv:2: not valid CSV: ',' expected after '\"'",
            id="stray-quote",
        ),
    ],
)
def test_csv_problems_name_the_line_and_what_was_expected(text: str, message: str) -> None:
    with pytest.raises(PublishError) as raised:
        parse_tenants(text, "t.csv", "csv")
    assert str(raised.value) == message


def test_a_quoted_cell_over_several_lines_counts_from_the_line_its_row_starts_on() -> None:
    text = 'id,note\nacme,"one\ntwo"\nacme,x\n'
    with pytest.raises(PublishError) as raised:
        parse_tenants(text, "t.csv", "csv")
    assert str(raised.value) == (
        "t.csv:4: tenant 'acme' is listed again (first on line 2); expected each tenant once"
    )


def test_the_extension_names_the_format_unless_a_format_is_given(tmp_path: Path) -> None:
    """.jsonl and .ndjson are JSON Lines, .csv is CSV (a spreadsheet's byte-order mark
    is fine), anything else `ID [TIER]` lines."""
    line = '{"id": "acme", "plan": "pro"}\n'
    acme = (Tenant("acme", None, {"plan": "pro"}),)
    for name in ("t.jsonl", "t.NDJSON"):
        assert read_tenants(write(tmp_path, name, line)) == acme
    assert read_tenants(write(tmp_path, "t.csv", "\ufeffid,plan\nacme,pro\n")) == acme
    assert read_tenants(write(tmp_path, "t.txt", "acme gold\n")) == (Tenant("acme", "gold"),)
    assert read_tenants(write(tmp_path, "export.txt", line), "jsonl") == acme
    assert read_tenants(write(tmp_path, "t.lst", "id,plan\nacme,pro\n"), "csv") == acme
    with pytest.raises(PublishError) as raised:
        parse_tenants("acme", "t", "yaml")  # type: ignore[arg-type]
    assert str(raised.value) == "unknown tenants format 'yaml'; expected text, jsonl or csv"
