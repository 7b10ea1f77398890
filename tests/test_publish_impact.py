"""flagkit.publish.impact (`diff_documents`, `format_diff`) and the `flagkit diff` command."""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import FrozenInstanceError
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flagkit.client import Flags
from flagkit.errors import DocumentError
from flagkit.model import Tenant
from flagkit.publish import Diff, FlagDiff, VariantChange, diff_documents, format_diff
from flagkit.timestamps import format_timestamp
from tests import strategies
from tests.appconfig_control_stub import AppConfigControlStub
from tests.conftest import REPO
from tests.control_cli import flagkit_cli, on_terminal
from tests.helpers import FLAGKIT, run_command, run_flagkit, write
from tests.markdown_text import fenced_blocks
from tests.publish_data import TENANTS_FILE

OLD: dict[str, Any] = {
    "payments": {"enabled": True},
    "featureA": {"enabled": True, "requires": ["payments"], "tenants": ["acme", "globex"]},
    "legacy": {"enabled": True},
    "same": {"enabled": True, "tiers": ["pro"]},
}
NEW: dict[str, Any] = {
    "payments": {"enabled": True, "excludedTenants": ["initech"]},
    "featureA": {
        "enabled": True,
        "requires": ["payments"],
        "tenants": ["acme", "initech", "hooli"],
        "temperature": 0.7,
    },
    "same": {"enabled": True, "tiers": ["pro"]},
    "fresh": {"enabled": True, "tiers": ["enterprise"]},
}
TENANTS = (
    Tenant("acme", "enterprise"),
    Tenant("globex", "pro"),
    Tenant("initech", "free"),
    Tenant("hooli"),
)


def test_diff_names_exactly_who_gains_and_loses_each_flag() -> None:
    diff = diff_documents(OLD, NEW, TENANTS)
    assert diff == Diff(
        added=("fresh",),
        removed=("legacy",),
        changed=("payments", "featureA"),
        flags=(
            FlagDiff("payments", "changed", ("excludedTenants",), lost=("initech",)),
            FlagDiff(
                "featureA",
                "changed",
                ("temperature", "tenants"),
                gained=("hooli",),
                lost=("globex",),
            ),
            FlagDiff("fresh", "added", gained=("acme",)),
            FlagDiff("legacy", "removed", lost=("acme", "globex", "initech", "hooli")),
        ),
        tenants=4,
    )
    assert diff.affected_tenants == ("initech", "hooli", "globex", "acme")
    assert diff.changes_answers
    with pytest.raises(FrozenInstanceError):
        diff.tenants = 0  # type: ignore[misc]


def test_diff_follows_requires_to_flags_whose_own_json_did_not_change() -> None:
    old = {"payments": {"enabled": True}, "checkout": {"enabled": True, "requires": ["payments"]}}
    new = {"payments": {"enabled": False}, "checkout": {"enabled": True, "requires": ["payments"]}}
    diff = diff_documents(old, new, (Tenant("acme"),))
    assert diff.changed == ("payments",)
    assert [(f.flag, f.status, f.lost) for f in diff.flags] == [
        ("payments", "changed", ("acme",)),
        ("checkout", "prerequisite", ("acme",)),
    ]


def test_diff_reports_variant_changes_and_segment_edits() -> None:
    def theme(segment: list[str]) -> dict[str, Any]:
        return {
            "_segments": {"beta": segment},
            "theme": {
                "enabled": True,
                "variants": {"classic": 1, "fresh": 2, "none": 0},
                "defaultVariant": "classic",
                "offVariant": "none",
                "tenants": ["acme", "globex"],
                "rules": [{"when": [{"attribute": "id", "inSegment": "beta"}], "serve": "fresh"}],
            },
        }

    diff = diff_documents(theme(["acme"]), theme(["globex"]), (Tenant("acme"), Tenant("globex")))
    (flag,) = diff.flags
    assert flag.fields == ("_segments.beta",)
    assert flag.variant_changes == (
        VariantChange("acme", "fresh", "classic"),
        VariantChange("globex", "classic", "fresh"),
    )
    assert format_diff(diff) == [
        "theme: 2 tenants change variant (changed: _segments.beta)",
        "  ~ acme: fresh -> classic, globex: classic -> fresh",
        "summary: 1 flag differs (0 added, 0 removed, 1 changed); "
        "a different answer for 2 of 2 tenants",
    ]


