"""SemVer 2.0.0: semver.org's precedence chain, build metadata, refused spellings, and an
independent oracle (the `semver` package) for generated versions."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import semver
from hypothesis import given
from hypothesis import strategies as st

from flagkit.semver import parse_semver, semver_key

PRECEDENCE_CHAIN = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "1.0.1",
    "1.1.0",
    "2.0.0",
    "2.1.0",
    "2.1.1",
    "10.0.0",
]
"""semver.org's examples, in increasing precedence."""


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        pytest.param(lower, higher, id=f"{lower}<{higher}")
        for lower, higher in itertools.combinations(PRECEDENCE_CHAIN, 2)
    ],
)
def test_semver_org_precedence(lower: str, higher: str) -> None:
    assert parse_semver(lower) < parse_semver(higher)
    assert not parse_semver(higher) < parse_semver(lower)
    assert parse_semver(lower) != parse_semver(higher)


@pytest.mark.parametrize(
    ("one", "other", "equal"),
    [
        pytest.param("1.0.0+build.1", "1.0.0+build.2", True, id="builds-of-a-release"),
        pytest.param("1.0.0", "1.0.0+20130313144700", True, id="build-vs-none"),
        pytest.param("1.0.0-beta+exp.sha.5114f85", "1.0.0-beta", True, id="build-of-pre-release"),
        pytest.param("1.0.0+0.build.1-rc.10000aaa", "1.0.0", True, id="build-looks-like-pre"),
        pytest.param("1.0.0-rc.1+build.1", "1.0.0+build.1", False, id="pre-release-is-not-build"),
        pytest.param("1.0.0-0a", "1.0.0-0a", True, id="alphanumeric-starting-with-0"),
        pytest.param("1.0.0-1", "1.0.0-01a", False, id="numeric-vs-alphanumeric"),
    ],
)
def test_build_metadata_is_ignored(one: str, other: str, equal: bool) -> None:
    assert (parse_semver(one) == parse_semver(other)) is equal


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        pytest.param("1.0.0-2", "1.0.0-10", id="numeric-identifiers-compare-as-numbers"),
        pytest.param("1.0.0-999", "1.0.0-a", id="numeric-below-alphanumeric"),
        pytest.param("1.0.0-B", "1.0.0-a", id="ascii-order-upper-case-first"),
        pytest.param("1.0.0--", "1.0.0-0a", id="hyphen-below-digits"),
        pytest.param("1.0.0-a", "1.0.0-a.0", id="shorter-below-longer"),
        pytest.param("1.2.3", "1.10.0", id="minor-as-number"),
        pytest.param(
            "18446744073709551615.0.0", "18446744073709551616.0.0", id="numbers-of-any-size"
        ),
    ],
)
def test_identifier_rules(lower: str, higher: str) -> None:
    assert parse_semver(lower) < parse_semver(higher)
    assert not parse_semver(higher) <= parse_semver(lower)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param("v1.2.3", '"v1.2.3"', id="v-prefix"),
        pytest.param("1.2", '"1.2"', id="missing-patch"),
        pytest.param("1", '"1"', id="major-only"),
        pytest.param("01.2.3", '"01.2.3"', id="leading-zero-major"),
        pytest.param("1.02.3", '"1.02.3"', id="leading-zero-minor"),
        pytest.param("1.2.3-", '"1.2.3-"', id="empty-pre-release"),
        pytest.param("1.2.3-01", '"1.2.3-01"', id="leading-zero-in-pre-release"),
        pytest.param("1.2.3-a..b", '"1.2.3-a..b"', id="empty-identifier"),
        pytest.param("1.2.3+", '"1.2.3+"', id="empty-build"),
        pytest.param("1.2.3-a_b", '"1.2.3-a_b"', id="underscore"),
        pytest.param(" 1.2.3", '" 1.2.3"', id="leading-space"),
        pytest.param("1.2.3\n", '"1.2.3\\n"', id="trailing-newline"),
        pytest.param("1.2.3.4", '"1.2.3.4"', id="four-parts"),
        pytest.param("\u0661.2.3", '"\u0661.2.3"', id="non-ascii-digit"),
        pytest.param("", '""', id="empty"),
    ],
)
def test_refused_spellings(text: str, shown: str) -> None:
    with pytest.raises(ValueError, match="is not a SemVer") as refused:
        parse_semver(text)
    assert str(refused.value) == (
        f'{shown} is not a SemVer 2.0.0 version (MAJOR.MINOR.PATCH, e.g. "2.3.0")'
    )
    assert semver_key(text) is None


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(1, id="int"),
        pytest.param(1.2, id="float"),
        pytest.param(None, id="none"),
        pytest.param(True, id="bool"),
        pytest.param(["1.2.3"], id="list"),
        pytest.param(b"1.2.3", id="bytes"),
    ],
)
def test_semver_key_of_a_non_string_is_none(value: object) -> None:
    assert semver_key(value) is None


def test_semver_key_is_the_parsed_key() -> None:
    assert semver_key("1.0.0-rc.1+b") == parse_semver("1.0.0-rc.1")
    assert semver_key("2.3.0") == (2, 3, 0, 1, ())


NUMBERS = st.integers(min_value=0, max_value=10**20).map(str)
ALPHANUMERIC = st.from_regex(r"\A[0-9a-zA-Z-]*[a-zA-Z-][0-9a-zA-Z-]*\Z").filter(
    lambda text: len(text) < 12
)
IDENTIFIERS = st.one_of(NUMBERS, ALPHANUMERIC, st.sampled_from(["0", "1", "2", "a", "b", "-"]))
BUILD_IDENTIFIERS = st.from_regex(r"\A[0-9a-zA-Z-]{1,8}\Z")


@st.composite
def versions(draw: st.DrawFn) -> str:
    """A valid SemVer string, biased towards versions that share a prefix."""
    core = ".".join(draw(st.sampled_from(["0", "1", "2", "10"]) | NUMBERS) for _ in range(3))
    prerelease = draw(st.lists(IDENTIFIERS, max_size=4))
    build = draw(st.lists(BUILD_IDENTIFIERS, max_size=2))
    return (
        core
        + ("-" + ".".join(prerelease) if prerelease else "")
        + ("+" + ".".join(build) if build else "")
    )


@given(versions(), versions())
def test_order_and_equality_agree_with_the_semver_package(one: str, other: str) -> None:
    expected = semver.Version.parse(one).compare(other)
    one_key, other_key = parse_semver(one), parse_semver(other)
    assert (one_key < other_key, one_key == other_key, one_key > other_key) == (
        expected < 0,
        expected == 0,
        expected > 0,
    )


@given(st.one_of(versions(), st.text(alphabet="0123456789.-+abv \n", max_size=16)))
def test_validity_agrees_with_the_semver_package(text: str) -> None:
    assert (semver_key(text) is not None) is semver.Version.is_valid(text)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        pytest.param(2, "2", id="int"),
        pytest.param(2.3, "2.3", id="float"),
        pytest.param(None, "null", id="null"),
        pytest.param(["1.2.3"], '["1.2.3"]', id="list"),
    ],
)
def test_a_document_value_that_is_not_a_string(value: Any, shown: str) -> None:
    with pytest.raises(ValueError, match="is not a SemVer") as refused:
        parse_semver(value)
    assert str(refused.value) == (
        f'{shown} is not a SemVer 2.0.0 version (MAJOR.MINOR.PATCH, e.g. "2.3.0")'
    )
