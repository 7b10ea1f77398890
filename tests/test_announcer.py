"""`ChangeAnnouncer` (flagkit/announcer.py): the ordered `on_change` queue.

First the announcer on its own, fed compiled documents by hand; then through `Flags`,
whose refresher queues every swap it makes.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
from typing import Any

import pytest

import flagkit
from flagkit import Flags
from flagkit.announcer import ChangeAnnouncer
from flagkit.compiler import compile_document
from flagkit.document import load_document
from flagkit.flagset import FlagSet
from flagkit.sources.memory import MemorySource
from tests.helpers import ChangeWaiter, blocked_in, wait_until


def flagset(version: str, **flags: bool) -> FlagSet:
    """A compiled document of boolean flags, `name=enabled`, labelled `version`."""
    document = {name: {"enabled": enabled} for name, enabled in flags.items()}
    return compile_document(load_document(json.dumps(document)), version=version)


V1 = flagset("1", a=True, b=True)
V2 = flagset("2", a=False, b=True)
V3 = flagset("3", a=False, b=False)


class Broken:
    """An `on_change` callback that raises, with a name a log line can show whole."""

    def __call__(self, old: str | None, new: str | None, keys: frozenset[str]) -> None:
        raise RuntimeError("listener exploded")

    def __repr__(self) -> str:
        return "<Broken>"


# -- the announcer on its own -------------------------------------------------------------------


def test_each_queued_swap_is_announced_once_oldest_first_with_its_changed_keys() -> None:
    announcer = ChangeAnnouncer()
    heard = ChangeWaiter()
    announcer.subscribe(heard)
    announcer.queue(V1, V2)
    announcer.queue(V2, V3)

    announcer.announce()
    announcer.announce()  # nothing left to announce

    assert heard.calls == [("1", "2", frozenset({"a"})), ("2", "3", frozenset({"b"}))]


def test_a_swap_queued_while_another_thread_announces_is_announced_by_that_thread() -> None:
    """Thread A is in a slow callback for 1->2; the main thread queues 2->3 and announces:
    it returns at once, and thread A announces 2->3 after 1->2, on its own thread."""
    announcer = ChangeAnnouncer()
    entered, go_on = threading.Event(), threading.Event()
    heard: list[tuple[str | None, str | None, str]] = []

    def slow(old: str | None, new: str | None, keys: frozenset[str]) -> None:
        heard.append((old, new, threading.current_thread().name))
        if new == "2":
            entered.set()
            go_on.wait(10)

    announcer.subscribe(slow)
    announcer.queue(V1, V2)
    first = threading.Thread(target=announcer.announce, name="first")
    first.start()
    assert entered.wait(5)

    announcer.queue(V2, V3)
    announcer.announce()  # returns without waiting for the slow callback
    assert heard == [("1", "2", "first")]

    go_on.set()
    first.join(timeout=5)
    assert not first.is_alive()
    assert heard == [("1", "2", "first"), ("2", "3", "first")]


def test_a_raising_callback_is_logged_whole_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    announcer = ChangeAnnouncer()
    before, after = ChangeWaiter(), ChangeWaiter()
    for callback in (before, Broken(), after):
        announcer.subscribe(callback)
    announcer.queue(V1, V2)

    with caplog.at_level(logging.ERROR, logger="flagkit"):
        announcer.announce()

    assert before.calls == after.calls == [("1", "2", frozenset({"a"}))]
    [record] = caplog.records
    assert (record.name, record.levelno) == ("flagkit", logging.ERROR)
    assert record.getMessage() == "flagkit on_change callback <Broken> failed"
    assert record.exc_info is not None
    assert repr(record.exc_info[1]) == "RuntimeError('listener exploded')"


def test_close_from_inside_a_callback_stops_every_announcement_after_it() -> None:
    announcer = ChangeAnnouncer()
    heard = ChangeWaiter()
    closed_in: list[str | None] = []

    def closer(old: str | None, new: str | None, keys: frozenset[str]) -> None:
        closed_in.append(new)
        announcer.close()  # from the announcing thread: returns at once

    announcer.subscribe(closer)
    announcer.subscribe(heard)
    announcer.queue(V1, V2)
    announcer.queue(V2, V3)
    announcer.announce()
    announcer.queue(V3, V1)
    announcer.announce()

    assert closed_in == ["2"]
    assert heard.calls == []


def test_close_waits_for_a_running_callback_and_drops_the_swaps_not_yet_announced() -> None:
    announcer = ChangeAnnouncer()
    entered, go_on = threading.Event(), threading.Event()
    log: list[str] = []

    def slow(old: str | None, new: str | None, keys: frozenset[str]) -> None:
        log.append(f"{old}->{new}")
        entered.set()
        go_on.wait(10)
        log.append(f"{old}->{new} returns")

    announcer.subscribe(slow)
    announcer.queue(V1, V2)
    announcing = threading.Thread(target=announcer.announce)
    announcing.start()
    assert entered.wait(5)
    announcer.queue(V2, V3)

    def close() -> None:
        announcer.close()
        log.append("close returned")

    closer = threading.Thread(target=close)
    closer.start()
    assert wait_until(lambda: blocked_in(closer, "close"), timeout=5)
    go_on.set()
    closer.join(timeout=5)
    announcing.join(timeout=5)

    assert not closer.is_alive()
    assert not announcing.is_alive()
    assert log == ["1->2", "1->2 returns", "close returned"]


def test_unsubscribing_stops_a_callback_and_a_second_call_is_harmless() -> None:
    announcer = ChangeAnnouncer()
    kept, dropped = ChangeWaiter(), ChangeWaiter()
    announcer.subscribe(kept)
    unsubscribe = announcer.subscribe(dropped)
    announcer.queue(V1, V2)
    announcer.announce()

    unsubscribe()
    unsubscribe()
    announcer.queue(V2, V3)
    announcer.announce()

    assert kept.calls == [("1", "2", frozenset({"a"})), ("2", "3", frozenset({"b"}))]
    assert dropped.calls == [("1", "2", frozenset({"a"}))]


# -- through Flags --------------------------------------------------------------------------------

DOC: dict[str, Any] = {"zeta": {"enabled": True}, "alpha": {"enabled": True, "tenants": ["acme"]}}
ZETA_OFF: dict[str, Any] = {**DOC, "zeta": {"enabled": False}}


def test_raising_callback_is_logged_and_does_not_break_refresh(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = MemorySource(DOC, version="v1")
    flags = Flags(source)
    before, after = ChangeWaiter(), ChangeWaiter()
    flags.on_change(before)
    flags.on_change(Broken())
    flags.on_change(after)
    source.update(ZETA_OFF, version="v2")
    with caplog.at_level(logging.ERROR, logger="flagkit"):
        assert flags.refresh() is True
    assert flags.version == "v2"
    assert flags.enabled("zeta", "acme") is False
    assert before.calls == after.calls == [("v1", "v2", frozenset({"zeta"}))]
    failures = [record for record in caplog.records if record.name == "flagkit"]
    assert [(record.levelno, record.getMessage()) for record in failures] == [
        (logging.ERROR, "flagkit on_change callback <Broken> failed")
    ]
    assert failures[0].exc_info is not None
    assert isinstance(failures[0].exc_info[1], RuntimeError)
    # The next refresh works too, and calls the broken callback again.
    source.update(DOC, version="v3")
    with caplog.at_level(logging.ERROR, logger="flagkit"):
        assert flags.refresh() is True
    assert after.calls[-1] == ("v2", "v3", frozenset({"zeta"}))
    assert len([record for record in caplog.records if record.name == "flagkit"]) == 2


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
    after = ChangeWaiter()
    flags.on_change(lambda old, new, keys: flags.close())
    flags.on_change(after)
    source.update(ZETA_OFF, version="v2")
    assert flags.refresh() is True  # no deadlock: close() does not wait for its own caller
    assert flags.version == "v2"
    assert after.calls == []  # closed before it came to this one
    source.update(DOC, version="v3")
    assert flags.refresh() is False
    assert flags.version == "v2"
    assert flags.enabled("zeta", "acme") is False  # reading keeps working


def test_unsubscribing_stops_the_callbacks_and_is_idempotent() -> None:
    source = MemorySource(DOC, version="v1")
    flags = Flags(source)
    changes = ChangeWaiter()
    statuses: list[flagkit.FlagsStatus] = []
    stop_changes = flags.on_change(changes)
    stop_statuses = flags.on_status(statuses.append)
    source.update(ZETA_OFF, version="v2")
    flags.refresh()
    stop_changes()
    stop_statuses()
    stop_changes()  # A second call is harmless.
    source.update(DOC, version="v3")
    assert flags.refresh() is True
    assert changes.calls == [("v1", "v2", frozenset({"zeta"}))]
    assert [status.version for status in statuses] == ["v2"]
