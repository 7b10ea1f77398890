"""flagkit in an asyncio program: on-read polls that never block the event loop, and
`await flags.refresh_async()`. Real boto3 over real HTTP to the loopback AppConfig, which
is made to hang (a `hold` fault) while an event loop's latency is measured."""

from __future__ import annotations

import ast
import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from flagkit import DocumentError, FlagkitError, Flags, SourceError
from flagkit.client import RefreshMode
from flagkit.schedulers import ReadScheduler
from tests.appconfig_endpoint import GET_CONFIGURATION, AppConfigEndpoint, FaultKind
from tests.appconfig_fixtures import (
    APP,
    ENV,
    PROFILE,
    V1,
    V2,
    ChangeWaiter,
    Harness,
    wait_until,
)
from tests.conftest import REPO
from tests.helpers import run_python
from tests.markdown_text import fenced_blocks

SOURCE = f"appconfig://{APP}/{ENV}/{PROFILE}"
TICK = 0.005
"""How long the ticker sleeps; how late it wakes is the event loop's latency."""
LATENESS_LIMIT = 0.05
"""Generous for a loaded 2-core machine; a read that fetched would block for `HANG` seconds."""
APPCONFIG_FAILED = (
    f"{SOURCE}: GetLatestConfiguration failed: InternalServerException: An internal error "
    f"occurred. (application {APP!r}, environment {ENV!r}, profile {PROFILE!r})"
)
"""What a poll says when AppConfig answers 500 (an `internal` fault)."""
HANG = 2.0
"""How long AppConfig hangs at most: a watchdog lets its held requests go after this."""


class Ticker:
    """A task that sleeps `TICK` seconds over and over and records how late each wake-up is."""

    def __init__(self) -> None:
        self.lateness: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Ticker:
        self._task = asyncio.create_task(self._tick())
        while not self.lateness:  # ticking
            await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _tick(self) -> None:
        while True:
            began = time.monotonic()
            await asyncio.sleep(TICK)
            self.lateness.append(time.monotonic() - began - TICK)

    def worst(self) -> float:
        return max(self.lateness)


