"""`Flags.usage()`: how often each flag served each answer, per interval, across refreshes
and threads; unused flags and flags that served one answer to everyone."""

from __future__ import annotations

import threading
from pathlib import Path

from flagkit import Flags, Reason, Tenant
from flagkit.usage import UsageCount
from tests.helpers import replace, write

DOCUMENT = {
    "listed": {"enabled": True, "tenants": ["acme"]},
    "killed": {"enabled": False},
    "colour": {
        "enabled": True,
        "variants": {"red": "#f00", "blue": "#00f"},
        "defaultVariant": "blue",
        "offVariant": "red",
        "tenants": ["acme"],
    },
    "idle": {"enabled": True},
}


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_every_read_counts_by_flag_variant_and_reason() -> None:
    clock = Clock(1000.0)
    flags = Flags.from_dict(DOCUMENT, clock=clock)
    flags.enabled("listed", "acme")
    flags.enabled("listed", Tenant("globex"))
    flags.evaluate("listed", {"id": "acme"})
    flags.value("colour", "acme")
    flags.evaluate_all("globex")
    flags.enabled_flags("initech")
    flags.enabled("nope", "acme")  # an unknown flag has no answer to count
    clock.now = 1060.0
    usage = flags.usage()
    assert (usage.start, usage.end) == (1000.0, 1060.0)
    assert usage.counts == (
        UsageCount("listed", "off", Reason.DEFAULT, 3),
        UsageCount("listed", "on", Reason.TARGETING_MATCH, 2),
        UsageCount("killed", "off", Reason.DISABLED, 2),
        UsageCount("colour", "blue", Reason.TARGETING_MATCH, 1),
        UsageCount("colour", "red", Reason.DEFAULT, 2),
        UsageCount("idle", "on", Reason.STATIC, 2),
    )
    assert usage.total("listed") == 5
    assert usage.unused == ()
    assert usage.single_answer == ("killed", "idle")


def test_each_call_counts_since_the_last() -> None:
    clock = Clock(0.0)
    flags = Flags.from_dict(DOCUMENT, clock=clock)
    flags.enabled("listed", "acme")
    clock.now = 10.0
    assert flags.usage().total("listed") == 1
    flags.enabled("listed", "acme")
    flags.enabled("listed", "acme")
    clock.now = 25.0
    second = flags.usage()
    assert (second.start, second.end, second.total("listed")) == (10.0, 25.0, 2)
    third = flags.usage()
    assert third.counts == ()
    assert third.unused == ("listed", "killed", "colour", "idle")


def test_counts_survive_a_refresh_that_replaces_the_document(tmp_path: Path) -> None:
    path = write(tmp_path, "flags.json", DOCUMENT)
    flags = Flags.from_file(path)
    flags.enabled("listed", "acme")
    replace(path, {**DOCUMENT, "listed": {"enabled": False}})
    assert flags.refresh() is True
    flags.enabled("listed", "acme")
    assert flags.usage().counts == (
        UsageCount("listed", "off", Reason.DISABLED, 1),
        UsageCount("listed", "on", Reason.TARGETING_MATCH, 1),
    )


def test_no_count_is_lost_between_threads() -> None:
    flags = Flags.from_dict(DOCUMENT)
    start = threading.Barrier(4)

    def read() -> None:
        start.wait()
        for _ in range(20_000):
            flags.enabled("listed", "acme")

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert flags.usage().total("listed") == 80_000
