"""docs/flag-document.md and the README show what the code does, and link only inside the repo."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import mmh3
import pytest

from flagkit import Flags, Tenant
from tests.conftest import EXAMPLES, REPO, TEST_DATA
from tests.helpers import FLAGKIT
from tests.markdown_text import anchors, fenced_blocks, links, section

REFERENCE = REPO / "docs" / "flag-document.md"


def _between(text: str, marker: str) -> str:
    return text.split(f"<!-- {marker}:start -->", 1)[1].split(f"<!-- {marker}:end -->", 1)[0]


def vectors_table() -> str:
    """The Markdown table the reference prints between the vectors markers."""
    vectors = json.loads((TEST_DATA / "bucketing_vectors.json").read_text(encoding="utf-8"))
    rows = [
        "| salt | key | h (unsigned) | rank | percentage | on |",
        "|---|---|---:|---:|---:|---|",
    ]
    for vector in vectors["vectors"]:
        salt = vector["salt"] or "(empty)"
        rows.append(
            f"| `{salt}` | `{vector['key']}` | {vector['hash']} | {vector['rank']} "
            f"| {vector['percentage']} | {'on' if vector['on'] else 'off'} |"
        )
    return "\n".join(rows)


def test_reference_prints_the_golden_vectors() -> None:
    printed = _between(REFERENCE.read_text(encoding="utf-8"), "vectors").strip()
    assert printed == vectors_table(), (
        "docs/flag-document.md's vector table differs from tests/data/bucketing_vectors.json; "
        "regenerate it with: python -c 'from tests.test_docs import vectors_table; "
        "print(vectors_table())'"
    )


def test_reference_split_example_is_what_the_example_document_serves() -> None:
    """Each row: the variant formula by hand, and the variant `checkoutTheme` serves."""
    rows = _between(REFERENCE.read_text(encoding="utf-8"), "split-example").strip().splitlines()
    flags = Flags.from_file(EXAMPLES / "flags.json")
    weights = {"classic": 50, "fresh": 25, "bold": 25}  # the free-tier-experiment rule
    assert flags.flagset.document["checkoutTheme"]["rules"][1]["split"] == weights
    checked = 0
    for row in rows[2:]:
        tenant, hashed, bucket, variant = (cell.strip(" `") for cell in row.strip("|").split("|"))
        h = mmh3.hash(f"checkoutTheme:{tenant}", 86028157, signed=False)
        assert (int(hashed), int(bucket)) == (h, h % 100 + 1)
        answer = flags.evaluate("checkoutTheme", Tenant(tenant, tier="free"))
        assert (answer.variant, answer.reason, answer.rule) == (
            variant,
            "SPLIT",
            "free-tier-experiment",
        )
        checked += 1
    assert checked == 3


def test_reference_validation_example_prints_what_flagkit_validate_prints(
    tmp_path: Path,
) -> None:
    validation = section(REFERENCE.read_text(encoding="utf-8"), "## Validation")
    documents = re.findall(r"this `([\w.-]+\.json)`:\n\n```json\n(.*?)```", validation, re.S)
    assert [name for name, _ in documents] == ["flags.json", "fixed.json", "final.json"]
    for name, content in documents:
        (tmp_path / name).write_text(content, encoding="utf-8")
    sessions = [block for block in fenced_blocks(validation, "") if block.startswith("$ ")]
    assert len(sessions) == 3
    for session, expected_status in zip(sessions, [1, 1, 0], strict=True):
        command, *printed = session.splitlines()
        result = subprocess.run(
            [FLAGKIT, *command.removeprefix("$ flagkit ").split()],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert (result.stdout.splitlines(), result.returncode) == (printed, expected_status)


@pytest.mark.parametrize(
    "page",
    [REPO / "README.md", REFERENCE, REPO / "docs" / "impact.md", REPO / "docs" / "previews.md"],
    ids=["README", "reference", "impact", "previews"],
)
def test_every_link_stays_in_the_repository_and_finds_its_target(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    found = 0
    for target in links(text):
        if re.match(r"[a-z]+:", target):
            continue  # an absolute URL
        found += 1
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.is_relative_to(REPO), f"{target} leaves the repository"
        assert linked.exists(), f"{target}: no such file"
        if anchor:
            assert anchor in anchors(linked.read_text(encoding="utf-8")), f"{target}: no anchor"
    assert found > 0
