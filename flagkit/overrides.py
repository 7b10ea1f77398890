"""Local overrides: forced answers layered over any source's document (docs/overrides.md).

An overrides document names flags and forces their answer, for everyone and/or per
tenant: `{"featureA": {"enabled": false}, "checkout": {"tenants": {"acme": {"variant":
"new"}}}}`. It is checked here (`parse_overrides`, every problem with its JSON path),
then compiled into the deciders of a `FlagSet` (`apply_overrides`): an overridden flag
gets a decider that answers the forced `Decision` (reason `STATIC`, rule `override`),
the tenant's first, else falls through to the flag's own decider; a flag that requires
an overridden flag gets one that asks its prerequisites' served deciders; every other
flag keeps its decider untouched. `OverridesLayer` is what a refresher holds: the overrides
in force, re-read from their file when its bytes change, the last good kept otherwise.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from flagkit.announcer import LOGGER_NAME
from flagkit.document import DEFAULT_MAX_DOCUMENT_BYTES, parse_document
from flagkit.errors import ConfigurationError, DocumentError, Problem
from flagkit.evaluation import Decider, decider_for, prerequisite_error
from flagkit.flagset import CompiledFlag, Decision, FlagSet
from flagkit.model import Reason
from flagkit.schema import FLAG_KEY_PATTERN, format_path, json_excerpt
from flagkit.usage import OVERRIDE_RULE  # an overridden answer's rule (reason STATIC)

__all__ = [
    "OVERRIDES_REJECTION_MESSAGE",
    "OVERRIDE_RULE",
    "Applied",
    "FlagOverride",
    "ForcedAnswer",
    "Overrides",
    "OverridesError",
    "OverridesLayer",
    "OverridesSpec",
    "apply_overrides",
    "parse_overrides",
]

OVERRIDES_REJECTION_MESSAGE: Final = (
    "flagkit: rejected overrides %s; still serving the last good overrides (%d): %s"
)
"""The log line of a refused overrides file (where, how many flags the last good ones
force, the problems last, joined by "; "): a log handler may leave the problems out."""

_ANSWER_FIELDS = ("enabled", "variant")
_FLAG_FIELDS = (*_ANSWER_FIELDS, "tenants")
_FLAG_KEY = re.compile(FLAG_KEY_PATTERN.replace("$", r"\Z"))
_FLAG_KEY_RULE = (
    "a flag key starts with a lowercase letter and has at most 64 letters, digits, '_' and '-'"
)


class OverridesError(DocumentError):
    """An overrides document that cannot be used; its message names where it came from
    (`file:PATH`, `env:FLAGKIT_OVERRIDES`, `memory`) and each problem's JSON path."""

    def _render(self) -> str:
        lines = [str(problem) for problem in self.problems]
        if len(lines) == 1:
            return f"overrides {self.source}: {lines[0]}"
        head = f"{len(lines)} problems in overrides {self.source}:"
        return "\n".join([head, *(f"  {line}" for line in lines)])


@dataclass(frozen=True, slots=True)
class ForcedAnswer:
    """What an override serves: `enabled` (a boolean flag; False also turns a variant flag
    off) or `variant` (a variant flag). Exactly one is set."""

    enabled: bool | None = None
    variant: str | None = None


@dataclass(frozen=True, slots=True)
class FlagOverride:
    """One flag's overrides: an answer for everyone (or None) and answers by tenant id,
    which win over it."""

    everyone: ForcedAnswer | None
    tenants: Mapping[str, ForcedAnswer]


@dataclass(frozen=True, slots=True)
class Overrides:
    """A checked overrides document: each overridden flag by key, and where it came from."""

    flags: Mapping[str, FlagOverride]
    origin: str


OverridesSpec: TypeAlias = str | os.PathLike[str] | Mapping[str, Any] | Overrides
"""What `Flags(overrides=...)` takes: a file's path (re-read when it changes), a mapping
(checked once), or `Overrides` already parsed (`parse_overrides`)."""


