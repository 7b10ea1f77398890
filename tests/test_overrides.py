"""Local overrides (issue #13, item 3): the document and its errors, the forced answers, and
an overrides file rewritten on disk under a running `Flags` over a file source."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flagkit import ConfigurationError, DocumentError, Flags, SourceError
from flagkit.model import Reason
from flagkit.overrides import OverridesError, apply_overrides, parse_overrides
from tests.conftest import REPO, SCHEMAS
from tests.helpers import ChangeWaiter, flagkit_warnings, replace, wait_until, write
from tests.markdown_text import fenced_blocks, section

DOC: dict[str, Any] = {
    "featureA": {"enabled": True, "tenants": ["acme"]},
    "killed": {"enabled": False},
    "checkout": {
        "enabled": True,
        "variants": {"old": "v1", "new": "v2", "off": "v0"},
        "defaultVariant": "old",
        "offVariant": "off",
    },
    "untouched": {"enabled": True, "percentage": 50},
}
OVERRIDES_SCHEMA = jsonschema.Draft202012Validator(
    json.loads((SCHEMAS / "overrides.v1.schema.json").read_text("utf-8"))
)


def answer(flags: Flags, flag: str, tenant: str) -> tuple[Any, str | None, str, str | None]:
    evaluation = flags.evaluate(flag, tenant, default="caller")
    return evaluation.value, evaluation.variant, evaluation.reason.value, evaluation.rule


# -- the document -------------------------------------------------------------------------------

BAD_OVERRIDES = [
    pytest.param([], "overrides memory: (document): [] is not of type 'object'", id="not-object"),
    pytest.param(
        {"featureA": {"enabled": "yes"}},
        "overrides memory: featureA.enabled: \"yes\" is not of type 'boolean'",
        id="enabled-not-boolean",
    ),
    pytest.param(
        {"featureA": {}},
        "overrides memory: featureA: needs one of: enabled, variant, tenants",
        id="empty-override",
    ),
    pytest.param(
        {"checkout": {"enabled": False, "variant": "new"}},
        "overrides memory: checkout: has enabled, variant; give exactly one of them",
        id="both-forms",
    ),
    pytest.param(
        {"checkout": {"variant": ""}},
        "overrides memory: checkout.variant: an empty string; give at least 1 character",
        id="empty-variant",
    ),
    pytest.param(
        {"featureA": {"enabled": True, "value": 3}},
        "overrides memory: featureA.value: unknown field (expected one of: enabled, variant, "
        "tenants)",
        id="unknown-field",
    ),
    pytest.param(
        {"Feature A": {"enabled": True}},
        'overrides memory: ["Feature A"]: not a flag key (a flag key starts with a lowercase '
        "letter and has at most 64 letters, digits, '_' and '-')",
        id="bad-flag-key",
    ),
    pytest.param(
        {"featureA": {"tenants": ["acme"]}},
        "overrides memory: featureA.tenants: [\"acme\"] is not of type 'object'",
        id="tenants-not-object",
    ),
    pytest.param(
        {"featureA": {"tenants": {"acme": {"tenants": {}}}}},
        "2 problems in overrides memory:\n"
        "  featureA.tenants.acme.tenants: unknown field (expected one of: enabled, variant)\n"
        "  featureA.tenants.acme: needs one of: enabled, variant",
        id="tenant-without-answer",
    ),
    pytest.param(
        {"featureA": {"tenants": {"": {"enabled": True}}}},
        'overrides memory: featureA.tenants[""]: an empty tenant id',
        id="empty-tenant-id",
    ),
    pytest.param(
        {"featureA": True, "checkout": {"variant": 2}},
        "2 problems in overrides memory:\n"
        "  featureA: true is not of type 'object'\n"
        "  checkout.variant: 2 is not of type 'string'",
        id="every-problem-listed",
    ),
]


@pytest.mark.parametrize(("overrides", "message"), BAD_OVERRIDES)
def test_a_bad_overrides_document_is_refused_with_every_problem_by_json_path(
    overrides: Any, message: str
) -> None:
    with pytest.raises(OverridesError) as raised:
        parse_overrides(json.dumps(overrides), "memory")

    assert str(raised.value) == message
    assert isinstance(raised.value, DocumentError)
    assert not OVERRIDES_SCHEMA.is_valid(overrides)  # The published schema refuses it too.


GOOD_OVERRIDES = [
    pytest.param({}, id="empty"),
    pytest.param({"$schema": "overrides.v1.schema.json"}, id="metadata"),
    pytest.param({"featureA": {"enabled": False}}, id="boolean"),
    pytest.param({"checkout": {"variant": "new"}}, id="variant"),
    pytest.param({"featureA": {"tenants": {"acme": {"enabled": False}}}}, id="per-tenant"),
    pytest.param(
        {"checkout": {"enabled": False, "tenants": {"acme": {"variant": "new"}}}}, id="both"
    ),
]


@pytest.mark.parametrize("overrides", GOOD_OVERRIDES)
def test_a_good_overrides_document_is_taken_by_flagkit_and_by_the_schema(
    overrides: dict[str, Any],
) -> None:
    parsed = parse_overrides(overrides, "memory")

    assert set(parsed.flags) == {key for key in overrides if not key.startswith("$")}
    assert OVERRIDES_SCHEMA.is_valid(overrides)


def test_flags_refuse_bad_overrides_at_start() -> None:
    with pytest.raises(OverridesError) as raised:
        Flags.from_dict(DOC, overrides={"featureA": {"enabled": "yes"}})
    with pytest.raises(ConfigurationError) as wrong_kind:
        Flags.from_dict(DOC, overrides=[{"featureA": {"enabled": True}}])  # type: ignore[arg-type]

    assert str(raised.value) == (
        "overrides memory: featureA.enabled: \"yes\" is not of type 'boolean'"
    )
    assert str(wrong_kind.value) == (
        "overrides must be a file's path or a mapping of flag keys to overrides, got list"
    )


def test_a_bad_overrides_file_is_an_error_at_start_naming_the_file(tmp_path: Path) -> None:
    doc = write(tmp_path, "flags.json", DOC)
    bad = write(tmp_path, "overrides.json", '{"featureA": {"enabled": "no"}}')
    missing = tmp_path / "nowhere.json"

    with pytest.raises(OverridesError) as raised:
        Flags.from_file(doc, overrides=bad)
    with pytest.raises(OverridesError) as unreadable:
        Flags.from_file(doc, overrides=missing)

    assert str(raised.value) == (
        f"overrides file:{bad}: featureA.enabled: \"no\" is not of type 'boolean'"
    )
    assert str(unreadable.value) == (
        f"overrides file:{missing}: (document): cannot be read: No such file or directory"
    )


def test_overrides_that_are_not_json_say_where(tmp_path: Path) -> None:
    bad = write(tmp_path, "overrides.json", '{"featureA": {"enabled": fals}}')

    with pytest.raises(OverridesError) as raised:
        Flags.from_dict(DOC, overrides=bad)

    assert str(raised.value) == (
        f"overrides file:{bad}: (document): not valid JSON: Expecting value at line 1 column 26"
    )


# -- the answers --------------------------------------------------------------------------------

ANSWERS = [
    pytest.param(
        {"featureA": {"enabled": False}},
        "featureA",
        "acme",
        (False, "off", "STATIC", "override"),
        id="flag-wide-off",
    ),
    pytest.param(
        {"killed": {"enabled": True}},
        "killed",
        "anyone",
        (True, "on", "STATIC", "override"),
        id="wins-over-the-kill-switch",
    ),
    pytest.param(
        {"featureA": {"enabled": False, "tenants": {"acme": {"enabled": True}}}},
        "featureA",
        "acme",
        (True, "on", "STATIC", "override"),
        id="tenant-wins-over-flag-wide",
    ),
    pytest.param(
        {"featureA": {"enabled": True, "tenants": {"acme": {"enabled": False}}}},
        "featureA",
        "globex",
        (True, "on", "STATIC", "override"),
        id="flag-wide-for-other-tenants",
    ),
    pytest.param(
        {"featureA": {"tenants": {"globex": {"enabled": True}}}},
        "featureA",
        "acme",
        (True, "on", "TARGETING_MATCH", "tenants"),
        id="other-tenants-keep-the-documents-answer",
    ),
    pytest.param(
        {"checkout": {"variant": "new"}},
        "checkout",
        "acme",
        ("v2", "new", "STATIC", "override"),
        id="variant",
    ),
    pytest.param(
        {"checkout": {"enabled": False}},
        "checkout",
        "acme",
        ("v0", "off", "STATIC", "override"),
        id="variant-flag-turned-off-serves-off-variant",
    ),
    pytest.param(
        {"checkout": {"tenants": {"acme": {"variant": "new"}}}},
        "checkout",
        "acme",
        ("v2", "new", "STATIC", "override"),
        id="variant-per-tenant",
    ),
]


@pytest.mark.parametrize(("overrides", "flag", "tenant", "expected"), ANSWERS)
def test_an_override_forces_the_answer(
    overrides: dict[str, Any], flag: str, tenant: str, expected: tuple[Any, ...]
) -> None:
    flags = Flags.from_dict(DOC, overrides=overrides)

    assert answer(flags, flag, tenant) == expected
    evaluation = flags.evaluate(flag, tenant)
    assert flags.enabled(flag, tenant) is evaluation.enabled
    assert flags.value(flag, tenant) == evaluation.value
    assert evaluation in flags.evaluate_all(tenant)
    assert (flag in flags.enabled_flags(tenant)) is evaluation.enabled


def test_flags_without_an_override_keep_their_own_decider() -> None:
    served = Flags.from_dict(DOC).flagset
    overrides = parse_overrides({"featureA": {"enabled": False}}, "memory")

    applied = apply_overrides(served, overrides)

    for key in ("killed", "checkout", "untouched"):
        assert applied.flagset.deciders[key] is served.deciders[key], key
    assert applied.flagset.deciders["featureA"] is not served.deciders["featureA"]
    assert list(applied.flagset.deciders) == list(served.deciders)  # document order kept
    assert (applied.in_force, applied.ignored) == (("featureA",), ())


@given(st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=5), st.text(max_size=8))
def test_listed_tenants_get_the_forced_answer_and_the_rest_the_documents(
    forced_tenants: list[str], tenant: str
) -> None:
    overrides = {"untouched": {"tenants": {name: {"enabled": False} for name in forced_tenants}}}
    plain = Flags.from_dict(DOC)
    flags = Flags.from_dict(DOC, overrides=overrides)

    got = flags.evaluate("untouched", tenant)

    if tenant in forced_tenants:
        assert (got.enabled, got.reason, got.rule) == (False, Reason.STATIC, "override")
    else:
        assert got == plain.evaluate("untouched", tenant)


CHAIN: dict[str, Any] = {
    "payments": {"enabled": True, "tenants": ["acme", "globex"]},
    "checkoutV2": {"enabled": True, "requires": ["payments"], "percentage": 100},
    "oneClick": {"enabled": True, "requires": ["checkoutV2"], "excludedTenants": ["globex"]},
    "retired": {"enabled": False, "requires": ["payments"]},
    "alone": {"enabled": True, "percentage": 30},
}


def test_flags_that_require_an_overridden_flag_follow_the_override() -> None:
    # The group kill switch of docs/flag-document.md, thrown by an override in an incident.
    flags = Flags.from_dict(
        CHAIN, overrides={"payments": {"tenants": {"acme": {"enabled": False}}}}
    )

    assert answer(flags, "checkoutV2", "acme") == (
        False,
        "off",
        "TARGETING_MATCH",
        "requires:payments",
    )
    assert answer(flags, "oneClick", "acme") == (
        False,
        "off",
        "TARGETING_MATCH",
        "requires:checkoutV2",
    )
    assert answer(flags, "oneClick", "initech") == (
        False,
        "off",
        "TARGETING_MATCH",
        "requires:checkoutV2",
    )
    forced_on = Flags.from_dict(CHAIN, overrides={"payments": {"enabled": True}})
    assert answer(forced_on, "oneClick", "initech") == (True, "on", "STATIC", "static")
    assert answer(forced_on, "oneClick", "globex")[3] == "excludedTenants"
    assert answer(forced_on, "retired", "acme") == (False, "off", "DISABLED", "kill-switch")


@given(
    st.sets(st.sampled_from(["acme", "globex", "initech", "umbrella"]), max_size=3),
    st.sampled_from(["acme", "globex", "initech", "umbrella", "hooli", ""]),
    st.booleans(),
)
def test_tenants_an_override_does_not_name_get_the_documents_answers_down_the_chain(
    named: set[str], tenant: str, forced: bool
) -> None:
    overrides = {"payments": {"tenants": {name: {"enabled": forced} for name in named}}}
    plain = Flags.from_dict(CHAIN)
    flags = Flags.from_dict(CHAIN, overrides=overrides)

    for key in CHAIN:
        if tenant not in named:
            assert flags.evaluate(key, tenant or None) == plain.evaluate(key, tenant or None), key
        elif key == "payments":
            assert flags.enabled(key, tenant) is forced


UNUSABLE = [
    pytest.param(
        {"later": {"enabled": True}},
        "later: the flag document has no flag 'later'",
        id="unknown-flag",
    ),
    pytest.param(
        {"checkout": {"variant": "newest"}},
        "checkout: 'checkout' has no variant 'newest' (it has: old, new, off)",
        id="unknown-variant",
    ),
    pytest.param(
        {"featureA": {"tenants": {"acme": {"variant": "new"}}}},
        "featureA.tenants.acme: 'featureA' is a boolean flag: force it with \"enabled\"",
        id="variant-on-a-boolean-flag",
    ),
    pytest.param(
        {"checkout": {"enabled": True}},
        'checkout: \'checkout\' is a variant flag: force it with "variant" (or "enabled": false)',
        id="enabled-true-on-a-variant-flag",
    ),
]


@pytest.mark.parametrize(("overrides", "reason"), UNUSABLE)
def test_an_override_the_document_cannot_take_is_a_warning_and_ignored(
    overrides: dict[str, Any], reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="flagkit")
    plain = Flags.from_dict(DOC, version="v1")

    flags = Flags.from_dict(DOC, version="v1", overrides=overrides)

    assert flagkit_warnings(caplog) == [
        f"flagkit: override ignored until flag document version v1 has it (memory): {reason}"
    ]
    assert flags.evaluate_all("acme") == plain.evaluate_all("acme")
    assert flags.status.overrides == 0


# -- a running Flags, its files rewritten on disk -------------------------------------------------


def test_an_overrides_file_is_re_read_when_it_changes_and_a_bad_one_keeps_the_last_good(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="flagkit")
    doc = write(tmp_path, "flags.json", DOC)
    path = write(tmp_path, "overrides.json", {"featureA": {"enabled": False}})
    flags = Flags.from_file(doc, overrides=path)
    assert answer(flags, "featureA", "acme") == (False, "off", "STATIC", "override")
    assert (flags.status.overrides, flags.status.overrides_origin) == (1, f"file:{path}")

    replace(path, {"featureA": {"enabled": True}, "killed": {"enabled": True}})
    assert flags.refresh() is False  # The document did not change; the overrides did.
    assert flags.enabled("killed", "x") is True
    assert flags.status.overrides == 2

    replace(path, '{"killed": {"enabled": 1}}')
    flags.refresh()
    flags.refresh()  # Logged once, not at every refresh.

    rejection = f"overrides file:{path}: killed.enabled: 1 is not of type 'boolean'"
    assert flagkit_warnings(caplog) == [
        f"flagkit: rejected overrides file:{path}; still serving the last good overrides (2): "
        "killed.enabled: 1 is not of type 'boolean'"
    ]
    assert flags.enabled("killed", "x") is True  # the last good overrides
    assert (flags.status.overrides, flags.status.overrides_error) == (2, rejection)

    replace(path, {})
    flags.refresh()
    assert answer(flags, "killed", "x") == (False, "off", "DISABLED", "kill-switch")
    assert (flags.status.overrides, flags.status.overrides_error) == (0, None)


def test_a_refresh_thread_applies_new_overrides_without_a_new_document(tmp_path: Path) -> None:
    doc = write(tmp_path, "flags.json", DOC)
    path = write(tmp_path, "overrides.json", {})
    with Flags.from_file(doc, overrides=path, refresh_mode="thread", poll_interval=0.02) as flags:
        assert flags.enabled("featureA", "acme") is True

        replace(path, {"featureA": {"tenants": {"acme": {"enabled": False}}}})

        assert wait_until(lambda: not flags.enabled("featureA", "acme"), timeout=10)
        assert answer(flags, "featureA", "acme") == (False, "off", "STATIC", "override")


def test_overrides_apply_while_the_source_is_down(tmp_path: Path) -> None:
    # The incident: the source itself is the problem, and the override must still land.
    doc = write(tmp_path, "flags.json", DOC)
    path = write(tmp_path, "overrides.json", {})
    flags = Flags.from_file(doc, overrides=path)
    doc.unlink()
    replace(path, {"featureA": {"enabled": False}})

    with pytest.raises(SourceError):
        flags.refresh()

    assert answer(flags, "featureA", "acme") == (False, "off", "STATIC", "override")


def test_an_override_ignored_applies_once_the_document_has_the_flag(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="flagkit")
    doc = write(tmp_path, "flags.json", DOC)
    flags = Flags.from_file(doc, overrides={"later": {"enabled": False}})
    changes = ChangeWaiter()
    flags.on_change(changes)
    assert flags.status.overrides == 0

    replace(doc, {**DOC, "later": {"enabled": True}})
    assert flags.refresh() is True

    assert answer(flags, "later", "acme") == (False, "off", "STATIC", "override")
    assert flags.status.overrides == 1
    assert changes.calls[0][2] == frozenset({"later"})
    assert len(flagkit_warnings(caplog)) == 1  # only the first document lacked it


def test_reads_during_overrides_swaps_come_from_one_whole_flag_set(tmp_path: Path) -> None:
    doc = write(tmp_path, "flags.json", DOC)
    path = write(tmp_path, "overrides.json", {})
    flags = Flags.from_file(doc, overrides=path)
    stop = threading.Event()
    seen: set[tuple[Any, ...]] = set()

    def read() -> None:
        while not stop.is_set():
            seen.add(answer(flags, "featureA", "acme"))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for turn in range(20):
            replace(path, {"featureA": {"enabled": bool(turn % 2)}} if turn % 3 else {})
            flags.refresh()
    finally:
        stop.set()
        reader.join()

    assert seen <= {
        (True, "on", "TARGETING_MATCH", "tenants"),
        (True, "on", "STATIC", "override"),
        (False, "off", "STATIC", "override"),
    }


# -- docs/overrides.md ----------------------------------------------------------------------------


def test_the_documented_example_answers_as_the_page_says() -> None:
    text = (REPO / "docs" / "overrides.md").read_text(encoding="utf-8")
    example = json.loads(fenced_blocks(section(text, "## The document"), "json")[0])
    document = {
        "featureA": {"enabled": True},
        "checkout": {"enabled": True, "variants": {"old": 1, "new": 2}, "defaultVariant": "old"},
        "featureB": {"enabled": False},
        "search": {"enabled": False},
    }
    flags = Flags.from_dict(document, overrides=example)

    assert answer(flags, "featureA", "acme") == (False, "off", "STATIC", "override")
    assert answer(flags, "checkout", "initech") == (2, "new", "STATIC", "override")
    assert answer(flags, "featureB", "acme") == (True, "on", "STATIC", "override")
    assert answer(flags, "featureB", "globex") == (False, "off", "DISABLED", "kill-switch")
    assert answer(flags, "search", "acme") == (True, "on", "STATIC", "override")
    assert answer(flags, "search", "globex") == (False, "off", "STATIC", "override")
    assert OVERRIDES_SCHEMA.is_valid(example)


def test_usage_counts_leave_overridden_answers_out_and_survive_an_overrides_change(
    tmp_path: Path,
) -> None:
    doc = write(tmp_path, "flags.json", DOC)
    path = write(tmp_path, "overrides.json", {"featureA": {"enabled": False}})
    flags = Flags.from_file(doc, overrides=path)
    for _ in range(3):
        flags.enabled("featureA", "acme")  # overridden: not counted
        flags.enabled("killed", "acme")

    replace(path, {})  # the same document, new overrides: no answer is counted twice
    flags.refresh()
    flags.enabled("featureA", "acme")

    counts = {(c.flag, c.variant, c.reason.value): c.count for c in flags.usage().counts}
    assert counts == {
        ("killed", "off", "DISABLED"): 3,
        ("featureA", "on", "TARGETING_MATCH"): 1,
    }
    assert flags.usage().counts == ()
