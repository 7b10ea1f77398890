"""flagkit.publish.tenants: reading the tenants files `flagkit diff` and `push` take."""

from __future__ import annotations

from pathlib import Path

import pytest

from flagkit.errors import PublishError
from flagkit.model import Tenant
from flagkit.publish import parse_tenants, read_tenants


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