def parse_overrides(
    content: bytes | str | Mapping[str, Any],
    origin: str,
    *,
    max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
) -> Overrides:
    """The overrides in `content` (JSON text, or a mapping already parsed).

    Raises `OverridesError` listing every problem by JSON path, `origin` in its message.
    """
    if isinstance(content, bytes | str):
        try:
            document = parse_document(content, max_bytes=max_bytes)
        except DocumentError as exc:
            raise OverridesError(exc.problems, source=origin) from None
    else:
        document = content
    problems = list(_problems(document))
    if problems:
        raise OverridesError(problems, source=origin)
    flags = {
        key: FlagOverride(
            _forced(entry) if "enabled" in entry or "variant" in entry else None,
            {tenant: _forced(answer) for tenant, answer in entry.get("tenants", {}).items()},
        )
        for key, entry in document.items()
        if not key.startswith("$")
    }
    return Overrides(flags, origin)


def _forced(entry: Mapping[str, Any]) -> ForcedAnswer:
    return ForcedAnswer(enabled=entry.get("enabled"), variant=entry.get("variant"))


def _problems(document: Any) -> Iterator[Problem]:
    """Every way `document` breaks docs/overrides.md's format (the schema
    `overrides.v1.schema.json` says the same), in document order."""
    if not isinstance(document, dict):
        yield _not_of_type([], document, "object")
        return
    for key, entry in document.items():
        if key.startswith("$"):
            continue  # `$schema` and other metadata, as in flag documents
        if not _FLAG_KEY.match(key):
            yield Problem(format_path([key]), f"not a flag key ({_FLAG_KEY_RULE})")
            continue
        if not isinstance(entry, dict):
            yield _not_of_type([key], entry, "object")
            continue
        yield from _unknown_fields([key], entry, _FLAG_FIELDS)
        yield from _answer_problems([key], entry, needed=() if "tenants" in entry else _FLAG_FIELDS)
        tenants = entry.get("tenants", {})
        if not isinstance(tenants, dict):
            yield _not_of_type([key, "tenants"], tenants, "object")
            continue
        for tenant, answer in tenants.items():
            path: list[str | int] = [key, "tenants", tenant]
            if not tenant:
                yield Problem(format_path(path), "an empty tenant id")
            elif not isinstance(answer, dict):
                yield _not_of_type(path, answer, "object")
            else:
                yield from _unknown_fields(path, answer, _ANSWER_FIELDS)
                yield from _answer_problems(path, answer, needed=_ANSWER_FIELDS)


def _answer_problems(
    path: list[str | int], entry: Mapping[str, Any], *, needed: tuple[str, ...]
) -> Iterator[Problem]:
    """The problems of `enabled` and `variant` in `entry`; without either, one of `needed`
    is missing (none when `needed` is empty)."""
    given = [name for name in _ANSWER_FIELDS if name in entry]
    if len(given) > 1:
        yield Problem(format_path(path), "has enabled, variant; give exactly one of them")
    elif not given and needed:
        yield Problem(format_path(path), f"needs one of: {', '.join(needed)}")
    if "enabled" in entry and not isinstance(entry["enabled"], bool):
        yield _not_of_type([*path, "enabled"], entry["enabled"], "boolean")
    variant = entry.get("variant")
    if "variant" in entry and not (isinstance(variant, str) and variant):
        yield (
            Problem(format_path([*path, "variant"]), "an empty string; give at least 1 character")
            if variant == ""
            else _not_of_type([*path, "variant"], variant, "string")
        )


def _unknown_fields(
    path: list[str | int], entry: Mapping[str, Any], known: tuple[str, ...]
) -> Iterator[Problem]:
    for name in entry:
        if name not in known:
            yield Problem(
                format_path([*path, name]), f"unknown field (expected one of: {', '.join(known)})"
            )


def _not_of_type(path: list[str | int], value: Any, kind: str) -> Problem:
    return Problem(format_path(path), f"{json_excerpt(value)} is not of type '{kind}'")


