"""`Flags`, the facade: loading, reading, refreshing, `on_change`, and reads racing a swap.

What it delegates is tested with its own module: the refresher's start-up, status and
failures in test_refresher.py, the ordered `on_change` announcements in test_announcer.py,
the refresh thread and on-read scheduling in test_schedulers.py.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

import flagkit
from flagkit import Evaluation, Flags, Reason, Tenant
from flagkit.sources.memory import MemorySource
from tests.helpers import ChangeWaiter, write

HASH_VERSION = re.compile(r"^hash:[0-9a-f]{16}$")

DOC: dict[str, Any] = {
    "$schema": "../schemas/flags.v1.schema.json",
    "_segments": {"beta": ["acme", "globex"], "vip": ["stark"]},
    "zeta": {"enabled": True},
    "alpha": {"enabled": True, "tenants": ["acme"]},
    "mid": {"enabled": False},
    "betaFlag": {"enabled": True, "segments": ["beta"]},
    "betaRule": {
        "enabled": True,
        "rules": [{"when": [{"attribute": "id", "inSegment": "beta"}], "serve": True}],
    },
    "vipFlag": {"enabled": True, "segments": ["vip"]},
    "beta": {"enabled": True, "tiers": ["gold"]},
}


def changed(document: dict[str, Any], **flags: Any) -> dict[str, Any]:
    """A copy of `document` with some flags replaced (a value of None removes the flag)."""
    result = {**document, **flags}
    return {key: value for key, value in result.items() if value is not None}


# -- loading --------------------------------------------------------------------------------


def test_from_file(tmp_path: Path) -> None:
    path = write(tmp_path, "flags.json", DOC)
    flags = Flags.from_file(path)
    assert flags.keys == ("zeta", "alpha", "mid", "betaFlag", "betaRule", "vipFlag", "beta")
    assert flags.version is not None
    assert HASH_VERSION.match(flags.version)
    assert flags.enabled("alpha", "acme") is True
    assert flags.enabled("alpha", "globex") is False
    assert flags.evaluate("alpha", "acme").version == flags.version
    assert flags.status.source == f"file:{path}"
    assert flags.status.version == flags.version


def test_from_file_accepts_str_path(tmp_path: Path) -> None:
    path = write(tmp_path, "flags.json", DOC)
    assert Flags.from_file(str(path)).keys == Flags.from_file(path).keys


def test_file_version_follows_content(tmp_path: Path) -> None:
    first, second = write(tmp_path, "a.json", DOC), write(tmp_path, "b.json", DOC)
    third = write(tmp_path, "c.json", changed(DOC, mid={"enabled": True}))
    assert Flags.from_file(first).version == Flags.from_file(second).version
    assert Flags.from_file(first).version != Flags.from_file(third).version


def test_from_file_as_context_manager(tmp_path: Path) -> None:
    path = write(tmp_path, "flags.json", DOC)
    with Flags.from_file(path) as flags:
        assert isinstance(flags, Flags)
        assert flags.enabled("zeta", "anyone") is True
    # Closing a file source releases nothing that reading needs.
    assert flags.enabled("zeta", "anyone") is True


def test_from_dict_version() -> None:
    flags = Flags.from_dict(DOC, version="v7")
    assert flags.version == "v7"
    assert flags.status.version == "v7"
    assert flags.evaluate("zeta", "acme").version == "v7"
    assert flags.evaluate("nope", "acme").version == "v7"


def test_from_dict_without_version_labels_the_content() -> None:
    flags = Flags.from_dict(DOC)
    assert flags.version is not None
    assert HASH_VERSION.match(flags.version)
    assert Flags.from_dict(DOC).version == flags.version
    assert Flags.from_dict(changed(DOC, mid={"enabled": True})).version != flags.version


def test_from_dict_copies_the_document() -> None:
    document = json.loads(json.dumps(DOC))
    flags = Flags.from_dict(document)
    document["alpha"]["tenants"].append("globex")
    document["mid"]["enabled"] = True
    document["_segments"]["beta"].remove("acme")
    del document["zeta"]
    document["new"] = {"enabled": True}
    assert flags.keys == ("zeta", "alpha", "mid", "betaFlag", "betaRule", "vipFlag", "beta")
    assert flags.enabled("alpha", "globex") is False
    assert flags.enabled("mid", "acme") is False
    assert flags.enabled("betaFlag", "acme") is True
    assert flags.refresh() is False


def test_keys_in_document_order_without_metadata() -> None:
    flags = Flags.from_dict(DOC)
    assert flags.keys == ("zeta", "alpha", "mid", "betaFlag", "betaRule", "vipFlag", "beta")


@pytest.mark.parametrize(
    ("tenant", "expected"),
    [
        ("acme", ["zeta", "alpha", "betaFlag", "betaRule"]),
        ("globex", ["zeta", "betaFlag", "betaRule"]),
        (Tenant("stark", "gold"), ["zeta", "vipFlag", "beta"]),
        ("nobody", ["zeta"]),
        (None, ["zeta"]),
        (42, []),
    ],
    ids=["acme", "globex", "stark-gold", "nobody", "no-id", "invalid"],
)
def test_enabled_flags_in_document_order(tenant: object, expected: list[str]) -> None:
    flags = Flags.from_dict(DOC)
    assert flags.enabled_flags(tenant) == expected


# -- refreshing -----------------------------------------------------------------------------


def test_file_refresh(tmp_path: Path) -> None:
    path = write(tmp_path, "flags.json", DOC)
    flags = Flags.from_file(path)
    recorder = ChangeWaiter()
    flags.on_change(recorder)
    old = flags.version
    assert flags.refresh() is False
    assert recorder.calls == []
    write(tmp_path, "flags.json", changed(DOC, mid={"enabled": True}))
    assert flags.enabled("mid", "acme") is False
    assert flags.refresh() is True
    assert flags.enabled("mid", "acme") is True
    assert flags.version != old
    assert flags.version is not None
    assert HASH_VERSION.match(flags.version)
    assert recorder.calls == [(old, flags.version, frozenset({"mid"}))]
    assert flags.refresh() is False
    assert len(recorder.calls) == 1


def test_memory_refresh_swaps_whole_document() -> None:
    source = MemorySource(DOC, version="a")
    flags = Flags(source)
    before = flags.flagset
    assert flags.refresh() is False
    assert flags.flagset is before
    source.update(changed(DOC, alpha={"enabled": True, "tenants": ["globex"]}), version="b")
    assert flags.refresh() is True
    assert flags.flagset is not before
    assert flags.version == "b"
    assert flags.enabled("alpha", "acme") is False
    assert flags.enabled("alpha", "globex") is True
    evaluation = flags.evaluate("alpha", "globex")
    assert (evaluation.version, evaluation.rule) == ("b", "tenants")
    # The FlagSet that was served before is unchanged: readers holding it stay consistent.
    assert before.version == "a"
    assert before.deciders["alpha"]("acme", None, {}).on is True


def test_refresh_true_when_content_changes_without_version() -> None:
    source = MemorySource(DOC)
    flags = Flags(source)
    source.update(DOC)
    assert flags.refresh() is False
    source.update(changed(DOC, zeta={"enabled": False}))
    assert flags.refresh() is True
    assert flags.enabled("zeta", "acme") is False


CHANGES: list[tuple[str, dict[str, Any], frozenset[str]]] = [
    (
        "one-flag",
        changed(DOC, alpha={"enabled": True, "tenants": ["acme", "hooli"]}),
        frozenset({"alpha"}),
    ),
    ("kill-switch", changed(DOC, zeta={"enabled": False}), frozenset({"zeta"})),
    (
        "segment-marks-its-users",
        changed(DOC, _segments={"beta": ["acme"], "vip": ["stark"]}),
        frozenset({"betaFlag", "betaRule"}),
    ),
    (
        "other-segment",
        changed(DOC, _segments={"beta": ["acme", "globex"], "vip": ["stark", "wayne"]}),
        frozenset({"vipFlag"}),
    ),
    ("added", changed(DOC, omega={"enabled": True}), frozenset({"omega"})),
    ("removed", changed(DOC, mid=None), frozenset({"mid"})),
    ("attribute", changed(DOC, mid={"enabled": False, "temperature": 0.5}), frozenset({"mid"})),
    ("salt", changed(DOC, zeta={"enabled": True, "salt": "s"}), frozenset({"zeta"})),
    (
        "two-flags",
        changed(DOC, zeta={"enabled": False}, beta={"enabled": True, "tiers": ["silver"]}),
        frozenset({"zeta", "beta"}),
    ),
]


@pytest.mark.parametrize(
    ("new_document", "expected"),
    [(document, keys) for _, document, keys in CHANGES],
    ids=[name for name, _, _ in CHANGES],
)
def test_on_change_names_exactly_the_changed_flags(
    new_document: dict[str, Any], expected: frozenset[str]
) -> None:
    source = MemorySource(DOC, version="old")
    flags = Flags(source)
    recorder = ChangeWaiter()
    flags.on_change(recorder)
    source.update(new_document, version="new")
    assert flags.refresh() is True
    assert recorder.calls == [("old", "new", expected)]


def test_on_change_not_called_without_change() -> None:
    source = MemorySource(DOC, version="v1")
    flags = Flags(source)
    recorder = ChangeWaiter()
    flags.on_change(recorder)
    source.update(DOC, version="v1")
    assert flags.refresh() is False
    assert recorder.calls == []


def test_on_change_called_after_the_swap() -> None:
    source = MemorySource(DOC, version="v1")
    flags = Flags(source)
    seen: list[tuple[str | None, bool]] = []
    flags.on_change(lambda old, new, keys: seen.append((flags.version, flags.enabled("mid", "x"))))
    source.update(changed(DOC, mid={"enabled": True}), version="v2")
    flags.refresh()
    assert seen == [("v2", True)]


# -- reads racing swaps ---------------------------------------------------------------------

DOC_A: dict[str, Any] = {
    "f": {"enabled": True, "doc": "a"},
    "g": {"enabled": True, "tenants": ["acme"], "doc": "a"},
    "v": {
        "enabled": True,
        "variants": {"x": "X", "y": "Y"},
        "defaultVariant": "x",
        "doc": "a",
    },
}
DOC_B: dict[str, Any] = {
    "f": {"enabled": False, "doc": "b"},
    "g": {"enabled": True, "tenants": ["globex"], "doc": "b"},
    "v": {
        "enabled": True,
        "variants": {"x": "X", "y": "Y"},
        "defaultVariant": "y",
        "doc": "b",
    },
}
# What every evaluation may be, per document: (version, flag, value, rule, doc attribute).
CONSISTENT = {
    ("a", "f", True, "static", "a"),
    ("a", "g", True, "tenants", "a"),
    ("a", "v", "X", "static", "a"),
    ("b", "f", False, "kill-switch", "b"),
    ("b", "g", False, "default", "b"),
    ("b", "v", "Y", "static", "b"),
}
THREADS = 16
SWAPS = 200


def signature(evaluation: Evaluation) -> tuple[Any, ...]:
    return (
        evaluation.version,
        evaluation.flag,
        evaluation.value,
        evaluation.rule,
        evaluation.attributes.get("doc"),
    )


def test_reads_during_swaps_see_one_whole_document() -> None:
    source = MemorySource(DOC_A, version="a")
    flags = Flags(source)
    start = threading.Barrier(THREADS + 1)
    stop = threading.Event()
    # The swap readers should report: (version now served, event to set on seeing it). The
    # main thread publishes it only after `refresh()`, as one tuple, so a reader that reads
    # it and then evaluates can only set the event after having seen that very swap.
    current: list[tuple[str, threading.Event]] = [("a", threading.Event())]
    errors: list[BaseException] = []
    inconsistent: list[tuple[Any, ...]] = []
    reads = [0] * THREADS
    versions_seen: list[set[str | None]] = [set() for _ in range(THREADS)]

    def reader(index: int) -> None:
        try:
            start.wait()
            while True:
                finishing = stop.is_set()
                for key in ("f", "g", "v"):
                    awaited, seen = current[0]
                    evaluation = flags.evaluate(key, "acme")
                    if signature(evaluation) not in CONSISTENT:
                        inconsistent.append(signature(evaluation))
                    if evaluation.version == awaited:
                        seen.set()
                    versions_seen[index].add(evaluation.version)
                    enabled = flags.enabled(key, "acme")
                    assert enabled is True or enabled is False
                    assert flags.value(key, Tenant("acme")) in (True, False, "X", "Y")
                reads[index] += 1
                if finishing:
                    return
        except BaseException as exc:
            errors.append(exc)
            stop.set()
            current[0][1].set()

    threads = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(THREADS)]
    # Hand the GIL around often, so that the swapping thread is not starved by 16 readers.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0001)
    swaps_seen = 0
    try:
        for thread in threads:
            thread.start()
        start.wait(timeout=30)
        for swap in range(SWAPS):
            document, version = (DOC_B, "b") if swap % 2 == 0 else (DOC_A, "a")
            source.update(document, version=version)
            assert flags.refresh() is True
            assert flags.version == version
            seen = threading.Event()
            current[0] = (version, seen)
            # Wait until a reader has seen this swap, so that reads and swaps interleave.
            swaps_seen += seen.wait(timeout=10)
            if errors:
                break
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        sys.setswitchinterval(switch_interval)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert inconsistent == []
    assert swaps_seen == SWAPS
    assert all(count > 0 for count in reads)
    assert set().union(*versions_seen) == {"a", "b"}
    assert flags.version == "a"
    assert flags.evaluate("f", "acme").reason is Reason.STATIC


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            {
                "f": {
                    "enabled": True,
                    "rules": [{"when": [{"attribute": "x", "equals": True}], "serve": True}],
                }
            },
            {
                "f": {
                    "enabled": True,
                    "rules": [{"when": [{"attribute": "x", "equals": 1}], "serve": True}],
                }
            },
        ),
        ({"f": {"enabled": True, "temperature": True}}, {"f": {"enabled": True, "temperature": 1}}),
        (
            {"f": {"enabled": True, "variants": {"a": 1}, "defaultVariant": "a"}},
            {"f": {"enabled": True, "variants": {"a": True}, "defaultVariant": "a"}},
        ),
        (
            {"f": {"enabled": True, "description": "x"}},
            {"f": {"enabled": True, "description": "y"}},
        ),
        (
            {"_segments": {"s": ["a"]}, "f": {"enabled": True, "segments": ["s"]}},
            {"_segments": {"s": ["b"]}, "f": {"enabled": True, "segments": ["s"]}},
        ),
    ],
    ids=["rule-true-to-1", "attribute-true-to-1", "variant-1-to-true", "description", "segment"],
)
def test_on_change_names_a_flag_whose_json_changed(
    before: dict[str, Any], after: dict[str, Any]
) -> None:
    source = MemorySource({**before, "other": {"enabled": True}})
    flags = Flags(source)
    seen: list[frozenset[str]] = []
    flags.on_change(lambda old, new, changed: seen.append(changed))
    source.update({**after, "other": {"enabled": True}})
    assert flags.refresh() is True
    assert seen == [frozenset({"f"})]


def test_on_read_mode_works_from_the_plain_constructor_too() -> None:
    source = MemorySource({"f": {"enabled": True}}, version="1")
    flags = Flags(source, refresh_mode="on_read", poll_interval=0.0)
    source.update({"f": {"enabled": False}}, version="2")
    assert flags.enabled("f", "acme") is False  # the read itself fetched: no refresh() call
    assert flags.version == "2"


@pytest.mark.parametrize("interval", [5, 86401], ids=["below-15", "above-a-day"])
def test_appconfig_poll_interval_outside_appconfigs_limits_is_refused(interval: int) -> None:
    with pytest.raises(flagkit.ConfigurationError) as caught:
        Flags.from_appconfig("app", "env", "profile", poll_interval=interval, client=object())
    assert str(caught.value) == (
        f"poll_interval must be from 15 to 86400 seconds (AppConfig's limits), got {interval}"
    )


@pytest.mark.parametrize("timeout", [0, -1.0, float("nan")], ids=["zero", "negative", "nan"])
@pytest.mark.parametrize("source", ["appconfig", "agent"])
def test_a_request_timeout_must_be_positive(source: str, timeout: float) -> None:
    options: dict[str, Any] = {"request_timeout": timeout}
    if source == "appconfig":
        options["client"] = object()
    constructor = Flags.from_appconfig if source == "appconfig" else Flags.from_agent
    with pytest.raises(flagkit.ConfigurationError) as caught:
        constructor("app", "env", "profile", **options)
    assert str(caught.value) == f"request_timeout must be positive, got {timeout}"


# -- evaluate_all ---------------------------------------------------------------------------


def test_evaluate_all_is_every_flag_in_document_order() -> None:
    flags = Flags.from_dict(DOC, version="v1")
    answers = flags.evaluate_all(Tenant("acme", tier="gold"), default="dflt")
    assert [answer.flag for answer in answers] == list(flags.keys)
    assert answers == [
        flags.evaluate(key, Tenant("acme", tier="gold"), "dflt") for key in flags.keys
    ]
    assert {answer.version for answer in answers} == {"v1"}


def test_evaluate_all_answers_from_one_document_while_documents_swap() -> None:
    first = {key: {"enabled": True} for key in ("a", "b", "c", "d")}
    second = {key: {"enabled": False} for key in ("a", "b", "c", "d")}
    source = MemorySource(first, version="on")
    flags = Flags(source)
    stop = threading.Event()

    def swap() -> None:
        for document, version in itertools.cycle([(second, "off"), (first, "on")]):
            if stop.is_set():
                return
            source.update(document, version=version)
            flags.refresh()

    swapper = threading.Thread(target=swap)
    swapper.start()
    try:
        for _ in range(2000):
            answers = flags.evaluate_all("acme")
            assert len({(answer.version, answer.enabled) for answer in answers}) == 1
    finally:
        stop.set()
        swapper.join()


def test_on_read_evaluate_all_catches_up_too() -> None:
    source = MemorySource(DOC, version="v1")
    flags = Flags(source, refresh_mode="on_read", poll_interval=3600)
    source.update(changed(DOC, zeta={"enabled": False}), version="v2")
    assert {answer.version for answer in flags.evaluate_all("acme")} == {"v1"}  # not due yet
    flags._scheduler._due = 0.0  # type: ignore[union-attr]  # as if the poll interval had passed
    answers = flags.evaluate_all("acme")
    assert {answer.version for answer in answers} == {"v2"}
    flags.close()
