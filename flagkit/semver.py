"""SemVer 2.0.0 versions, parsed strictly into keys that compare by precedence.

`parse_semver("1.0.0-beta.11")` returns a plain tuple (a `SemverKey`); two keys
compare with `<`, `==`, ... exactly as semver.org's precedence rules order the
versions: MAJOR, MINOR, PATCH numerically; a pre-release below its release;
pre-release identifiers one by one, numeric ones numerically and below alphanumeric
ones, which compare in ASCII order; a shorter run of identifiers below a longer one
it begins. Build metadata (`+build.5`) is ignored, so `1.0.0+a == 1.0.0+b`.

Parsing is semver.org's grammar and nothing more lenient: no `v` prefix, no missing
parts (`1.2`), no leading zeros in numeric identifiers (`01.2.3`, `1.2.3-01`), no
empty identifiers (`1.2.3-`, `1.2.3-a..b`), no surrounding white space.

Written here rather than taken from a library because it is small, has no
dependency, and evaluation needs a key that compares with plain tuple comparison
(the `semver` package is the tests' independent oracle).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import TypeAlias

__all__ = ["SemverKey", "parse_semver", "semver_key"]

PrereleaseIdentifier: TypeAlias = tuple[int, int] | tuple[int, str]
"""`(0, number)` for a numeric identifier, `(1, text)` for an alphanumeric one."""

SemverKey: TypeAlias = tuple[int, int, int, int, tuple[PrereleaseIdentifier, ...]]
"""`(major, minor, patch, 1 for a release or 0 for a pre-release, identifiers)`.

Keys compare by SemVer precedence; equal keys are versions of equal precedence.
"""

_NUMBER = r"(?:0|[1-9]\d*)"
_IDENTIFIER = rf"(?:{_NUMBER}|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
_SEMVER = re.compile(
    rf"({_NUMBER})\.({_NUMBER})\.({_NUMBER})"
    rf"(?:-({_IDENTIFIER}(?:\.{_IDENTIFIER})*))?"
    r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?",
    re.ASCII,
)


def _identifier_key(identifier: str) -> PrereleaseIdentifier:
    return (0, int(identifier)) if identifier.isdigit() else (1, identifier)


def _key_or_none(text: str) -> SemverKey | None:
    found = _SEMVER.fullmatch(text)
    if found is None:
        return None
    major, minor, patch, prerelease = found.groups()
    if prerelease is None:
        return (int(major), int(minor), int(patch), 1, ())
    identifiers = tuple(_identifier_key(part) for part in prerelease.split("."))
    return (int(major), int(minor), int(patch), 0, identifiers)


def parse_semver(text: str) -> SemverKey:
    """The precedence key of a strict SemVer 2.0.0 version.

    Raises ValueError, e.g. `"1.2" is not a SemVer 2.0.0 version (MAJOR.MINOR.PATCH,
    e.g. "2.3.0")`.
    """
    key = _key_or_none(text) if isinstance(text, str) else None
    if key is None:
        raise ValueError(
            f"{json.dumps(text, ensure_ascii=False, default=repr)} is not a SemVer 2.0.0 version"
            ' (MAJOR.MINOR.PATCH, e.g. "2.3.0")'
        )
    return key


_cached_key = lru_cache(maxsize=4096)(_key_or_none)
"""Tenants' versions repeat (a handful of app releases): parse each once."""


def semver_key(value: object) -> SemverKey | None:
    """A tenant attribute read as a version, for evaluation: never raises.

    The key of a SemVer 2.0.0 string; None for a non-string or a string that is not
    one. Memoised in a bounded cache, so a repeated version costs a lookup.
    """
    return _cached_key(value) if isinstance(value, str) else None
