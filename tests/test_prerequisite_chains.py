"""Prerequisite chains (issue #10, section 2): checked without recursion, capped, always answered.

A chain of 1,000 `requires` used to raise `RecursionError` at load (a traceback from `flagkit
validate`), and a long chain that loaded made `enabled()` raise. Now cycles and depths are
found with explicit stacks, a chain longer than `MAX_PREREQUISITE_DEPTH` links is refused
with its path, and every valid document answers, from deep inside an application's stack,
in time linear in its flags (shared prerequisites are decided once per answer).
"""

from __future__ import annotations

import dataclasses
import sys
import textwrap
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flagkit import Flags, InvalidFlagError, Tenant
from flagkit.compiler import compile_document
from flagkit.document import changed_flags, check_document, load_document
from flagkit.evaluation import decide
from flagkit.flagset import CompiledFlag, Decision
from flagkit.prerequisites import MAX_PREREQUISITE_DEPTH
from tests.helpers import run_command, run_flagkit, write

T = TypeVar("T")

CALLER_DEPTH = 200
"""Python frames an application may well be inside when it asks for a flag."""


def from_deep_stack(function: Callable[[], T], depth: int = CALLER_DEPTH) -> T:
    """`function()` called from `depth` nested Python frames below this one."""
    if depth == 0:
        return function()
    return from_deep_stack(function, depth - 1)


def chain(links: int, **first: Any) -> dict[str, Any]:
    """f0 requires f1 requires ... f<links>: a chain of `links` links, all on."""
    document: dict[str, Any] = {
        f"f{i}": {"enabled": True, "requires": [f"f{i + 1}"]} for i in range(links)
    }
    document[f"f{links}"] = {"enabled": True}
    document["f0"].update(first)
    return document


def too_long(links: int) -> str:
    return (
        f"f0.requires: a chain of {links} prerequisites (f0 -> f1 -> f2 -> ... -> "
        f"f{links - 1} -> f{links}); at most {MAX_PREREQUISITE_DEPTH} are allowed"
    )


def test_the_cap_is_32_links() -> None:
    assert MAX_PREREQUISITE_DEPTH == 32


def test_a_chain_of_a_thousand_is_refused_with_its_path(tmp_path: Path) -> None:
    path = write(tmp_path, "flags.json", chain(1000))
    with pytest.raises(InvalidFlagError) as caught:
        load_document(path.read_bytes())
    assert [str(problem) for problem in caught.value.problems] == [too_long(1000)]
    with pytest.raises(InvalidFlagError) as caught:
        Flags.from_file(path)
    assert str(caught.value) == too_long(1000)


def test_flagkit_validate_reports_a_long_chain_without_a_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "flags.json", chain(1000))
    result = run_flagkit("validate", path)
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        f"{path}: error: {too_long(1000)}\n",
        "",
    )


def test_one_link_past_the_cap_is_refused_and_the_cap_itself_is_not() -> None:
    with pytest.raises(InvalidFlagError) as caught:
        check_document(chain(MAX_PREREQUISITE_DEPTH + 1))
    assert str(caught.value) == too_long(MAX_PREREQUISITE_DEPTH + 1)
    assert check_document(chain(MAX_PREREQUISITE_DEPTH)).warnings == ()


def test_a_flag_at_the_cap_answers_from_a_deep_call_stack() -> None:
    document = chain(MAX_PREREQUISITE_DEPTH, percentage=50)
    document[f"f{MAX_PREREQUISITE_DEPTH}"]["tenants"] = ["acme", "globex"]
    flags = Flags.from_dict(document)
    tenant = Tenant("acme", tier="gold", attributes={"plan": "trial"})

    evaluation = from_deep_stack(lambda: flags.evaluate("f0", tenant))
    assert (evaluation.reason.value, evaluation.rule, evaluation.error_code) == (
        "SPLIT",
        "percentage",
        None,
    )
    assert from_deep_stack(lambda: flags.enabled("f0", "acme")) is evaluation.enabled
    # A tenant outside the last flag's list is stopped at the first link.
    initech = from_deep_stack(lambda: flags.evaluate("f0", "initech"))
    assert (initech.enabled, initech.rule) == (False, "requires:f1")
    assert from_deep_stack(lambda: flags.enabled_flags("globex")) == [
        key for key in document if flags.enabled(key, "globex")
    ]
    answers = from_deep_stack(lambda: flags.evaluate_all({"id": "acme"}))
    assert len(answers) == MAX_PREREQUISITE_DEPTH + 1


def test_a_cycle_of_thousands_is_found_without_recursion() -> None:
    document = chain(4999)
    document["f4999"]["requires"] = ["f0"]
    with pytest.raises(InvalidFlagError) as caught:
        from_deep_stack(lambda: check_document(document))
    assert str(caught.value) == (
        "f0.requires: cycle of prerequisites: f0 -> f1 -> f2 -> ... -> f4999 -> f0"
    )


def test_cycles_still_name_every_flag_of_a_short_one() -> None:
    document = {
        "a": {"enabled": True, "requires": ["b"]},
        "b": {"enabled": True, "requires": ["c", "a"]},
        "c": {"enabled": True, "requires": ["b"]},
    }
    with pytest.raises(InvalidFlagError) as caught:
        check_document(document)
    assert [str(problem) for problem in caught.value.problems] == [
        "a.requires: cycle of prerequisites: a -> b -> a",
        "b.requires: cycle of prerequisites: b -> c -> b",
    ]


