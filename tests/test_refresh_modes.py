"""How a `Flags` fed by AppConfig stays current: the refresh thread, fork, on-read refresh,
and readers racing document swaps. Real boto3 over real HTTP to the loopback endpoint."""

from __future__ import annotations

import json
import logging
import os
import select
import signal
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import pytest

from flagkit import Flags
from tests.appconfig_endpoint import GET_CONFIGURATION, AppConfigEndpoint
from tests.appconfig_fixtures import (
    APP,
    ENV,
    PROFILE,
    V1,
    V2,
    V3,
    ChangeWaiter,
    Harness,
    refresh_threads,
    wait_until,
)
from tests.helpers import blocked_in, run_python

SOURCE = f"appconfig://{APP}/{ENV}/{PROFILE}"
THREAD_NAME = f"flagkit-refresh {SOURCE}"


def answers(flags: Flags) -> list[bool]:
    return [flags.enabled(flag, tenant) for flag in V1 for tenant in ("acme", "globex")]


def answers_of(document: dict[str, Any]) -> list[bool]:
    return answers(Flags.from_dict(document))


def test_documents_answer_differently() -> None:
    assert len({tuple(answers_of(document)) for document in (V1, V2, V3)}) == 3


# -- the refresh thread -------------------------------------------------------------------------