# -- compiling --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Applied:
    """A flag set with overrides compiled in: the keys they force now, and the overrides
    ignored (a flag or a variant the document does not have), each as one sentence."""

    flagset: FlagSet
    in_force: tuple[str, ...]
    ignored: tuple[str, ...]


def apply_overrides(flagset: FlagSet, overrides: Overrides) -> Applied:
    """`flagset` with each overridden flag's decider answering its forced decisions first,
    and the flags that require one (directly or down a chain) following its answers.

    Every other flag keeps its own decider, so its answers cost nothing more.
    """
    deciders = dict(flagset.deciders)
    in_force: list[str] = []
    ignored: list[str] = []
    for key, override in overrides.flags.items():
        flag = flagset.flags.get(key)
        if flag is None:
            ignored.append(f"{key}: the flag document has no flag {key!r}")
            continue
        everyone = None
        if override.everyone is not None:
            everyone = _decision(flag, override.everyone, [key], ignored)
        by_tenant: dict[str | None, Decision] = {}
        for tenant, answer in override.tenants.items():
            decision = _decision(flag, answer, [key, "tenants", tenant], ignored)
            if decision is not None:
                by_tenant[tenant] = decision
        if everyone is not None or by_tenant:
            deciders[key] = _forced_decider(deciders[key], everyone, by_tenant)
            in_force.append(key)
    for flag in _requiring(flagset, frozenset(in_force)):
        deciders[flag.key] = _following_decider(flag, deciders, flagset.clock)
    served = dataclasses.replace(flagset, deciders=deciders, evaluations={})
    return Applied(served, tuple(in_force), tuple(ignored))


def _requiring(flagset: FlagSet, forced: frozenset[str]) -> list[CompiledFlag]:
    """The flags that require a forced flag, directly or through other prerequisites."""
    reaches: dict[str, bool] = {}

    def requires_forced(flag: CompiledFlag) -> bool:
        known = reaches.get(flag.key)
        if known is None:  # Chains are short: the document checks cap their depth.
            known = any(
                prerequisite.key in forced or requires_forced(prerequisite)
                for prerequisite, _ in flag.requires
            )
            reaches[flag.key] = known
        return known

    return [flag for flag in flagset.flags.values() if requires_forced(flag)]


def _following_decider(
    flag: CompiledFlag, deciders: Mapping[str, Decider], clock: Callable[[], float]
) -> Decider:
    """`flag`'s decider, its prerequisites answered by `deciders` (overrides included), in
    the evaluation order: kill switch, launch window, prerequisites, then the rest."""
    targeting = decider_for(dataclasses.replace(flag, requires=()), clock)
    requires = tuple((prerequisite.key, failed) for prerequisite, failed in flag.requires)

    def follow(tenant_id: str | None, tier: str | None, attributes: Mapping[str, Any]) -> Decision:
        if not flag.enabled:
            return flag.disabled
        if flag.reads_clock and flag.outside_window_at(clock()):
            return flag.outside_window  # type: ignore[return-value]  # set for every flag
        for key, failed in requires:
            answer = deciders[key](tenant_id, tier, attributes)
            if answer.on is None:
                return prerequisite_error(flag, answer)
            if not answer.on:
                return failed
        return targeting(tenant_id, tier, attributes)

    return follow


def _decision(
    flag: CompiledFlag, answer: ForcedAnswer, path: list[str | int], ignored: list[str]
) -> Decision | None:
    """The decision `answer` forces on `flag`, or None (and why, in `ignored`)."""
    where = format_path(path)
    if flag.variants is None:
        if answer.enabled is None:
            ignored.append(f'{where}: {flag.key!r} is a boolean flag: force it with "enabled"')
            return None
        on = answer.enabled
        return Decision(on, on, "on" if on else "off", Reason.STATIC, OVERRIDE_RULE)
    off = flag.disabled  # the flag's off answer: its offVariant, or the caller's default
    if answer.enabled is False:
        return Decision(False, off.value, off.variant, Reason.STATIC, OVERRIDE_RULE)
    variant = answer.variant
    if variant is None:
        ignored.append(
            f"{where}: {flag.key!r} is a variant flag: force it with "
            f'"variant" (or "enabled": false)'
        )
        return None
    if variant not in flag.variants:
        known = ", ".join(flag.variants)
        ignored.append(f"{where}: {flag.key!r} has no variant {variant!r} (it has: {known})")
        return None
    value = flag.variants[variant]
    return Decision(variant != off.variant, value, variant, Reason.STATIC, OVERRIDE_RULE)