def diamonds(levels: int) -> dict[str, Any]:
    """Two flags a level, each requiring both of the next level: 2**levels paths to the end."""
    document: dict[str, Any] = {}
    for level in range(levels):
        below = [f"a{level + 1}", f"b{level + 1}"]
        document[f"a{level}"] = {"enabled": True, "requires": below}
        document[f"b{level}"] = {"enabled": True, "requires": below}
    document[f"a{levels}"] = document[f"b{levels}"] = {"enabled": True}
    return document


def test_shared_prerequisites_are_decided_once_per_answer(tmp_path: Path) -> None:
    """At the cap, 2**32 paths lead to the last flags; each flag is decided once instead.

    In a fresh interpreter with a time limit: without the fix it would run for hours.
    """
    path = write(tmp_path, "flags.json", diamonds(MAX_PREREQUISITE_DEPTH))
    code = textwrap.dedent(
        """
        import sys, flagkit
        flags = flagkit.Flags.from_file(sys.argv[1])
        print(flags.enabled("a0", "acme"), flags.evaluate("b0", "acme").rule)
        """
    )
    result = run_command([sys.executable, "-c", code, path], timeout=30)
    assert (result.returncode, result.stdout, result.stderr) == (0, "True static\n", "")


def test_compiling_and_comparing_hostile_valid_documents_stays_off_the_stack() -> None:
    """A thousand flags, a chain at the cap, attributes nested to the limit, big segments:
    compiled, compared and checked from a deep stack."""
    nested: Any = "leaf"
    for _ in range(30):  # featureN.config + 30 levels: the most a valid document may nest
        nested = [nested]
    document = chain(MAX_PREREQUISITE_DEPTH - 1)  # the g flags below add the last link
    document["_segments"] = {f"s{i}": [f"t{j}" for j in range(50)] for i in range(100)}
    for i in range(1000):
        document[f"g{i}"] = {
            "enabled": True,
            "requires": ["f0"],
            "segments": ["s1"],
            "config": nested,
            "rules": [{"when": [{"attribute": "id", "inSegment": f"s{i % 100}"}], "serve": True}],
        }
    changed = {**document, "_segments": {**document["_segments"], "s1": ["t0"]}}

    checked = from_deep_stack(lambda: check_document(document))
    flagset = from_deep_stack(lambda: compile_document(checked, version="1"))
    assert len(flagset.flags) == MAX_PREREQUISITE_DEPTH + 1000
    assert from_deep_stack(lambda: changed_flags(document, changed)) == {
        f"g{i}" for i in range(1000)
    }
    flags = Flags.from_dict(document)
    assert from_deep_stack(lambda: flags.evaluate("g7", "t3").rule) == "rules[0]"


# -- every valid document answers ------------------------------------------------------------


@st.composite
def prerequisite_graphs(draw: st.DrawFn) -> dict[str, Any]:
    """Flags f0..fN, each requiring some later flags (so no cycle), often the next one (so
    chains reach past the cap), with kill switches, lists and percentages."""
    count = draw(st.integers(1, MAX_PREREQUISITE_DEPTH + 8))
    document: dict[str, Any] = {}
    for i in range(count):
        later = list(range(i + 1, count))
        picked = draw(st.lists(st.sampled_from(later), max_size=3, unique=True)) if later else []
        if later and draw(st.integers(0, 39)) > 0:
            picked = sorted({i + 1, *picked})
        flag: dict[str, Any] = {"enabled": draw(st.integers(0, 19)) > 0}
        if picked:
            flag["requires"] = [f"f{j}" for j in picked]
        if draw(st.booleans()):
            flag["tenants"] = draw(st.lists(st.sampled_from(["acme", "globex"]), unique=True))
        if draw(st.booleans()):
            flag["percentage"] = draw(st.integers(0, 100))
        document[f"f{i}"] = flag
    return document


def longest_chain(document: dict[str, Any]) -> int:
    @cache
    def depth(key: str) -> int:
        return max((depth(r) + 1 for r in document[key].get("requires", [])), default=0)

    return max(depth(key) for key in document)


def reference_decision(flag: CompiledFlag, tenant: str) -> Decision:
    """`decide` as it was before shared prerequisites were decided once: plain recursion
    (the graphs here give every tenant an id, so no prerequisite answers with an error)."""
    if not flag.enabled:
        return flag.disabled
    for prerequisite, failed in flag.requires:
        if not reference_decision(prerequisite, tenant).on:
            return failed
    return decide(dataclasses.replace(flag, requires=()), tenant, None, {})


@given(prerequisite_graphs(), st.sampled_from(["acme", "globex", "initech"]))
def test_any_document_loads_or_is_refused_and_a_loaded_one_always_answers(
    document: dict[str, Any], tenant: str
) -> None:
    if longest_chain(document) > MAX_PREREQUISITE_DEPTH:
        with pytest.raises(InvalidFlagError) as caught:
            Flags.from_dict(document)
        assert all(problem.message.startswith("a chain of ") for problem in caught.value.problems)
        return
    flags = Flags.from_dict(document)
    answers = from_deep_stack(lambda: [flags.evaluate(key, tenant) for key in document])
    assert all(answer.error_code is None for answer in answers)
    expected = [reference_decision(flags.flagset.flags[key], tenant) for key in document]
    assert [(a.enabled, a.rule) for a in answers] == [(d.on, d.rule) for d in expected]
