"""`flagkit.impressions`: a bounded queue and one worker thread between the reading threads
and the application's callbacks. Nothing here sleeps: events are awaited."""

from __future__ import annotations

import logging
import threading

import pytest

from flagkit.impressions import Impression, ImpressionDispatcher, ImpressionStats
from flagkit.model import Reason


def impression(tenant: str = "acme") -> Impression:
    return Impression("featureA", tenant, "on", Reason.TARGETING_MATCH, "tenants", "v1", 1.0)


def test_callbacks_run_on_the_worker_thread_in_order() -> None:
    dispatcher = ImpressionDispatcher()
    seen: list[tuple[str | None, str]] = []
    dispatcher.subscribe(lambda i: seen.append((i.tenant, threading.current_thread().name)))
    for tenant in ("a", "b", "c"):
        dispatcher.offer(impression(tenant))
    assert dispatcher.close(timeout=5) is True
    assert [tenant for tenant, _ in seen] == ["a", "b", "c"]
    assert {thread for _, thread in seen} == {"flagkit impressions"}
    assert dispatcher.stats == ImpressionStats(delivered=3, dropped=0, failures=0)


def test_a_full_queue_drops_and_counts_without_waiting() -> None:
    dispatcher = ImpressionDispatcher(queue_size=2)
    release = threading.Event()
    started = threading.Event()

    def slow(_: Impression) -> None:
        started.set()
        release.wait(5)

    dispatcher.subscribe(slow)
    dispatcher.offer(impression("first"))  # taken by the worker, which then waits
    assert started.wait(5)
    for tenant in ("q1", "q2", "dropped1", "dropped2"):
        dispatcher.offer(impression(tenant))  # returns at once, full or not
    release.set()
    assert dispatcher.close(timeout=5) is True
    assert dispatcher.stats == ImpressionStats(delivered=3, dropped=2, failures=0)


def test_a_failing_callback_is_logged_once_counted_each_time_and_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    dispatcher = ImpressionDispatcher()
    delivered: list[str | None] = []

    def broken(_: Impression) -> None:
        raise ValueError("boom")

    dispatcher.subscribe(broken)
    dispatcher.subscribe(lambda i: delivered.append(i.tenant))
    with caplog.at_level(logging.ERROR, logger="flagkit"):
        for tenant in ("a", "b", "c"):
            dispatcher.offer(impression(tenant))
        assert dispatcher.close(timeout=5) is True
    assert delivered == ["a", "b", "c"]
    assert dispatcher.stats.failures == 3
    failures = [r for r in caplog.records if "impression callback" in r.getMessage()]
    assert len(failures) == 1
    assert failures[0].exc_info is not None
    assert "(logged once; later failures are counted in flags.impression_stats)" in (
        failures[0].getMessage()
    )


def test_close_gives_up_after_its_timeout_when_a_callback_hangs() -> None:
    dispatcher = ImpressionDispatcher()
    release = threading.Event()
    dispatcher.subscribe(lambda _: release.wait(10))
    dispatcher.offer(impression())
    assert dispatcher.close(timeout=0.2) is False
    release.set()


def test_no_callback_after_close() -> None:
    dispatcher = ImpressionDispatcher()
    dispatcher.close()
    with pytest.raises(RuntimeError, match="these flags are closed"):
        dispatcher.subscribe(lambda _: None)