def _forced_decider(
    own: Decider, everyone: Decision | None, by_tenant: dict[str | None, Decision]
) -> Decider:
    if not by_tenant:
        assert everyone is not None
        return lambda tenant_id, tier, attributes: everyone
    if everyone is not None:
        return lambda tenant_id, tier, attributes: by_tenant.get(tenant_id, everyone)

    def tenant_first(
        tenant_id: str | None, tier: str | None, attributes: Mapping[str, Any]
    ) -> Decision:
        forced = by_tenant.get(tenant_id)
        return own(tenant_id, tier, attributes) if forced is None else forced

    return tenant_first


# -- the layer a refresher holds ---------------------------------------------------------------


class OverridesLayer:
    """The overrides in force over one `Flags`, and their file, re-read on `reload()`.

    Not locked: the refresher calls `reload()` and `apply()` under its refresh lock.
    """

    def __init__(self, overrides: Overrides, path: str | None, content: bytes | None) -> None:
        self.overrides = overrides
        self.path = path
        self.error: str | None = None
        """Why the file's current content was refused (the last good overrides serve)."""
        self.in_force: tuple[str, ...] = ()
        self._content = content

    @classmethod
    def open(cls, spec: OverridesSpec) -> OverridesLayer:
        """The overrides of `spec`; raises `OverridesError` for a bad or unreadable file."""
        if isinstance(spec, Overrides):
            return cls(spec, None, None)
        if isinstance(spec, Mapping):
            return cls(parse_overrides(spec, "memory"), None, None)
        if not isinstance(spec, str | os.PathLike):
            raise ConfigurationError(
                "overrides must be a file's path or a mapping of flag keys to overrides, "
                f"got {type(spec).__name__}"
            )
        path = os.fspath(spec)
        content = _read(path)
        return cls(parse_overrides(content, f"file:{path}"), path, content)

    @property
    def origin(self) -> str:
        """Where the overrides come from: `file:PATH`, `memory`, `env:FLAGKIT_OVERRIDES`."""
        return self.overrides.origin

    def reload(self) -> bool:
        """Re-read the file; True when it holds other overrides now. A file that cannot be
        read or checked is logged (once per content) and the last good overrides stay."""
        if self.path is None:
            return False
        try:
            content = _read(self.path)
            if content == self._content:
                return False
            overrides = parse_overrides(content, f"file:{self.path}")
        except OverridesError as exc:
            if str(exc) != self.error:
                self.error = str(exc)
                _logger().warning(
                    OVERRIDES_REJECTION_MESSAGE,
                    exc.source,
                    len(self.in_force),
                    "; ".join(str(problem) for problem in exc.problems),
                )
            return False
        self._content, self.error = content, None
        changed = overrides.flags != self.overrides.flags
        self.overrides = overrides
        return changed

    def apply(self, flagset: FlagSet) -> FlagSet:
        """`flagset` with the overrides compiled in; logs each one it has to ignore."""
        applied = apply_overrides(flagset, self.overrides)
        self.in_force = applied.in_force
        for reason in applied.ignored:
            _logger().warning(
                "flagkit: override ignored until flag document version %s has it (%s): %s",
                flagset.version,
                self.origin,
                reason,
            )
        return applied.flagset


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(DEFAULT_MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        problem = Problem("(document)", f"cannot be read: {exc.strerror}")
        raise OverridesError([problem], source=f"file:{path}") from None


def _logger() -> logging.Logger:
    return logging.getLogger(LOGGER_NAME)