def test_importing_flagkit_starts_no_thread() -> None:
    code = (
        "import json, sys, threading\n"
        "import flagkit, flagkit.client, flagkit.refresh\n"
        "import flagkit.sources.appconfig, flagkit.sources.agent\n"
        "print(json.dumps({'threads': [t.name for t in threading.enumerate()],\n"
        "                  'boto3': 'boto3' in sys.modules}))\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"threads": ["MainThread"], "boto3": False}


def test_manual_and_on_read_modes_start_no_thread(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    endpoint.deploy(APP, ENV, PROFILE, V1)
    before = set(threading.enumerate())
    harness.appconfig(refresh_mode="manual")
    harness.appconfig(refresh_mode="on_read")
    harness.agent(refresh_mode="manual")
    harness.agent(refresh_mode="on_read")
    # (The endpoint starts a thread per connection; flagkit none.)
    new = {thread.name for thread in set(threading.enumerate()) - before}
    assert {name for name in new if not name.startswith("local-appconfig-conn")} == set()


@pytest.mark.parametrize("how", ["close", "with"])
def test_the_thread_runs_from_construction_until_closed(
    endpoint: AppConfigEndpoint, harness: Harness, how: str
) -> None:
    endpoint.deploy(APP, ENV, PROFILE, V1)
    before = set(refresh_threads())
    flags = harness.appconfig(refresh_mode="thread")
    with flags if how == "with" else flags_closed_by_hand(flags):
        started = set(refresh_threads()) - before
        assert [thread.name for thread in started] == [THREAD_NAME]
        assert all(thread.daemon for thread in started)
        if how == "close":
            assert endpoint.wait_for_requests(GET_CONFIGURATION, 2, timeout=3)  # it polls

    # close() does not wait for a poll in flight (one may be, after the request awaited
    # above); the thread ends as soon as that poll returns.
    for thread in started:
        thread.join(timeout=5)
    assert not any(thread.is_alive() for thread in started)
    assert set(refresh_threads()) - before == set()
    polled = len(endpoint.requests)
    # Nothing to await: no request may come within the next poll interval and a half.
    assert not endpoint.wait_for_requests(None, polled + 1, timeout=endpoint.poll_interval + 0.5)
    assert answers(flags) == answers_of(V1)  # reading keeps working
    flags.close()  # twice is harmless


class flags_closed_by_hand:
    """`with` for the "close" case: closes the flags with `close()` on leaving."""

    def __init__(self, flags: Flags) -> None:
        self.flags = flags

    def __enter__(self) -> Flags:
        return self.flags

    def __exit__(self, *exc_info: object) -> None:
        self.flags.close()


def await_next_poll(endpoint: AppConfigEndpoint) -> None:
    """Wait out the poll interval the endpoint advertised with the thread's last poll: until
    then refresh() shares that poll and sends none (AppConfig would refuse it)."""
    due = time.monotonic() + endpoint.poll_interval
    assert wait_until(lambda: time.monotonic() >= due, timeout=endpoint.poll_interval + 1)


# -- close() while a fetch or a callback is under way -------------------------------------------


@pytest.mark.parametrize("fetcher", ["thread", "refresh", "on_read"])
def test_close_drops_a_fetch_in_flight(
    endpoint: AppConfigEndpoint, harness: Harness, tmp_path: Path, fetcher: str
) -> None:
    """A fetch that is in flight when close() is called delivers V2 after close() returned:
    the document is not swapped in, no callback runs, the backup is not rewritten, and
    close() did not wait for it."""
    backup = tmp_path / "flags-backup.json"
    endpoint.deploy(APP, ENV, PROFILE, V1)
    mode = {"thread": "thread", "refresh": "manual", "on_read": "on_read"}[fetcher]
    before = set(refresh_threads())
    flags = harness.appconfig(refresh_mode=mode, backup_path=backup)
    due = time.monotonic() + 1.0  # the endpoint asked for 1 s (the thread and on_read wait it)
    waiter = ChangeWaiter()
    flags.on_change(waiter)
    endpoint.deploy(APP, ENV, PROFILE, V2)
    endpoint.fail_next("hold", operation=GET_CONFIGURATION)

    results: list[bool] = []
    if fetcher == "thread":
        [fetching] = set(refresh_threads()) - before
    else:
        if fetcher == "on_read":
            assert wait_until(lambda: time.monotonic() >= due, timeout=3)

        def fetch() -> None:
            if fetcher == "refresh":
                results.append(flags.refresh())
            else:
                results.append(flags.enabled("search", "acme"))  # due: this read fetches

        fetching = threading.Thread(target=fetch, name="fetcher")
        fetching.start()
    assert endpoint.wait_for_held(1, timeout=5)  # the fetch is in flight

    began = time.monotonic()
    flags.close()
    closing = time.monotonic() - began
    endpoint.release()  # the endpoint answers with V2 now
    fetching.join(timeout=5)
    assert not fetching.is_alive()

    assert closing < 1.0, f"close() took {closing:.2f} s"
    assert endpoint.count(GET_CONFIGURATION) == 2  # V2 reached flagkit ...
    assert flags.version == "1"  # ... and was dropped
    assert answers(flags) == answers_of(V1)
    assert waiter.calls == []
    assert json.loads(backup.read_text(encoding="utf-8"))["version"] == "1"
    assert results == ([] if fetcher == "thread" else [False])
    # Closed stays closed: neither refresh() nor reads fetch any more.
    assert flags.refresh() is False
    read_everything(flags)
    assert endpoint.count(GET_CONFIGURATION) == 2
    assert flags.version == "1"


def test_close_waits_for_a_running_callback_and_starts_no_other(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    endpoint.deploy(APP, ENV, PROFILE, V1)
    flags = harness.appconfig(refresh_mode="thread")
    entered, go_on = threading.Event(), threading.Event()
    log: list[str] = []

    def slow(old: str | None, new: str | None, keys: frozenset[str]) -> None:
        log.append(f"slow {old}->{new}")
        if old == "1":
            entered.set()
            assert go_on.wait(10)
            log.append("slow returns")

    waiter = ChangeWaiter()
    flags.on_change(slow)
    flags.on_change(waiter)
    endpoint.deploy(APP, ENV, PROFILE, V2)
    assert entered.wait(5)  # the thread swapped V2 in and is running the first callback
    await_next_poll(endpoint)
    endpoint.deploy(APP, ENV, PROFILE, V3)
    assert flags.refresh() is True  # V3 is in; its announcement waits for the one under way

    def close() -> None:
        flags.close()
        log.append("close returned")

    closer = threading.Thread(target=close, name="closer")
    closer.start()
    assert wait_until(lambda: blocked_in(closer, "close"), timeout=5)
    assert log == ["slow 1->2"]
    go_on.set()
    closer.join(timeout=5)
    assert not closer.is_alive()

    # close() returned after the running callback and started none: not `waiter` for 1->2,
    # nor anything for 2->3.
    assert log == ["slow 1->2", "slow returns", "close returned"]
    assert waiter.calls == []
    assert flags.version == "3"
    assert answers(flags) == answers_of(V3)


# -- on_change order ----------------------------------------------------------------------------


def test_callbacks_see_the_swaps_in_order_when_refresh_races_the_thread(
    endpoint: AppConfigEndpoint, harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """The thread swaps V2 in and is slow in a callback; refresh() swaps V3 in meanwhile. Every
    callback sees 1->2 before 2->3, refresh() does not wait for the slow callback, and one
    that raises is logged and stops nothing."""
    caplog.set_level(logging.ERROR, logger="flagkit")
    endpoint.deploy(APP, ENV, PROFILE, V1)
    flags = harness.appconfig(refresh_mode="thread")
    entered, go_on = threading.Event(), threading.Event()
    seen_by_slow: list[tuple[str | None, str | None]] = []

    def slow(old: str | None, new: str | None, keys: frozenset[str]) -> None:
        seen_by_slow.append((old, new))
        if old == "1":
            entered.set()
            assert go_on.wait(10)

    def broken(old: str | None, new: str | None, keys: frozenset[str]) -> None:
        raise RuntimeError("listener exploded")

    waiter = ChangeWaiter()
    for callback in (slow, broken, waiter):
        flags.on_change(callback)
    endpoint.deploy(APP, ENV, PROFILE, V2)
    assert entered.wait(5)  # the thread swapped V2 in and is inside the first callback
    await_next_poll(endpoint)

    endpoint.deploy(APP, ENV, PROFILE, V3)
    began = time.monotonic()
    assert flags.refresh() is True
    assert time.monotonic() - began < 5  # it did not wait for the slow callback
    assert flags.version == "3"
    assert answers(flags) == answers_of(V3)  # readers see V3 while callbacks catch up
    assert waiter.calls == []  # 2->3 is not announced before 1->2

    go_on.set()
    assert waiter.wait_for_version("3", timeout=5)
    assert waiter.calls == [
        ("1", "2", frozenset({"checkout", "search"})),
        ("2", "3", frozenset({"checkout"})),
    ]
    assert seen_by_slow == [("1", "2"), ("2", "3")]
    failures = [record for record in caplog.records if record.name == "flagkit"]
    assert [
        record.getMessage().startswith("flagkit on_change callback") for record in failures
    ] == [
        True,
        True,
    ]
    assert flags.status.last_error is None


# -- fork ---------------------------------------------------------------------------------------


def _child(flags: Flags, report_to: int) -> NoReturn:
    """Runs in the forked child: await the next deployment, report, and leave at once."""
    code = 1
    try:
        waiter = ChangeWaiter()
        flags.on_change(waiter)
        threads = [thread.name for thread in refresh_threads()]
        seen = waiter.wait_for_version("3", timeout=10)
        report = {
            "threads": threads,
            "seen": seen,
            "version": flags.version,
            "answers": answers(flags),
            "last_error": flags.status.last_error,
        }
        os.write(report_to, json.dumps(report).encode())
        code = 0
    finally:
        os._exit(code)


def _read_report(fd: int, pid: int, timeout: float) -> dict[str, Any]:
    data = b""
    deadline = time.monotonic() + timeout
    while True:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            os.kill(pid, signal.SIGKILL)
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    assert data, f"the child reported nothing (wait status {status})"
    assert os.waitstatus_to_exitcode(status) == 0
    report: dict[str, Any] = json.loads(data)
    return report


def _fork_into(child: Callable[[Flags, int], NoReturn], flags: Flags) -> tuple[int, int]:
    """Fork; the child runs `child(flags, write_end)`, the parent gets (pid, read_end)."""
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork() with threads
        pid = os.fork()
    if pid == 0:
        os.close(read_end)
        child(flags, write_end)
    os.close(write_end)
    return pid, read_end


def _refreshing_child(flags: Flags, report_to: int) -> NoReturn:
    """Runs in the forked child: refresh once by hand, report, and leave at once."""
    code = 1
    try:
        changed = flags.refresh()
        report = {"changed": changed, "version": flags.version, "answers": answers(flags)}
        os.write(report_to, json.dumps(report).encode())
        code = 0
    finally:
        os._exit(code)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_manual_flags_refreshes_in_a_child_forked_mid_refresh(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    endpoint.deploy(APP, ENV, PROFILE, V1)
    flags = harness.appconfig(refresh_mode="manual")
    endpoint.deploy(APP, ENV, PROFILE, V2)
    # Another thread is inside refresh() at the moment of the fork: the child inherits
    # the lock held, and nobody in the child will ever release it.
    with flags._refresher._refresh_lock:
        pid, read_end = _fork_into(_refreshing_child, flags)

    report = _read_report(read_end, pid, timeout=15)  # a deadlocked child reports nothing

    assert report == {"changed": True, "version": "2", "answers": answers_of(V2)}
    assert flags.version == "1"  # the parent's copy did not move
    # The child fetched with its own session, so the parent's token is still good.
    assert flags.refresh() is True
    assert flags.version == "2"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_refreshes_on_its_own(endpoint: AppConfigEndpoint, harness: Harness) -> None:
    endpoint.deploy(APP, ENV, PROFILE, V1)
    flags = harness.appconfig(refresh_mode="thread")
    waiter = ChangeWaiter()
    flags.on_change(waiter)
    endpoint.deploy(APP, ENV, PROFILE, V2)
    # The thread has just finished a poll and waits a whole interval: fork now, between polls.
    assert waiter.wait_for_version("2", timeout=3)
    pid, read_end = _fork_into(_child, flags)
    # The parent stops polling: whatever the child learns, its own thread fetched.
    flags.close()
    endpoint.deploy(APP, ENV, PROFILE, V3)

    report = _read_report(read_end, pid, timeout=15)

    assert report == {
        "threads": [THREAD_NAME],
        "seen": True,
        "version": "3",
        "answers": answers_of(V3),
        "last_error": None,
    }
    assert flags.version == "2"  # the parent's copy did not move
    polled = len(endpoint.requests)
    assert flags.refresh() is False  # closed: fetches nothing
    assert len(endpoint.requests) == polled
    # The child opened its own session after the fork, so the parent's token is still its own.
    snapshot = flags._refresher.source.fetch()
    assert [(r.operation, r.status) for r in endpoint.requests[polled:]] == [
        (GET_CONFIGURATION, 200),
    ]
    assert snapshot is not None
    assert snapshot.version == "3"


# -- refresh_mode="on_read" ---------------------------------------------------------------------


def read_everything(flags: Flags) -> None:
    flags.enabled("checkout", "acme")
    flags.evaluate("checkout", "acme")
    flags.value("checkout", "acme")
    flags.enabled_flags("acme")


def test_on_read_reads_within_the_interval_do_not_fetch(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    endpoint.poll_interval = 30
    endpoint.deploy(APP, ENV, PROFILE, V1)
    flags = harness.appconfig(refresh_mode="on_read")
    endpoint.deploy(APP, ENV, PROFILE, V2)
    for _ in range(500):
        read_everything(flags)
    assert endpoint.count(GET_CONFIGURATION) == 1
    assert flags.version == "1"

    # refresh() shares the reads' polls: nothing is sent before AppConfig's 30 s are over.
    assert flags.refresh() is False
    assert endpoint.count(GET_CONFIGURATION) == 1
    assert answers(flags) == answers_of(V1)


def test_on_read_a_read_after_the_interval_fetches_once(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    endpoint.deploy(APP, ENV, PROFILE, V1)
    loading = time.monotonic()
    flags = harness.appconfig(refresh_mode="on_read")  # the endpoint asks for 1 s
    waiter = ChangeWaiter()
    flags.on_change(waiter)
    endpoint.deploy(APP, ENV, PROFILE, V2)

    # Reads every 5 ms: none fetches before the interval is over, the first after it does.
    assert wait_until(lambda: answers(flags) == answers_of(V2), timeout=5)
    assert waiter.times[0] - loading >= 1.0
    assert endpoint.count(GET_CONFIGURATION) == 2
    for _ in range(100):
        read_everything(flags)
    assert endpoint.count(GET_CONFIGURATION) == 2


def test_on_read_sixteen_readers_when_due_fetch_once(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    endpoint.deploy(APP, ENV, PROFILE, V1)
    flags = harness.appconfig(refresh_mode="on_read")
    due = time.monotonic() + 1.0  # the endpoint asked for 1 s; the fetch is due by then
    endpoint.deploy(APP, ENV, PROFILE, V2)
    fetch_takes = 0.5
    endpoint.fail_next("delay", seconds=fetch_takes, operation=GET_CONFIGURATION)

    barrier = threading.Barrier(16)
    results: list[tuple[float, bool]] = []
    lock = threading.Lock()

    def read() -> None:
        barrier.wait(timeout=10)
        began = time.monotonic()
        on = flags.enabled("search", "acme")
        with lock:
            results.append((time.monotonic() - began, on))

    readers = [threading.Thread(target=read) for _ in range(16)]
    assert wait_until(lambda: time.monotonic() >= due, timeout=2)
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(timeout=10)

    assert len(results) == 16
    assert endpoint.count(GET_CONFIGURATION) == 2  # the load, and exactly one fetch
    # One reader fetched (and answers from the new document); the others did not wait for it.
    slow = [on for took, on in results if took >= fetch_takes]
    assert slow == [True]
    assert all(on is False for took, on in results if took < fetch_takes)
    assert flags.version == "2"


def test_on_read_a_fetch_from_a_hanging_appconfig_waits_only_the_request_timeout(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    """The reader that fetches gives up after `request_timeout` (flagkit's own client tries
    once); before, it waited the client's 10-second read timeout, twice."""
    endpoint.deploy(APP, ENV, PROFILE, V1)
    flags = harness.appconfig(refresh_mode="on_read", own_client=True, request_timeout=0.3)
    due = time.monotonic() + 1.0  # the endpoint asked for 1 s
    endpoint.deploy(APP, ENV, PROFILE, V2)
    endpoint.set_fault("delay", seconds=60, operation=GET_CONFIGURATION)  # cut short at the end
    assert wait_until(lambda: time.monotonic() >= due, timeout=3)

    began = time.monotonic()
    on = flags.enabled("search", "acme")  # due: this read fetches, and AppConfig hangs
    took = time.monotonic() - began

    assert 0.3 - 0.05 <= took <= 0.3 + 1.5
    assert on is False  # answered from the document it had
    assert flags.version == "1"
    error = flags.status.last_error or ""
    assert "GetLatestConfiguration failed: ReadTimeoutError" in error
    # botocore's message quotes the URL; the single-use token in it never reaches a log.
    assert "configuration_token=<token>" in error
    assert all(token not in error for token in endpoint.issued_tokens())


# -- readers racing swaps -----------------------------------------------------------------------

GENERATION_FLAGS = [f"f{index:02d}" for index in range(20)]


def generation(number: int) -> dict[str, Any]:
    """A document that says which generation it is in every answer it gives.

    `gen` serves the generation number, labelled with the same number as version; the
    twenty `fNN` flags are all on in even generations and all off in odd ones. An answer
    mixing two documents breaks one of these.
    """
    on = number % 2 == 0
    document: dict[str, Any] = {name: {"enabled": on} for name in GENERATION_FLAGS}
    document["gen"] = {
        "enabled": True,
        "variants": {"current": number, "other": -number},
        "defaultVariant": "current",
    }
    return document


def test_readers_racing_200_swaps_only_ever_see_whole_documents(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    endpoint.deploy(APP, ENV, PROFILE, generation(0), version_label="0")
    flags = harness.appconfig(refresh_mode="manual")
    stop = threading.Event()
    problems: list[str] = []
    seen: list[set[int]] = [set() for _ in range(16)]
    reads = [0] * 16

    def reader(index: int) -> None:
        last = -1
        try:
            while not stop.is_set():
                evaluation = flags.evaluate("gen", "acme")
                number = int(evaluation.version or "-1")
                if evaluation.value != number:
                    problems.append(f"value {evaluation.value} from version {number}")
                if number < last:
                    problems.append(f"went back from version {last} to {number}")
                last = number
                seen[index].add(number)
                on = [name for name in flags.enabled_flags("acme") if name in GENERATION_FLAGS]
                if on not in ([], GENERATION_FLAGS):
                    problems.append(f"{len(on)} of {len(GENERATION_FLAGS)} flags on")
                flag = GENERATION_FLAGS[reads[index] % len(GENERATION_FLAGS)]
                if flags.enabled(flag, "acme") not in (True, False):
                    problems.append("enabled() returned a non-bool")
                reads[index] += 1
                # Like request handlers, readers block now and then (the wait ends at once when
                # the test stops). Sixteen readers that never block leave the swapping thread
                # ~1/17 of the GIL, and 200 swaps through boto3 then take minutes.
                stop.wait(0.001)
        except Exception as exc:
            problems.append(f"{type(exc).__name__}: {exc}")

    readers = [threading.Thread(target=reader, args=(index,)) for index in range(16)]
    for thread in readers:
        thread.start()
    try:
        for number in range(1, 201):
            endpoint.deploy(APP, ENV, PROFILE, generation(number), version_label=str(number))
            assert flags.refresh() is True
    finally:
        stop.set()
        for thread in readers:
            thread.join(timeout=10)

    print(f"\n{sum(reads)} reads; {len(set().union(*seen))} versions seen")
    assert problems == []
    assert flags.version == "200"
    assert endpoint.count(GET_CONFIGURATION) == 201
    assert all(reads), "every reader read"
    assert len(set().union(*seen)) > 20, "the readers saw the documents change under them"
