"""`Flags`: loading, refreshing, change notification, status, and reads racing a swap."""

from __future__ import annotations

import itertools
import json
import logging
import re
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

import flagkit
from flagkit import DocumentError, Evaluation, Flags, Reason, Tenant
from flagkit.sources.memory import MemorySource

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


def write(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document), encoding="utf-8")


def changed(document: dict[str, Any], **flags: Any) -> dict[str, Any]:
    """A copy of `document` with some flags replaced (a value of None removes the flag)."""
    result = {**document, **flags}
    return {key: value for key, value in result.items() if value is not None}


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str | None, str | None, frozenset[str]]] = []

    def __call__(self, old: str | None, new: str | None, keys: frozenset[str]) -> None:
        self.calls.append((old, new, keys))


# -- loading --------------------------------------------------------------------------------


def test_from_file(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    write(path, DOC)
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
    path = tmp_path / "flags.json"
    write(path, DOC)
    assert Flags.from_file(str(path)).keys == Flags.from_file(path).keys


def test_file_version_follows_content(tmp_path: Path) -> None:
    first, second, third = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    write(first, DOC)
    write(second, DOC)
    write(third, changed(DOC, mid={"enabled": True}))
    assert Flags.from_file(first).version == Flags.from_file(second).version
    assert Flags.from_file(first).version != Flags.from_file(third).version


def test_from_file_as_context_manager(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    write(path, DOC)
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


def test_status_without_failure() -> None:
    flags = Flags.from_dict(DOC, version="v1")
    status = flags.status
    assert status.source == "memory"
    assert status.version == "v1"
    assert status.consecutive_failures == 0
    assert status.last_error is None
    assert status.stale_for == 0.0
    assert status.loaded_at > 0
    assert status.last_attempt >= status.loaded_at
    assert flags.refresh() is False
    after = flags.status
    assert after.consecutive_failures == 0
    assert after.last_error is None
    assert after.stale_for == 0.0
    assert after.last_attempt >= status.last_attempt


def test_failed_refresh_keeps_serving_and_is_reported() -> None:
    source = MemorySource(DOC, version="v1")
    flags = Flags(source)
    source.update({"zeta": {"enabled": "yes"}}, version="v2")
    with pytest.raises(DocumentError) as raised:
        flags.refresh()
    assert "zeta.enabled" in str(raised.value)
    status = flags.status
    assert status.version == "v1"
    assert status.consecutive_failures == 1
    assert status.last_error == str(raised.value)
    assert status.stale_for >= 0.0
    assert flags.version == "v1"
    assert flags.enabled("alpha", "acme") is True
    with pytest.raises(DocumentError):
        flags.refresh()
    assert flags.status.consecutive_failures == 2
    source.update(DOC, version="v3")
    assert flags.refresh() is True
    status = flags.status
    assert (status.version, status.consecutive_failures, status.last_error) == ("v3", 0, None)
    assert status.stale_for == 0.0


# -- refreshing -----------------------------------------------------------------------------


def test_file_refresh(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    write(path, DOC)
    flags = Flags.from_file(path)
    recorder = Recorder()
    flags.on_change(recorder)
    old = flags.version
    assert flags.refresh() is False
    assert recorder.calls == []
    write(path, changed(DOC, mid={"enabled": True}))
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
    recorder = Recorder()
    flags.on_change(recorder)
    source.update(new_document, version="new")
    assert flags.refresh() is True
    assert recorder.calls == [("old", "new", expected)]


def test_on_change_not_called_without_change() -> None:
    source = MemorySource(DOC, version="v1")
    flags = Flags(source)
    recorder = Recorder()
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


def test_raising_callback_is_logged_and_does_not_break_refresh(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = MemorySource(DOC, version="v1")
    flags = Flags(source)
    before, after = Recorder(), Recorder()

    def broken(old: str | None, new: str | None, keys: frozenset[str]) -> None:
        raise RuntimeError("listener exploded")

    flags.on_change(before)
    flags.on_change(broken)
    flags.on_change(after)
    source.update(changed(DOC, zeta={"enabled": False}), version="v2")
    with caplog.at_level(logging.ERROR, logger="flagkit"):
        assert flags.refresh() is True
    assert flags.version == "v2"
    assert flags.enabled("zeta", "acme") is False
    assert before.calls == after.calls == [("v1", "v2", frozenset({"zeta"}))]
    failures = [record for record in caplog.records if record.name == "flagkit"]
    assert len(failures) == 1
    assert failures[0].levelno == logging.ERROR
    assert "on_change callback" in failures[0].getMessage()
    assert failures[0].exc_info is not None
    assert isinstance(failures[0].exc_info[1], RuntimeError)
    # The next refresh works too, and calls the broken callback again.
    source.update(DOC, version="v3")
    with caplog.at_level(logging.ERROR, logger="flagkit"):
        assert flags.refresh() is True
    assert after.calls[-1] == ("v2", "v3", frozenset({"zeta"}))
    assert len([record for record in caplog.records if record.name == "flagkit"]) == 2


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


def test_redeploying_the_served_version_after_a_rejection_clears_the_error() -> None:
    source = MemorySource({"f": {"enabled": True}}, version="1")
    flags = Flags(source)
    source.update({"f": {"enabled": "yes"}}, version="2")
    with pytest.raises(flagkit.SchemaValidationError):
        flags.refresh()
    assert flags.status.consecutive_failures == 1
    source.update({"f": {"enabled": True}}, version="1")  # the rollback
    assert flags.refresh() is False
    status = flags.status
    assert (status.last_error, status.consecutive_failures, status.stale_for) == (None, 0, 0.0)


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


# -- on_change under concurrency, and close() -------------------------------------------------


def test_racing_refreshes_announce_one_unbroken_chain_of_versions() -> None:
    """Eight threads update and refresh at once: the callbacks see each swap once, in the
    order the swaps happened, each starting from the version the one before ended at."""
    source = MemorySource({"f": {"enabled": True}}, version="0")
    flags = Flags(source)
    calls: list[tuple[str | None, str | None]] = []
    running = threading.Lock()
    overlapped: list[str] = []

    def record(old: str | None, new: str | None, keys: frozenset[str]) -> None:
        if not running.acquire(blocking=False):
            overlapped.append(f"{old}->{new}")  # callbacks run one at a time
            return
        try:
            calls.append((old, new))
        finally:
            running.release()

    flags.on_change(record)
    start = threading.Barrier(8)
    swapped = [0] * 8

    def refresher(index: int) -> None:
        start.wait(timeout=10)
        for round_ in range(50):
            source.update({"f": {"enabled": round_ % 2 == 0}}, version=f"{index}.{round_}")
            swapped[index] += flags.refresh()

    threads = [threading.Thread(target=refresher, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert overlapped == []
    assert len(calls) == sum(swapped) > 0
    assert calls[0][0] == "0"
    assert all(earlier[1] == later[0] for earlier, later in itertools.pairwise(calls))
    assert calls[-1][1] == flags.version


def test_close_from_a_callback_stops_the_callbacks_and_refreshing() -> None:
    source = MemorySource(DOC, version="v1")
    flags = Flags(source)
    after = Recorder()
    flags.on_change(lambda old, new, keys: flags.close())
    flags.on_change(after)
    source.update(changed(DOC, zeta={"enabled": False}), version="v2")
    assert flags.refresh() is True  # no deadlock: close() does not wait for its own caller
    assert flags.version == "v2"
    assert after.calls == []  # closed before it came to this one
    source.update(DOC, version="v3")
    assert flags.refresh() is False
    assert flags.version == "v2"
    assert flags.enabled("zeta", "acme") is False  # reading keeps working


# -- status callbacks, unsubscribing, counters, evaluate_all ---------------------------------


class FlakySource:
    """A source that fails with a SourceError while `down`, else serves its MemorySource."""

    def __init__(self, document: dict[str, Any], version: str) -> None:
        self.memory = MemorySource(document, version=version)
        self.down = False

    @property
    def description(self) -> str:
        return "flaky"

    def fetch(self) -> Any:
        if self.down:
            raise flagkit.SourceError("flaky is down", retryable=True)
        return self.memory.fetch()


def test_on_status_hears_every_attempt_whatever_its_outcome() -> None:
    source = FlakySource(DOC, "v1")
    flags = Flags(source)
    heard: list[flagkit.FlagsStatus] = []
    flags.on_status(heard.append)

    assert flags.refresh() is False  # unchanged
    source.down = True
    with pytest.raises(flagkit.SourceError):
        flags.refresh()
    source.down = False
    source.memory.update(changed(DOC, zeta={"enabled": False}), version="v2")
    assert flags.refresh() is True

    assert [(s.version, s.consecutive_failures, s.last_error) for s in heard] == [
        ("v1", 0, None),
        ("v1", 1, "flaky is down"),
        ("v2", 0, None),
    ]
    assert [(s.refreshes, s.failed_refreshes) for s in heard] == [(2, 0), (2, 1), (3, 1)]
    assert heard[1].stale_for > 0.0
    assert heard[2].confirmed_at >= heard[0].confirmed_at


def test_on_status_runs_after_the_change_callbacks_of_the_same_refresh() -> None:
    source = MemorySource(DOC, version="v1")
    flags = Flags(source)
    order: list[str] = []
    flags.on_status(lambda status: order.append(f"status {status.version}"))
    flags.on_change(lambda old, new, keys: order.append(f"change {old}->{new}"))
    source.update(changed(DOC, zeta={"enabled": False}), version="v2")
    flags.refresh()
    assert order == ["change v1->v2", "status v2"]


def test_a_raising_status_callback_is_logged_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    flags = Flags.from_dict(DOC, version="v1")
    heard: list[str | None] = []

    def broken(status: flagkit.FlagsStatus) -> None:
        raise RuntimeError("status listener exploded")

    flags.on_status(broken)
    flags.on_status(lambda status: heard.append(status.version))
    with caplog.at_level(logging.ERROR, logger="flagkit"):
        assert flags.refresh() is False
    assert heard == ["v1"]
    [record] = [record for record in caplog.records if record.name == "flagkit"]
    assert "on_status callback" in record.getMessage()


def test_unsubscribing_stops_the_callbacks_and_is_idempotent() -> None:
    source = MemorySource(DOC, version="v1")
    flags = Flags(source)
    changes = Recorder()
    statuses: list[flagkit.FlagsStatus] = []
    stop_changes = flags.on_change(changes)
    stop_statuses = flags.on_status(statuses.append)
    source.update(changed(DOC, zeta={"enabled": False}), version="v2")
    flags.refresh()
    stop_changes()
    stop_statuses()
    stop_changes()  # A second call is harmless.
    source.update(DOC, version="v3")
    assert flags.refresh() is True
    assert changes.calls == [("v1", "v2", frozenset({"zeta"}))]
    assert [status.version for status in statuses] == ["v2"]


def test_no_status_callback_after_close() -> None:
    flags = Flags.from_dict(DOC, version="v1")
    statuses: list[flagkit.FlagsStatus] = []
    flags.on_status(statuses.append)
    flags.close()
    assert flags.refresh() is False
    assert statuses == []


def test_a_start_up_failure_counts_as_a_failed_refresh(tmp_path: Path) -> None:
    fallback = tmp_path / "fallback.json"
    write(fallback, DOC)
    source = FlakySource(DOC, "v1")
    source.down = True
    flags = Flags(source, fallback=fallback)
    status = flags.status
    assert (status.refreshes, status.failed_refreshes) == (0, 1)
    assert status.origin == f"fallback:file:{fallback}"


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


class BrokenSource:
    """A source with a bug: its fetch raises something that is not a FlagkitError."""

    description = "broken"

    def __init__(self) -> None:
        self.memory = MemorySource(DOC, version="v1")
        self.broken = False

    def fetch(self) -> Any:
        if self.broken:
            raise RuntimeError("bug in the source")
        return self.memory.fetch()


def test_a_bug_in_the_source_is_a_failed_attempt_reported_to_on_status() -> None:
    source = BrokenSource()
    flags = Flags(source)
    heard: list[flagkit.FlagsStatus] = []
    flags.on_status(heard.append)
    source.broken = True
    with pytest.raises(RuntimeError):
        flags.refresh()
    [status] = heard
    assert (status.consecutive_failures, status.failed_refreshes) == (1, 1)
    assert status.last_error == "bug in the source"
    assert flags.enabled("alpha", "acme") is True  # still serving


def test_on_read_evaluate_all_catches_up_too() -> None:
    source = MemorySource(DOC, version="v1")
    flags = Flags(source, refresh_mode="on_read", poll_interval=3600)
    source.update(changed(DOC, zeta={"enabled": False}), version="v2")
    assert {answer.version for answer in flags.evaluate_all("acme")} == {"v1"}  # not due yet
    flags._scheduler._due = 0.0  # type: ignore[union-attr]  # as if the poll interval had passed
    answers = flags.evaluate_all("acme")
    assert {answer.version for answer in answers} == {"v2"}
    flags.close()
