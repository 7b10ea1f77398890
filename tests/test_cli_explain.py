"""`flagkit explain` through the installed console script: docs/explain.md's sessions print
what they show, `--json` is `flagkit.explain`'s explanation, and mistakes get whole errors."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from flagkit.cli.documents import compile_file
from flagkit.explain import explain
from flagkit.model import Tenant
from flagkit.timestamps import parse_timestamp
from tests import test_docs
from tests.conftest import REPO
from tests.helpers import FLAGKIT, run_command, run_flagkit, run_python, write
from tests.markdown_text import fenced_blocks

PAGE = REPO / "docs" / "explain.md"


@pytest.fixture
def document(tmp_path: Path) -> Path:
    """The page's `flags.json` (and any other file it shows), written to `tmp_path`."""
    text = PAGE.read_text(encoding="utf-8")
    files = re.findall(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", text, re.DOTALL)
    assert [name for name, _ in files] == ["flags.json"]
    for name, content in files:
        write(tmp_path, name, content)
    return tmp_path / "flags.json"


def test_the_page_s_sessions_print_what_they_show(document: Path) -> None:
    sessions = fenced_blocks(PAGE.read_text(encoding="utf-8"), "console")
    assert len(sessions) == 5
    for session in sessions:
        command, *printed, echo, status = session.splitlines()
        assert (command.startswith("$ flagkit explain "), echo) == (True, "$ echo $?")
        arguments = shlex.split(command.removeprefix("$ flagkit "))
        result = run_command([FLAGKIT, *arguments], cwd=document.parent)
        assert (result.stdout.splitlines(), str(result.returncode), result.stderr) == (
            printed,
            status,
            "",
        ), command


def test_the_page_s_links_stay_in_the_repository_and_find_their_targets() -> None:
    test_docs.test_every_link_stays_in_the_repository_and_finds_its_target(PAGE)


def test_the_page_s_python_example_runs(document: Path) -> None:
    [example] = fenced_blocks(PAGE.read_text(encoding="utf-8"), "python")
    ran = run_python(example, cwd=document.parent)
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, "", "")


MISTAKES = [
    (["featureA", "--all"], 2, "flagkit explain: error: give a FLAG or --all, not both"),
    ([], 2, "flagkit explain: error: give a FLAG, or --all for every flag"),
    (
        ["featureA", "--attr", "region"],
        2,
        "flagkit explain: error: --attr takes KEY=VALUE, got 'region'",
    ),
    (["featureB"], 1, "flags.json: error: no flag 'featureB'"),
]


@pytest.mark.parametrize(
    ("arguments", "status", "error"),
    MISTAKES,
    ids=["flag-and-all", "neither", "bad-attr", "no-such-flag"],
)
def test_mistakes_are_whole_errors_on_stderr(
    document: Path, arguments: list[str], status: int, error: str
) -> None:
    result = run_command(
        [FLAGKIT, "explain", *arguments, "--file", "flags.json"], cwd=document.parent
    )
    assert (result.returncode, result.stdout, result.stderr) == (status, "", error + "\n")


def test_the_page_shows_the_mistakes_the_command_prints() -> None:
    shown = [
        line
        for block in fenced_blocks(PAGE.read_text(encoding="utf-8"), "")
        for line in block.splitlines()
    ]
    assert shown == [error for _, _, error in MISTAKES]


def test_an_invalid_document_is_an_error_and_explains_nothing(tmp_path: Path) -> None:
    broken = write(tmp_path, "broken.json", {"featureA": {"enabled": "yes"}})
    result = run_flagkit("explain", "featureA", "--file", broken, "--tenant", "acme")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"{broken}: error: featureA.enabled: \"yes\" is not of type 'boolean'\n"


AT = "2026-12-24T09:00:00+01:00"


def test_json_is_the_library_s_explanation(document: Path) -> None:
    result = run_flagkit(
        "explain",
        "featureA",
        "--file",
        document,
        "--tenant",
        "umbrella",
        "--attr",
        "region=eu-west-1",
        "--attr",
        "plan=basic",
        "--at",
        AT,
        "--json",
    )
    assert (result.returncode, result.stderr) == (0, "")
    flagset = compile_file(str(document), parse_timestamp(AT))
    tenant = Tenant("umbrella", None, {"region": "eu-west-1", "plan": "basic"})
    assert json.loads(result.stdout) == explain(flagset, "featureA", tenant).as_dict()
    rule = json.loads(result.stdout)["steps"][4]
    assert rule["conditions"][1] == {
        "attribute": "plan",
        "test": "equals",
        "operand": "pro",
        "negate": False,
        "ignoreCase": False,
        "present": True,
        "value": "basic",
        "held": False,
    }


def test_all_as_json_is_every_flag_s_explanation_in_document_order(document: Path) -> None:
    result = run_flagkit(
        "explain", "--all", "--file", document, "--tenant", "acme", "--at", AT, "--json"
    )
    assert (result.returncode, result.stderr) == (0, "")
    flagset = compile_file(str(document), parse_timestamp(AT))
    expected = [explain(flagset, key, Tenant("acme")).as_dict() for key in flagset.flags]
    assert json.loads(result.stdout) == expected
    assert [entry["evaluation"]["flag"] for entry in expected] == [
        "payments",
        "featureA",
        "holidaySale",
    ]
