"""flagkit/schedulers.py: `Backoff`, `RefreshThread` and `ReadScheduler`, driven by hand.

Each scheduler is given a `poll()` of the test's own that records its calls and can be
held mid-poll with an event. (Both through `Flags` and a real AppConfig, fork included:
tests/test_refresh_modes.py.)
"""

from __future__ import annotations

import gc
import threading

import pytest

from flagkit.schedulers import Backoff, ReadScheduler, RefreshThread
from tests.helpers import wait_until


class Poller:
    """Owns a `poll()` that counts its calls, says when one began, and can be held mid-poll."""

    def __init__(self, wait: float = 3600.0) -> None:
        self.wait = wait
        self.polls = 0
        self.polled = threading.Event()
        self.hold = False
        self.release = threading.Event()
        self.threads: list[str] = []

    def poll(self) -> float:
        self.polls += 1
        self.threads.append(threading.current_thread().name)
        self.polled.set()
        if self.hold:
            assert self.release.wait(10)
        return self.wait


def answer() -> str:
    """A read: what a reader gets from the document."""
    return "answer"


def named(name: str) -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == name]


# -- Backoff --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("base", "cap"), [(1.0, 300.0), (0.5, 30.0), (2.0, 5.0)])
def test_backoff_doubles_from_base_up_to_the_cap_with_jitter_in_the_upper_half(
    base: float, cap: float
) -> None:
    backoff = Backoff(base=base, cap=cap)
    for failures in range(1, 16):
        ceiling = min(cap, base * 2 ** (failures - 1))
        delays = [backoff.delay(failures) for _ in range(50)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays), (failures, delays)
    assert len({backoff.delay(3) for _ in range(50)}) > 1  # jittered, not one fixed delay


def test_backoff_waits_at_least_what_it_is_asked_to() -> None:
    backoff = Backoff(base=1.0, cap=300.0)
    assert backoff.delay(1, at_least=42.0) == 42.0
    assert 128.0 <= backoff.delay(9, at_least=42.0) <= 256.0  # more than asked: its own


def test_backoff_before_any_failure_is_its_first_delay() -> None:
    assert 0.5 <= Backoff().delay(0) <= 1.0


# -- RefreshThread --------------------------------------------------------------------------------


def test_the_thread_polls_as_often_as_poll_says_and_stop_ends_it() -> None:
    poller = Poller(wait=0.0)
    thread = RefreshThread(poller.poll, name="test-refresh-stop", first_delay=0.0)
    thread.start()
    assert wait_until(lambda: poller.polls >= 3, timeout=5)  # no wait between polls
    assert thread.alive
    [running] = named("test-refresh-stop")
    assert running.daemon

    thread.stop()  # may land mid-poll: then the thread ends when that poll returns
    thread.stop()  # a second stop is harmless
    running.join(timeout=5)

    assert not running.is_alive()
    assert not thread.alive
    assert set(poller.threads) == {"test-refresh-stop"}


def test_the_first_poll_waits_first_delay() -> None:
    poller = Poller()
    thread = RefreshThread(poller.poll, name="test-refresh-first-delay", first_delay=3600.0)
    thread.start()
    try:
        assert not poller.polled.wait(0.2)  # nothing to await: a poll that must not happen
        assert thread.alive
    finally:
        thread.stop()
    assert poller.polls == 0
    assert not thread.alive  # between polls, stop() waited for the thread to end


def test_stop_during_a_poll_does_not_wait_for_it_and_no_poll_follows() -> None:
    poller = Poller(wait=0.0)
    poller.hold = True
    thread = RefreshThread(poller.poll, name="test-refresh-mid-poll", first_delay=0.0)
    thread.start()
    assert poller.polled.wait(5)
    [running] = named("test-refresh-mid-poll")

    thread.stop()  # returns at once: the poll is still held
    assert running.is_alive()

    poller.release.set()
    running.join(timeout=5)
    assert not running.is_alive()
    assert poller.polls == 1


def test_a_thread_whose_owner_is_collected_ends() -> None:
    poller = Poller(wait=0.01)
    thread = RefreshThread(poller.poll, name="test-refresh-owner-gone", first_delay=0.0)
    thread.start()
    assert poller.polled.wait(5)
    [running] = named("test-refresh-owner-gone")

    del poller
    gc.collect()

    running.join(timeout=5)
    assert not running.is_alive()
    assert not thread.alive


# -- ReadScheduler --------------------------------------------------------------------------------


def test_reads_before_the_first_delay_do_not_poll() -> None:
    poller = Poller()
    reads = ReadScheduler(poller.poll, first_delay=3600.0)
    read = reads.reading(answer)

    assert [read() for _ in range(100)] == ["answer"] * 100
    reads.catch_up()  # not due: nothing to do
    assert poller.polls == 0


def test_the_read_that_finds_the_document_due_polls_once_then_waits_what_poll_said() -> None:
    poller = Poller(wait=3600.0)
    reads = ReadScheduler(poller.poll, first_delay=0.0)

    def polls_so_far() -> int:
        return poller.polls

    read = reads.reading(polls_so_far)

    assert read() == 1  # this read polled first, then answered
    assert [read() for _ in range(100)] == [1] * 100
    assert poller.polls == 1


def reader_held_mid_poll(wait: float) -> tuple[Poller, ReadScheduler, threading.Thread, list[str]]:
    """A scheduler due at once, and a thread "first reader" whose read found it due and is
    polling, held until `poller.release` is set; its answer goes to the list returned."""
    poller = Poller(wait=wait)
    poller.hold = True
    reads = ReadScheduler(poller.poll, first_delay=0.0)
    read = reads.reading(answer)
    answers: list[str] = []
    reader = threading.Thread(target=lambda: answers.append(read()), name="first reader")
    reader.start()
    assert poller.polled.wait(5)
    return poller, reads, reader, answers


def test_only_one_reader_polls_the_others_answer_at_once() -> None:
    poller, reads, first, answers = reader_held_mid_poll(wait=3600.0)
    read = reads.reading(answer)

    others = [read() for _ in range(10)]  # due too, but they do not wait for the poll

    assert others == ["answer"] * 10
    assert poller.polls == 1
    poller.release.set()
    first.join(timeout=5)
    assert answers == ["answer"]
    assert poller.threads == ["first reader"]


def test_after_stop_reads_never_poll_even_when_due() -> None:
    poller = Poller(wait=0.0)
    reads = ReadScheduler(poller.poll, first_delay=0.0)
    read = reads.reading(answer)
    read()
    assert poller.polls == 1  # every read is due (poll asks for no wait)

    reads.stop()
    for _ in range(100):
        read()
    reads.catch_up()

    assert poller.polls == 1


def test_stop_during_a_poll_stops_the_polls_after_it() -> None:
    poller, reads, reading, answers = reader_held_mid_poll(wait=0.0)

    reads.stop()
    poller.release.set()
    reading.join(timeout=5)
    reads.reading(answer)()  # due by what the poll said, but stopped

    assert answers == ["answer"]
    assert poller.polls == 1
