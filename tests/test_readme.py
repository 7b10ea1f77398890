"""The README shows what the code does: its bucketing vectors are the tested ones."""

from __future__ import annotations

import json

from tests.conftest import REPO, TEST_DATA

START, END = "<!-- vectors:start -->", "<!-- vectors:end -->"


def vectors_table() -> str:
    """The Markdown table the README prints between the vectors markers."""
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


def test_readme_prints_the_golden_vectors() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    printed = readme.split(START, 1)[1].split(END, 1)[0].strip()
    assert printed == vectors_table(), (
        "README.md's vector table differs from tests/data/bucketing_vectors.json; regenerate "
        "it with: python -c 'from tests.test_readme import vectors_table; print(vectors_table())'"
    )


def test_readme_shows_the_two_setup_commands() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "make run" in quick_start
    assert "make test" in quick_start