def test_an_attribute_change_alone_changes_no_answer() -> None:
    diff = diff_documents(
        {"a": {"enabled": True, "model": "x"}}, {"a": {"enabled": True, "model": "y"}}, TENANTS
    )
    assert [(f.flag, f.fields, f.changes_answers) for f in diff.flags] == [("a", ("model",), False)]
    assert not diff.changes_answers
    assert format_diff(diff)[0] == "a: no tenant's answer changes (changed: model)"


def test_without_tenants_any_flag_change_counts_as_impact() -> None:
    diff = diff_documents(OLD, NEW)
    assert diff.changes_answers
    assert format_diff(diff) == [
        "payments: changed: excludedTenants",
        "featureA: changed: temperature, tenants",
        "fresh: added",
        "legacy: removed",
        "summary: 4 flags differ (1 added, 1 removed, 2 changed); no tenants given, so which "
        "tenants are affected is unknown",
    ]
    assert not diff_documents(OLD, OLD).changes_answers


def test_format_diff_caps_the_ids_unless_told_not_to() -> None:
    many = tuple(Tenant(f"t{i}") for i in range(13))
    diff = diff_documents({}, {"a": {"enabled": True}}, many)
    assert format_diff(diff, limit=10)[:2] == [
        "a: +13 tenants (added)",
        "  + t0, t1, t2, t3, t4, t5, t6, t7, t8, t9 … and 3 more",
    ]
    assert format_diff(diff, limit=None)[1] == "  + " + ", ".join(t.id or "" for t in many)


def test_diffing_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    """The documents' warnings are the caller's to print; the diff builds no `Flags` to log them."""
    typo = {"_segment": {}, "a": {"enabled": True}}
    with caplog.at_level(logging.DEBUG):
        diff = diff_documents(typo, typo, (Tenant("acme"),))
    assert (diff.flags, caplog.records) == ((), [])


def test_diff_as_dict_is_json_for_ci() -> None:
    answer = json.loads(json.dumps(diff_documents(OLD, NEW, TENANTS).as_dict()))
    assert answer["flags"][1] == {
        "flag": "featureA",
        "status": "changed",
        "fields": ["temperature", "tenants"],
        "gained": ["hooli"],
        "lost": ["globex"],
        "variantChanges": [],
        "assessed": True,
        "missing": [],
    }
    assert (answer["tenants"], answer["affectedTenants"], answer["changesAnswers"]) == (4, 4, True)
    assert answer["unassessed"] == []


