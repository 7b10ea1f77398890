"""`matches` patterns: unanchored RE2 search, anchors, ignore_case, refused patterns with
RE2's reason, and the pattern that is catastrophic for Python's `re`."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flagkit.patterns import compile_pattern


@pytest.mark.parametrize(
    ("pattern", "text", "found"),
    [
        pytest.param("acme", "ops@acme.com", True, id="unanchored-finds-inside"),
        pytest.param("acme", "ops@acne.com", False, id="unanchored-not-there"),
        pytest.param("^acme", "acme.com", True, id="start-anchor-holds"),
        pytest.param("^acme", "ops@acme.com", False, id="start-anchor-fails"),
        pytest.param(r"@acme\.com$", "ops@acme.com", True, id="end-anchor-holds"),
        pytest.param(r"@acme\.com$", "ops@acme.com.evil", False, id="end-anchor-fails"),
        pytest.param(r"^\d+\.\d+$", "2.3", True, id="anchored-both-ends-holds"),
        pytest.param(r"^\d+\.\d+$", "2.3.1", False, id="anchored-both-ends-fails"),
        pytest.param(r"\.", "a.b", True, id="escaped-dot-holds"),
        pytest.param(r"\.", "ab", False, id="escaped-dot-fails"),
        pytest.param("", "", True, id="empty-pattern-matches-empty-text"),
        pytest.param("x", "", False, id="empty-text"),
        pytest.param("^.$", "é", True, id="dot-is-one-character-not-one-byte"),
        pytest.param("^.$", "e\u0301", False, id="combining-mark-is-a-character"),
        pytest.param("Acme", "acme", False, id="case-sensitive-by-default"),
        pytest.param("(?i)Acme", "ACME", True, id="inline-flag"),
        pytest.param("a", "\ud800a", True, id="lone-surrogate-in-text-never-raises"),
    ],
)
def test_search(pattern: str, text: str, found: bool) -> None:
    assert compile_pattern(pattern)(text) is found


@pytest.mark.parametrize(
    ("pattern", "text", "found"),
    [
        pytest.param("acme", "OPS@ACME.COM", True, id="ascii-upper-text"),
        pytest.param("ACME", "ops@acme.com", True, id="ascii-upper-pattern"),
        pytest.param("acme", "OPS@ACNE.COM", False, id="still-must-be-there"),
        pytest.param("^müller$", "MÜLLER", True, id="non-ascii-letters"),
        pytest.param("^\u03c3$", "\u03a3", True, id="greek-sigma"),
        pytest.param("^ǆ$", "ǅ", True, id="title-case-digraph"),
        pytest.param("^müller$", "MULLER", False, id="accents-still-count"),
    ],
)
def test_ignore_case(pattern: str, text: str, found: bool) -> None:
    assert compile_pattern(pattern, ignore_case=True)(text) is found
    if found:
        assert compile_pattern(pattern)(text) is False


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        pytest.param(r"(a)\1", r"not an RE2 pattern: invalid escape sequence: \1", id="backref"),
        pytest.param("(?=a)", "not an RE2 pattern: invalid perl operator: (?=", id="lookahead"),
        pytest.param("(?!a)", "not an RE2 pattern: invalid perl operator: (?!", id="negative"),
        pytest.param("(?<=a)b", "not an RE2 pattern: invalid perl operator: (?<=", id="lookbehind"),
        pytest.param("[a", "not an RE2 pattern: missing ]: [a", id="unclosed-class"),
        pytest.param("a)", "not an RE2 pattern: unexpected ): a)", id="unopened-group"),
        pytest.param("a{1001}", "not an RE2 pattern: invalid repetition size: {1001}", id="rep"),
    ],
)
def test_refused_patterns(pattern: str, message: str) -> None:
    with pytest.raises(ValueError, match="not an RE2 pattern") as refused:
        compile_pattern(pattern)
    assert str(refused.value) == message


CATASTROPHIC = "(a+)+$"
EVIL_TEXT = "a" * 30 + "!"


def test_a_pattern_catastrophic_for_re_answers_at_once() -> None:
    """`(a+)+$` against 30 `a`s and a `!` backtracks 2**30 ways in `re`; RE2 is linear."""
    finds = compile_pattern(CATASTROPHIC)
    assert finds(EVIL_TEXT) is False
    assert finds("a" * 30) is True
    texts = [f"{EVIL_TEXT}{i}" for i in range(1000)]  # distinct: no remembered answer
    started = time.perf_counter()
    answers = [finds(text) for text in texts]
    elapsed = time.perf_counter() - started
    assert answers == [False] * 1000
    assert elapsed < 0.5, f"1000 searches took {elapsed:.3f} s"


@given(
    st.sampled_from(["a", "ab", "^a", "b$", "a.c", "[abc]+", "a|b", r"\d", "^$", "(ab)*c"]),
    st.text(alphabet="abc1 ", max_size=12),
    st.booleans(),
)
def test_agrees_with_re_on_patterns_both_accept(pattern: str, text: str, ignore_case: bool) -> None:
    expected = re.search(pattern, text, re.IGNORECASE if ignore_case else 0) is not None
    assert compile_pattern(pattern, ignore_case=ignore_case)(text) is expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(5, "not an RE2 pattern: 5 is not a string", id="int"),
        pytest.param(None, "not an RE2 pattern: None is not a string", id="none"),
        pytest.param(b"a", "not an RE2 pattern: b'a' is not a string", id="bytes"),
    ],
)
def test_a_pattern_that_is_not_a_string(value: Any, message: str) -> None:
    with pytest.raises(ValueError, match="not an RE2 pattern") as refused:
        compile_pattern(value)
    assert str(refused.value) == message