@contextmanager
def watchdog(endpoint: AppConfigEndpoint) -> Iterator[None]:
    """Release AppConfig's held requests after `HANG` seconds, should the test not (the old
    code blocked the loop that was to release them)."""
    timer = threading.Timer(HANG, endpoint.release)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Await `condition` without blocking the loop; whether it held within `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(TICK)
    return True


def flags_with_v2_behind(
    endpoint: AppConfigEndpoint,
    harness: Harness,
    fault: FaultKind = "hold",
    refresh_mode: RefreshMode = "on_read",
) -> Flags:
    """Flags serving V1, with V2 deployed behind AppConfig's `fault` (a `hold`: AppConfig
    hangs on the next fetch; others: on every one). An `on_read` one is due for a poll."""
    endpoint.deploy(APP, ENV, PROFILE, V1)
    flags = harness.appconfig(refresh_mode=refresh_mode)
    due = time.monotonic() + endpoint.poll_interval  # what the endpoint asked for
    endpoint.deploy(APP, ENV, PROFILE, V2)
    if fault == "hold":
        endpoint.fail_next("hold", operation=GET_CONFIGURATION)
    else:
        endpoint.set_fault(fault, operation=GET_CONFIGURATION)
    if refresh_mode == "on_read":
        assert wait_until(lambda: time.monotonic() >= due, timeout=endpoint.poll_interval + 1)
    return flags


# -- refresh_mode="on_read" inside an event loop --------------------------------------------------


def test_on_read_in_an_event_loop_answers_at_once_and_polls_off_the_loop(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    """While AppConfig hangs, the loop's reads answer from V1 and the loop keeps ticking; one
    poll is sent, whatever the reads; once AppConfig answers, a later read sees V2."""
    flags = flags_with_v2_behind(endpoint, harness)

    async def main() -> dict[str, Any]:
        async with Ticker() as ticker:
            first = flags.enabled("search", "acme")  # due: the poll starts, off the loop
            held = await until(lambda: endpoint.wait_for_held(1, timeout=0))
            meanwhile = []
            for _ in range(20):  # due too, but a poll is under way: no second one
                meanwhile.append((flags.enabled("search", "acme"), flags.version))
                await asyncio.sleep(TICK)
            worst_while_held = ticker.worst()
            endpoint.release()
            swapped = await until(lambda: flags.enabled("search", "acme"))
        return {
            "worst": worst_while_held,
            "first": first,
            "held": held,
            "meanwhile": meanwhile,
            "swapped": swapped,
        }

    with watchdog(endpoint):
        seen = asyncio.run(main())

    assert seen["worst"] < LATENESS_LIMIT, f"the loop stalled {seen['worst']:.3f} s"
    assert seen["first"] is False  # V1's answer
    assert seen["held"] is True
    assert seen["meanwhile"] == [(False, "1")] * 20
    assert seen["swapped"] is True
    assert flags.version == "2"
    assert endpoint.count(GET_CONFIGURATION) == 2  # the load, and exactly one poll


READERS: dict[str, Callable[[Callable[[], bool]], bool]] = {
    "a plain thread": lambda read: read(),
    "a coroutine on the loop": lambda read: asyncio.run(_on_the_loop(read)),
    "a worker thread of a loop": lambda read: asyncio.run(asyncio.to_thread(read)),
}


async def _on_the_loop(read: Callable[[], bool]) -> bool:
    return read()


@pytest.mark.parametrize(
    ("reader", "waits_for_the_poll"),
    [
        ("a plain thread", True),  # as AWS Lambda needs: catch up, then answer
        ("a coroutine on the loop", False),
        ("a worker thread of a loop", True),  # no loop runs on it: blocking it is fine
    ],
    ids=["plain-thread", "event-loop", "to-thread-worker"],
)
def test_only_a_read_on_a_running_event_loop_does_not_wait_for_the_poll(
    endpoint: AppConfigEndpoint, harness: Harness, reader: str, waits_for_the_poll: bool
) -> None:
    flags = flags_with_v2_behind(endpoint, harness)
    release_after = 0.5
    threading.Timer(release_after, endpoint.release).start()

    began = time.monotonic()
    on = READERS[reader](lambda: flags.enabled("search", "acme"))
    took = time.monotonic() - began

    if waits_for_the_poll:
        assert (on, took >= release_after) == (True, True)  # V2's answer, after the hang
    else:
        assert (on, took < release_after) == (False, True)  # V1's answer, at once
        assert wait_until(lambda: flags.version == "2", timeout=5)  # the poll went on
    assert endpoint.count(GET_CONFIGURATION) == 2


def test_a_poll_off_the_loop_that_fails_keeps_the_document_and_backs_off(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    """A failed poll started by a read on the loop is recorded like any other; V1 stays."""
    flags = flags_with_v2_behind(endpoint, harness, "internal")

    async def main() -> tuple[bool, bool]:
        on = flags.enabled("checkout", "acme")
        failed = await until(lambda: flags.status.consecutive_failures == 1)
        return on, failed

    assert asyncio.run(main()) == (True, True)
    assert flags.status.last_error == APPCONFIG_FAILED
    assert (flags.version, flags.enabled("checkout", "acme")) == ("1", True)
    assert endpoint.count(GET_CONFIGURATION) == 2  # backing off: no poll at every read


def test_close_drops_a_poll_a_loop_started(endpoint: AppConfigEndpoint, harness: Harness) -> None:
    """close() while a poll started off the loop is in flight: V2 arrives and is dropped."""
    flags = flags_with_v2_behind(endpoint, harness)
    waiter = ChangeWaiter()
    flags.on_change(waiter)

    async def main() -> bool:
        on = flags.enabled("search", "acme")
        assert await until(lambda: endpoint.wait_for_held(1, timeout=0))
        flags.close()
        return on

    with watchdog(endpoint):
        assert asyncio.run(main()) is False
        endpoint.release()
        assert endpoint.wait_for_requests(GET_CONFIGURATION, 2)  # V2 reached flagkit ...
    assert not wait_until(lambda: flags.version != "1", timeout=0.5)  # ... and was dropped
    assert (flags.enabled("search", "acme"), waiter.calls) == (False, [])


# -- ReadScheduler, driven by hand ----------------------------------------------------------------


def answer() -> str:
    """A read: what a reader gets from the document."""
    return "answer"


def test_the_scheduler_polls_on_its_own_thread_when_read_from_a_loop() -> None:
    """Reads on the loop answer at once while the poll runs on a named thread of its own."""
    release, polled = threading.Event(), threading.Event()
    polling_threads: list[str] = []

    def poll() -> float:
        polling_threads.append(threading.current_thread().name)
        polled.set()
        assert release.wait(10)
        return 3600.0

    reads = ReadScheduler(poll, first_delay=0.0, name="flagkit-refresh test")
    read = reads.reading(answer)

    async def main() -> list[str]:
        answers = [read() for _ in range(50)]
        assert await until(polled.is_set)
        answers += [read() for _ in range(50)]  # due, but the poll is under way
        return answers

    assert asyncio.run(main()) == ["answer"] * 100
    release.set()
    assert polling_threads == ["flagkit-refresh test"]


# -- refresh_async --------------------------------------------------------------------------------


def test_refresh_async_keeps_the_loop_ticking_and_returns_true_for_a_new_document(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    flags = flags_with_v2_behind(endpoint, harness, refresh_mode="manual")

    async def main() -> tuple[float, bool, str | None, bool]:
        async with Ticker() as ticker:
            refreshing = asyncio.create_task(flags.refresh_async())
            held = await until(lambda: endpoint.wait_for_held(1, timeout=0))
            version_while_held = flags.version
            await asyncio.sleep(0.1)  # the loop ticks on while refresh_async waits
            worst = ticker.worst()
            endpoint.release()
            swapped = await refreshing
        assert held
        return worst, swapped, version_while_held, await flags.refresh_async()

    with watchdog(endpoint):
        worst, swapped, version_while_held, again = asyncio.run(main())

    assert worst < LATENESS_LIMIT, f"the loop stalled {worst:.3f} s"
    assert (swapped, version_while_held, flags.version) == (True, "1", "2")
    assert again is False  # nothing new: what refresh() returns too
    assert flags.enabled("search", "acme") is True


def test_refresh_async_in_on_read_mode_shares_the_poll_a_read_started(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    """As refresh() does: with a poll in flight it waits for that one (no second request)
    and returns True when that poll swapped a document in."""
    flags = flags_with_v2_behind(endpoint, harness)

    async def main() -> tuple[float, bool]:
        async with Ticker() as ticker:
            flags.enabled("search", "acme")  # due: the poll starts, off the loop
            assert await until(lambda: endpoint.wait_for_held(1, timeout=0))
            refreshing = asyncio.create_task(flags.refresh_async())
            await asyncio.sleep(0.1)
            worst = ticker.worst()
            endpoint.release()
            return worst, await refreshing

    with watchdog(endpoint):
        worst, swapped = asyncio.run(main())

    assert worst < LATENESS_LIMIT, f"the loop stalled {worst:.3f} s"
    assert (swapped, flags.version) == (True, "2")
    assert endpoint.count(GET_CONFIGURATION) == 2


def test_cancelling_refresh_async_lets_the_fetch_finish(
    endpoint: AppConfigEndpoint, harness: Harness
) -> None:
    flags = flags_with_v2_behind(endpoint, harness, refresh_mode="manual")

    async def main() -> tuple[bool, str | None, bool]:
        refreshing = asyncio.create_task(flags.refresh_async())
        assert await until(lambda: endpoint.wait_for_held(1, timeout=0))
        refreshing.cancel()
        await asyncio.gather(refreshing, return_exceptions=True)
        version_after_cancelling = flags.version
        endpoint.release()
        return (
            refreshing.cancelled(),
            version_after_cancelling,
            await until(lambda: flags.version == "2"),
        )

    with watchdog(endpoint):
        assert asyncio.run(main()) == (True, "1", True)
    assert flags.enabled("search", "acme") is True


BAD_DOCUMENT: dict[str, Any] = {"checkout": {"enabled": "yes"}}
FAILURES: list[Any] = [
    pytest.param(
        lambda endpoint: endpoint.set_fault("internal", operation=GET_CONFIGURATION),
        SourceError,
        APPCONFIG_FAILED,
        id="appconfig-fails",
    ),
    pytest.param(
        lambda endpoint: endpoint.deploy(APP, ENV, PROFILE, BAD_DOCUMENT),
        DocumentError,
        "checkout.enabled: \"yes\" is not of type 'boolean'",
        id="bad-document",
    ),
]


CALLS: dict[str, Callable[[Flags], bool]] = {
    "refresh": lambda flags: flags.refresh(),
    "refresh_async": lambda flags: asyncio.run(flags.refresh_async()),
}


@pytest.mark.parametrize(("break_it", "error", "message"), FAILURES)
@pytest.mark.parametrize("call", list(CALLS))
def test_refresh_async_raises_what_refresh_raises_and_the_document_stays(
    endpoint: AppConfigEndpoint,
    harness: Harness,
    break_it: Callable[[AppConfigEndpoint], object],
    error: type[FlagkitError],
    message: str,
    call: str,
) -> None:
    endpoint.deploy(APP, ENV, PROFILE, V1)
    flags = harness.appconfig(refresh_mode="manual")
    break_it(endpoint)

    with pytest.raises(error) as raised:
        CALLS[call](flags)

    assert str(raised.value) == message
    assert flags.version == "1"
    assert [flags.enabled("checkout", "acme"), flags.enabled("search", "acme")] == [True, False]


# -- docs/async.md -------------------------------------------------------------------------------

ASYNC_DOC = REPO / "docs" / "async.md"


def test_the_docs_first_example_prints_what_the_page_says(tmp_path: Path) -> None:
    text = ASYNC_DOC.read_text(encoding="utf-8")
    program, document, printed = (
        fenced_blocks(text, "python")[0],
        fenced_blocks(text, "json")[0],
        fenced_blocks(text, "text")[0],
    )
    (tmp_path / "flags.json").write_text(document, encoding="utf-8")

    result = run_python(program, cwd=tmp_path)

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == printed


def test_the_docs_snippets_are_python() -> None:
    """Each snippet compiles as it would run in an `async def` (top-level `await` allowed)."""
    snippets = fenced_blocks(ASYNC_DOC.read_text(encoding="utf-8"), "python")
    assert len(snippets) == 5
    for snippet in snippets:
        compile(snippet, str(ASYNC_DOC), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
