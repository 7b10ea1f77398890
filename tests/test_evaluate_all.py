"""`evaluate_all` reads the tenant once and reuses one `Evaluation` per precomputed decision;
its answers are exactly `evaluate`'s, the caller's default included."""

from __future__ import annotations

from flagkit import Flags, Reason

DOCUMENT = {
    "plain": {"enabled": True, "tenants": ["acme"]},
    "colour": {
        "enabled": True,
        "variants": {"red": "#f00", "blue": "#00f"},
        "defaultVariant": "blue",
        "tenants": ["acme"],
    },
    "killed": {"enabled": False},
}


def test_each_call_serves_its_own_default() -> None:
    flags = Flags.from_dict(DOCUMENT)
    first = {e.flag: e.value for e in flags.evaluate_all("globex", "first")}
    second = {e.flag: e.value for e in flags.evaluate_all("globex", "second")}
    assert first == {"plain": False, "colour": "first", "killed": False}
    assert second == {"plain": False, "colour": "second", "killed": False}


def test_a_served_decision_is_one_evaluation_and_equal_to_evaluate() -> None:
    flags = Flags.from_dict(DOCUMENT)
    once, again = flags.evaluate_all("acme"), flags.evaluate_all("acme")
    assert [a is b for a, b in zip(once, again, strict=True)] == [True, True, True]
    assert once == [flags.evaluate(key, "acme") for key in flags.keys]
    assert [e.reason for e in once] == [
        Reason.TARGETING_MATCH,
        Reason.TARGETING_MATCH,
        Reason.DISABLED,
    ]


def test_a_malformed_tenant_is_an_error_for_every_flag_but_the_killed_one() -> None:
    flags = Flags.from_dict(DOCUMENT)
    answers = flags.evaluate_all(42, "d")
    assert [(e.value, e.error_code and e.error_code.value) for e in answers] == [
        ("d", "INVALID_CONTEXT"),
        ("d", "INVALID_CONTEXT"),
        (False, None),
    ]
