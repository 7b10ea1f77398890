"""`Flags.on_evaluation`: impressions of the flags that ask for them (or of every flag), made
by every kind of read, delivered off the reading thread, and none for other flags."""

from __future__ import annotations

import threading

from flagkit import Flags, Reason, Tenant
from flagkit.impressions import Impression

DOCUMENT = {
    "watched": {"enabled": True, "impressions": True, "tenants": ["acme"]},
    "quiet": {"enabled": True},
}


def collected(flags: Flags, *, every_flag: bool = False) -> list[Impression]:
    seen: list[Impression] = []
    flags.on_evaluation(seen.append, every_flag=every_flag)
    return seen


def test_each_read_of_a_flag_that_asks_is_an_impression() -> None:
    flags = Flags.from_dict(DOCUMENT, version="v7", clock=lambda: 1234.5)
    seen = collected(flags)
    flags.enabled("watched", "acme")
    flags.evaluate("watched", Tenant("globex"))
    flags.evaluate_all("initech")
    flags.enabled("quiet", "acme")
    flags.close()
    assert seen == [
        Impression("watched", "acme", "on", Reason.TARGETING_MATCH, "tenants", "v7", 1234.5),
        Impression("watched", "globex", "off", Reason.DEFAULT, "default", "v7", 1234.5),
        Impression("watched", "initech", "off", Reason.DEFAULT, "default", "v7", 1234.5),
    ]
    assert flags.impression_stats.delivered == 3


def test_every_flag_when_the_application_says_so() -> None:
    flags = Flags.from_dict(DOCUMENT, clock=lambda: 0.0)
    everything = collected(flags, every_flag=True)
    asked = collected(flags)
    flags.enabled("quiet", "acme")
    flags.enabled("watched", "acme")
    flags.close()
    assert [(i.flag, i.requested) for i in everything] == [("quiet", False), ("watched", True)]
    assert [i.flag for i in asked] == ["watched"]


def test_callbacks_never_run_on_the_reading_thread() -> None:
    flags = Flags.from_dict(DOCUMENT)
    threads: list[str] = []
    flags.on_evaluation(lambda _: threads.append(threading.current_thread().name))
    flags.enabled("watched", "acme")
    flags.close()
    assert threads
    assert threading.current_thread().name not in threads


def test_without_callbacks_or_after_unsubscribing_the_deciders_are_the_documents() -> None:
    flags = Flags.from_dict(DOCUMENT)
    plain = dict(flags.flagset.deciders)
    stop = flags.on_evaluation(lambda _: None)
    assert flags.flagset.deciders["watched"] is not plain["watched"]
    assert flags.flagset.deciders["quiet"] is plain["quiet"]
    stop()
    assert flags.flagset.deciders == plain