@st.composite
def edited_documents(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A valid document and a valid edit of it: toggles, new percentages and tenant lists,
    a flag dropped (when nothing requires it) or added."""
    old = draw(strategies.documents())
    new = copy.deepcopy(old)
    keys = [key for key in new if not key.startswith(("$", "_"))]
    for key in keys:
        flag = new[key]
        edit = draw(st.sampled_from(["none", "toggle", "percentage", "tenants", "drop"]))
        if edit == "toggle":
            flag["enabled"] = not flag["enabled"]
        elif edit == "percentage":
            flag["percentage"] = draw(strategies.percentages())
        elif edit == "tenants":
            flag["tenants"] = draw(st.lists(st.sampled_from(TENANT_IDS), max_size=3))
        elif edit == "drop" and not any(
            key in new[k].get("requires", ()) for k in keys if k in new
        ):
            del new[key]
    if draw(st.booleans()):
        new["added"] = {"enabled": True, "tiers": draw(st.lists(st.sampled_from(TIERS)))}
    return old, new


TENANT_IDS = ("acme", "globex", "initech", "hooli", "umbrella")
TIERS = ("free", "pro", "enterprise")


@given(
    documents=edited_documents(),
    tenants=st.lists(
        st.builds(Tenant, st.sampled_from(TENANT_IDS), st.sampled_from(TIERS)),
        unique_by=lambda tenant: tenant.id,
    ),
)
def test_diff_agrees_with_enabled_flags_and_reverses_exactly(
    documents: tuple[dict[str, Any], dict[str, Any]], tenants: list[Tenant]
) -> None:
    old, new = documents
    forward = diff_documents(old, new, tenants)
    backward = diff_documents(new, old, tenants)
    assert {f.flag: (f.gained, f.lost) for f in forward.flags if f.gained or f.lost} == {
        f.flag: (f.lost, f.gained) for f in backward.flags if f.gained or f.lost
    }
    # An independent path through the client: enabled_flags() uses the compiled deciders.
    before, after = Flags.from_dict(old), Flags.from_dict(new)
    for tenant in tenants:
        switched = set(before.enabled_flags(tenant)) ^ set(after.enabled_flags(tenant))
        reported = {f.flag for f in forward.flags if tenant.id in f.gained + f.lost}
        assert switched == reported
    assert not diff_documents(old, old, tenants).flags


# -- the console script -----------------------------------------------------------------------


def test_cli_diff_prints_a_line_per_flag_and_exits_3_on_impact(tmp_path: Path) -> None:
    old, new = write(tmp_path, "old.json", OLD), write(tmp_path, "new.json", NEW)
    tenants = write(tmp_path, "tenants.txt", TENANTS_FILE)
    result = run_flagkit("diff", old, new, "--tenants", tenants)
    assert result.returncode == 3, result.stderr
    assert result.stdout.splitlines() == [
        "payments: -1 tenant (changed: excludedTenants)",
        "  - initech",
        "featureA: +1 tenant, -1 tenant (changed: temperature, tenants)",
        "  + hooli",
        "  - globex",
        "fresh: +1 tenant (added)",
        "  + acme",
        "legacy: -4 tenants (removed)",
        "  - acme, globex, initech, hooli",
        "summary: 4 flags differ (1 added, 1 removed, 2 changed); "
        "a different answer for 4 of 4 tenants",
    ]
    assert result.stderr == ""


def test_cli_diff_json_and_a_no_impact_change_exit_0(tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", {"a": {"enabled": True, "model": "x"}})
    new = write(tmp_path, "new.json", {"a": {"enabled": True, "model": "y"}})
    tenants = write(tmp_path, "tenants.txt", TENANTS_FILE)
    result = run_flagkit("diff", old, new, "--tenants", tenants, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "old": str(old),
        "new": str(new),
        "added": [],
        "removed": [],
        "changed": ["a"],
        "flags": [
            {
                "flag": "a",
                "status": "changed",
                "fields": ["model"],
                "gained": [],
                "lost": [],
                "variantChanges": [],
                "assessed": True,
                "missing": [],
            }
        ],
        "tenants": 4,
        "affectedTenants": 0,
        "changesAnswers": False,
        "unassessed": [],
        "at": None,
        "oldAt": None,
    }


def test_cli_diff_caps_ids_unless_all(tmp_path: Path) -> None:
    old, new = (
        write(tmp_path, "old.json", {}),
        write(tmp_path, "new.json", {"a": {"enabled": True}}),
    )
    tenants = write(tmp_path, "t.txt", "".join(f"t{i}\n" for i in range(12)))
    capped = run_flagkit("diff", old, new, "--tenants", tenants)
    assert (
        capped.stdout.splitlines()[1] == "  + t0, t1, t2, t3, t4, t5, t6, t7, t8, t9 … and 2 more"
    )
    everything = run_flagkit("diff", old, new, "--tenants", tenants, "--all")
    assert everything.stdout.splitlines()[1] == "  + " + ", ".join(f"t{i}" for i in range(12))


def test_cli_diff_prints_each_documents_warnings_once(tmp_path: Path) -> None:
    typo = write(tmp_path, "typo.json", {"_segment": {}, "a": {"enabled": True}})
    result = run_flagkit("diff", typo, typo, "--tenants", write(tmp_path, "t.txt", "acme\n"))
    assert result.returncode == 0
    warning = '_segment: unknown key; did you mean "_segments"?'
    assert result.stderr.splitlines() == [f"{typo}: warning: {warning}"] * 2
    assert result.stdout == "summary: no flag differs; a different answer for 0 of 1 tenant\n"


def test_cli_diff_evaluates_an_escaped_lone_surrogate(tmp_path: Path) -> None:
    """`validate` takes `"\\ud800"` (only a salt must be hashable), and so does `diff`."""
    old = write(tmp_path, "old.json", '{"a": {"enabled": true, "tiers": ["\\ud800"]}}')
    new = write(tmp_path, "new.json", '{"a": {"enabled": true, "tiers": ["\\ud800", "pro"]}}')
    result = run_flagkit("diff", old, new, "--tenants", write(tmp_path, "t.txt", "acme pro\n"))
    assert (result.returncode, result.stderr) == (3, "")
    assert result.stdout.splitlines() == [
        "a: +1 tenant (changed: tiers)",
        "  + acme",
        "summary: 1 flag differs (0 added, 0 removed, 1 changed); "
        "a different answer for 1 of 1 tenant",
    ]


def test_cli_diff_refuses_invalid_input_with_exit_1(tmp_path: Path) -> None:
    good = write(tmp_path, "good.json", {"a": {"enabled": True}})
    bad = write(tmp_path, "bad.json", {"a": {"enabled": True, "percentage": -1}})
    result = run_flagkit("diff", good, bad)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"{bad}: error: a.percentage: -1 is less than the minimum of 0\n"
    tenants = write(tmp_path, "t.txt", "acme\nacme\n")
    result = run_flagkit("diff", good, good, "--tenants", tenants)
    assert result.returncode == 1
    assert result.stderr == (
        f"flagkit diff: error: {tenants}:2: tenant 'acme' is listed again (first on line 1); "
        "expected each tenant once\n"
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        pytest.param(
            {"a": {"enabled": True, "weight": float("nan")}},
            "(document): not JSON data: Out of range float values are not JSON compliant",
            id="nan",
        ),
        pytest.param(
            {"a": {"enabled": True, "tags": {"x"}}},
            "(document): not JSON data: Object of type set is not JSON serializable",
            id="set",
        ),
    ],
)
def test_a_document_that_is_not_json_data_is_refused_by_path(
    document: dict[str, Any], message: str
) -> None:
    with pytest.raises(DocumentError) as raised:
        diff_documents({"a": {"enabled": True}}, document)
    assert str(raised.value) == message


# -- what the tenants file does not carry -----------------------------------------------------

PLAN_RULE: dict[str, Any] = {"when": [{"attribute": "plan", "equals": "trial"}], "serve": False}


def test_cli_diff_cannot_assess_a_rule_on_an_attribute_no_tenant_has(tmp_path: Path) -> None:
    """Today: "no tenant's answer changes", exit 0; trial tenants really lose checkout."""
    everyone = {"enabled": True, "percentage": 100}
    old = write(tmp_path, "old.json", {"checkout": everyone})
    new = write(tmp_path, "new.json", {"checkout": {**everyone, "rules": [PLAN_RULE]}})
    tenants = write(tmp_path, "tenants.txt", TENANTS_FILE)
    result = run_flagkit("diff", old, new, "--tenants", tenants)
    assert (result.returncode, result.stderr) == (4, "")
    assert result.stdout.splitlines() == [
        "checkout: could not assess (changed: rules)",
        '  ? not in the tenants file: attribute "plan", read by rules',
        "summary: 1 flag differs (0 added, 0 removed, 1 changed); "
        "a different answer for 0 of 4 tenants; 1 flag could not be assessed "
        "(its answers depend on what the tenants file does not carry)",
    ]


def test_cli_diff_cannot_assess_a_percentage_on_a_custom_stickiness_no_tenant_has(
    tmp_path: Path,
) -> None:
    """Today: "no tenant's answer changes", exit 0; a percentage on `org` moves for every org."""
    flag = {"enabled": True, "stickiness": "org", "percentage": 10}
    old = write(tmp_path, "old.json", {"checkout": flag})
    new = write(tmp_path, "new.json", {"checkout": {**flag, "percentage": 60}})
    tenants = write(tmp_path, "tenants.txt", TENANTS_FILE)
    result = run_flagkit("diff", old, new, "--tenants", tenants, "--json")
    assert (result.returncode, result.stderr) == (4, "")
    answer = json.loads(result.stdout)
    assert answer["flags"] == [
        {
            "flag": "checkout",
            "status": "changed",
            "fields": ["percentage"],
            "gained": [],
            "lost": [],
            "variantChanges": [],
            "assessed": False,
            "missing": [{"input": "attribute", "name": "org", "readBy": ["percentage"]}],
        }
    ]
    assert (answer["changesAnswers"], answer["unassessed"]) == (False, ["checkout"])


TENANTS_WITH_PLANS = (
    '{"id": "acme", "tier": "enterprise", "plan": "pro"}\n'
    '{"id": "globex", "tier": "pro", "plan": "trial"}\n'
    '{"id": "initech", "tier": "free", "plan": "trial", "org": "o-1"}\n'
)


def test_cli_diff_with_a_tenants_file_carrying_the_attribute_names_who_changes(
    tmp_path: Path,
) -> None:
    everyone = {"enabled": True, "percentage": 100}
    old = write(tmp_path, "old.json", {"checkout": everyone})
    new = write(tmp_path, "new.json", {"checkout": {**everyone, "rules": [PLAN_RULE]}})
    tenants = write(tmp_path, "tenants.jsonl", TENANTS_WITH_PLANS)
    result = run_flagkit("diff", old, new, "--tenants", tenants)
    assert (result.returncode, result.stderr) == (3, "")
    assert result.stdout.splitlines() == [
        "checkout: -2 tenants (changed: rules)",
        "  - globex, initech",
        "summary: 1 flag differs (0 added, 0 removed, 1 changed); "
        "a different answer for 2 of 3 tenants",
    ]
    # The same file under another name, its format named; and as CSV.
    renamed = write(tmp_path, "export.txt", TENANTS_WITH_PLANS)
    named = run_flagkit("diff", old, new, "--tenants", renamed, "--tenants-format", "jsonl")
    as_csv = write(tmp_path, "t.csv", "id,tier,plan\nacme,enterprise,pro\nglobex,pro,trial\n")
    from_csv = run_flagkit("diff", old, new, "--tenants", as_csv)
    assert (named.returncode, named.stdout) == (3, result.stdout)
    assert (from_csv.returncode, from_csv.stdout.splitlines()[:2]) == (
        3,
        ["checkout: -1 tenant (changed: rules)", "  - globex"],
    )


def test_cli_diff_exits_4_when_one_flag_is_unassessed_and_another_changes(
    tmp_path: Path,
) -> None:
    """4 wins over 3: the blast radius shown is incomplete, so no gate may pass it as 3."""
    old = {"a": {"enabled": True, "tenants": ["acme"]}, "b": {"enabled": True, "tiers": ["x"]}}
    new = {
        "a": {"enabled": True, "tenants": ["acme", "globex"]},
        "b": {"enabled": True, "tiers": ["x", "y"]},
    }
    tenants = write(tmp_path, "ids.txt", "acme\nglobex\n")
    result = run_flagkit(
        "diff", write(tmp_path, "old.json", old), write(tmp_path, "new.json", new),
        "--tenants", tenants,
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (4, "")
    assert result.stdout.splitlines() == [
        "a: +1 tenant (changed: tenants)",
        "  + globex",
        "b: could not assess (changed: tiers)",
        "  ? not in the tenants file: a tier, read by tiers",
        "summary: 2 flags differ (0 added, 0 removed, 2 changed); a different answer for 1 of 2 "
        "tenants; 1 flag could not be assessed (its answers depend on what the tenants file "
        "does not carry)",
    ]


def test_cli_diff_refuses_a_bad_tenants_line_by_file_and_line(tmp_path: Path) -> None:
    good = write(tmp_path, "good.json", {"a": {"enabled": True}})
    tenants = write(tmp_path, "t.jsonl", '{"id": "acme"}\n{"id": "globex", "tier": 3}\n')
    result = run_flagkit("diff", good, good, "--tenants", tenants)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"flagkit diff: error: {tenants}:2: tenant tier must be a str, got int\n"
    )
    bad_format = run_flagkit("diff", good, good, "--tenants", tenants, "--tenants-format", "xml")
    assert bad_format.returncode == 2  # argparse's own message, worded per Python version:
    assert "argument --tenants-format: invalid choice: 'xml'" in bad_format.stderr


PUSH_TARGET = ("--application", "shop", "--environment", "prod", "--profile", "flags")


@contextlib.contextmanager
def checkout_gaining_a_plan_rule(
    tmp_path: Path,
) -> Iterator[tuple[AppConfigControlStub, Path, str, str]]:
    """A control plane serving `checkout` on for everyone (version 1 of shop/prod/flags),
    a document adding a rule on the `plan` attribute (which TENANTS_FILE lacks), and the
    application's and profile's ids."""
    everyone = {"enabled": True, "percentage": 100}
    with AppConfigControlStub() as control:
        app = control.add_application("shop")
        env = control.add_environment(app, "prod")
        profile = control.add_profile(app, "flags")
        control.add_version(app, profile, json.dumps({"checkout": everyone}).encode())
        control.add_deployment(app, env, profile, 1)
        document = {"checkout": {**everyone, "rules": [PLAN_RULE]}}
        yield control, write(tmp_path, "flags.json", document), app, profile


def test_cli_push_shows_the_flags_it_could_not_assess(tmp_path: Path) -> None:
    """push prints the same report before it creates anything; its exit status is its own."""
    with checkout_gaining_a_plan_rule(tmp_path) as (control, source, _, _):
        tenants = write(tmp_path, "t.txt", TENANTS_FILE)
        result = flagkit_cli(
            control, "push", source, *PUSH_TARGET, "--tenants", tenants, "--dry-run"
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[2:5] == [
        "checkout: could not assess (changed: rules)",
        '  ? not in the tenants file: attribute "plan", read by rules',
        "summary: 1 flag differs (0 added, 0 removed, 1 changed); "
        "a different answer for 0 of 4 tenants; 1 flag could not be assessed "
        "(its answers depend on what the tenants file does not carry)",
    ]


def test_cli_push_yes_deploys_an_unassessed_change_only_when_told_to(tmp_path: Path) -> None:
    """A script's `--yes` must not deploy a change whose blast radius nobody could see."""
    with checkout_gaining_a_plan_rule(tmp_path) as (control, source, app, profile):
        tenants = write(tmp_path, "t.txt", TENANTS_FILE)
        refused = flagkit_cli(control, "push", source, *PUSH_TARGET, "--tenants", tenants, "--yes")
        versions_after_refusal = len(control.versions(app, profile))
        accepted = flagkit_cli(
            control, "push", source, *PUSH_TARGET, "--tenants", tenants, "--yes",
            "--accept-unassessed",
        )  # fmt: skip
        versions_after_acceptance = len(control.versions(app, profile))
    assert refused.returncode == 4, refused.stderr
    assert refused.stderr == (
        "flagkit push: error: not deploying: the tenants file could not assess checkout; "
        "nobody has seen this change's whole blast radius. Add what is missing to the "
        "tenants file, or pass --accept-unassessed\n"
    )
    assert versions_after_refusal == 1  # nothing created
    assert accepted.returncode == 0, accepted.stderr
    assert versions_after_acceptance == 2
    assert "created: hosted configuration version 2" in accepted.stdout


def test_cli_push_on_a_terminal_names_what_it_could_not_assess(tmp_path: Path) -> None:
    with checkout_gaining_a_plan_rule(tmp_path) as (control, source, _, _):
        tenants = write(tmp_path, "t.txt", TENANTS_FILE)
        terminal = on_terminal(control, "n", "push", source, *PUSH_TARGET, "--tenants", tenants)
    assert terminal.before_answer.splitlines()[-1] == (
        "1 flag could not be assessed with this tenants file (checkout). "
        "Deploy version 2 to prod with AppConfig.AllAtOnce? [y/N] "
    )
    assert terminal.returncode == 1


# -- docs/impact.md shows what the command does -------------------------------------------------

IMPACT_DOC = REPO / "docs" / "impact.md"


def test_the_impact_docs_sessions_print_what_they_show(tmp_path: Path) -> None:
    """Every `<!-- file: NAME -->` block is written, then every `$ flagkit` session runs."""
    text = IMPACT_DOC.read_text(encoding="utf-8")
    files = re.findall(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", text, re.DOTALL)
    assert [name for name, _ in files] == [
        "old.json", "new.json", "tenants.txt", "tenants.jsonl", "tenants.csv",
    ]  # fmt: skip
    for name, content in files:
        write(tmp_path, name, content)
    sessions = fenced_blocks(text, "console")
    assert len(sessions) == 3
    for session in sessions:
        command, *printed, echo, status = session.splitlines()
        assert (command.startswith("$ flagkit "), echo) == (True, "$ echo $?")
        result = run_command([FLAGKIT, *command.removeprefix("$ flagkit ").split()], cwd=tmp_path)
        assert (result.stdout.splitlines(), str(result.returncode)) == (printed, status)
    # The CSV file is the JSON Lines file in another format.
    same = run_flagkit(
        "diff", tmp_path / "old.json", tmp_path / "new.json", "--tenants", tmp_path / "tenants.csv"
    )
    assert (same.returncode, same.stdout.splitlines()[:2]) == (
        3,
        ["checkout: -2 tenants (changed: rules)", "  - globex, initech"],
    )


# -- as of two instants ------------------------------------------------------------------------

_BASE = 1_798_099_200.0  # 2026-12-24T08:00:00Z
_OFFSETS = (-7200, -1, 0, 1, 3600, 86_400)


@st.composite
def windowed_documents(draw: st.DrawFn) -> dict[str, Any]:
    """Flags with launch windows and conditions on `now` around one instant, some requiring
    others, some killed."""
    document: dict[str, Any] = {}
    for index in range(draw(st.integers(1, 4))):
        flag: dict[str, Any] = {"enabled": draw(st.booleans())}
        bounds = sorted(draw(st.lists(st.sampled_from(_OFFSETS), max_size=2, unique=True)))
        names = draw(st.sampled_from([("activeFrom", "activeUntil"), ("activeFrom",), ()]))
        for name, offset in zip(names, bounds, strict=False):
            flag[name] = format_timestamp(_BASE + offset)
        if draw(st.booleans()):
            test = draw(st.sampled_from(["before", "after"]))
            moment = format_timestamp(_BASE + draw(st.sampled_from(_OFFSETS)))
            flag["rules"] = [{"when": [{"attribute": "now", test: moment}], "serve": True}]
            flag["tiers"] = draw(st.lists(st.sampled_from(TIERS), max_size=1))
        if index and draw(st.booleans()):
            flag["requires"] = [f"f{draw(st.integers(0, index - 1))}"]
        document[f"f{index}"] = flag
    return document


@given(
    document=windowed_documents(),
    instants=st.lists(st.sampled_from(_OFFSETS), min_size=2, max_size=2),
    tenants=st.lists(
        st.builds(Tenant, st.sampled_from(TENANT_IDS), st.sampled_from(TIERS)),
        unique_by=lambda tenant: tenant.id,
        min_size=1,
    ),
)
def test_a_diff_across_two_instants_agrees_with_the_clock_of_flags(
    document: dict[str, Any], instants: list[int], tenants: list[Tenant]
) -> None:
    old_at, at = (_BASE + offset for offset in instants)
    diff = diff_documents(document, document, tenants, at=at, old_at=old_at)
    assert (diff.at, diff.old_at, diff.changed) == (at, old_at, ())
    assert all(flag.status == "scheduled" and flag.changes_answers for flag in diff.flags)
    before = Flags.from_dict(document, clock=lambda: old_at)
    after = Flags.from_dict(document, clock=lambda: at)
    for tenant in tenants:
        switched = set(before.enabled_flags(tenant)) ^ set(after.enabled_flags(tenant))
        reported = {f.flag for f in diff.flags if tenant.id in f.gained + f.lost}
        assert switched == reported
    # Without tenants, every flag some tenant's answer changes for is listed (maybe more).
    listed = diff_documents(document, document, at=at, old_at=old_at).scheduled
    assert set(diff.scheduled) <= set(listed)
