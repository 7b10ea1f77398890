"""Metrics of several worker processes, summed: prometheus-client's multiprocess mode.

With `flagkit serve --workers N` each worker is a process of its own, and a scrape
reaches one of them. When `PROMETHEUS_MULTIPROC_DIR` names a directory (the serve
command makes one per run), every worker writes its metrics to files there and any
worker answers a scrape with the numbers of all of them: counters and histograms are
summed (those of workers that have exited included, so they never go backwards), and
the document's gauges are merged as `docs/service-workers.md` explains, each worker
writing them after every refresh attempt (`WorkerDocumentGauges`).
"""

from __future__ import annotations

import glob
import os
import re
import time
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from flagkit.client import Flags
from flagkit.refresh_status import FlagsStatus

__all__ = [
    "MULTIPROC_DIR_VARIABLE",
    "MergedWorkersCollector",
    "WorkerDocumentGauges",
    "forget_worker",
    "merged_registry",
    "multiprocess_directory",
]

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
"""The environment variable that puts prometheus-client in multiprocess mode."""

_CONFIRMED = "flagkit_document_confirmed_timestamp_seconds"
"""Written by each worker, read by the scrape as `flagkit_seconds_since_last_good_load`."""

_LIVE_FILE = re.compile(r"gauge_live[a-z]+_(\d+)\.db\Z")


def multiprocess_directory() -> str | None:
    """The directory the workers share their metrics in, or None in single-process mode.

    prometheus-client picks its mode once, when it is first imported: the variable
    set later (as a test may) does not make this process write shared files.
    """
    if values.ValueClass is values.MutexValue:
        return None
    return os.environ.get(MULTIPROC_DIR_VARIABLE) or os.environ.get(MULTIPROC_DIR_VARIABLE.lower())


class WorkerDocumentGauges:
    """This worker's view of the served document, written to the shared files.

    Modes, chosen so that the merged numbers answer an operator's question:
    `flagkit_workers` (livesum) counts the live workers; `flagkit_document_loaded`
    (livemin) is 1 only when every live worker serves a document; `flagkit_document_info`
    (livesum) counts, per version, the workers serving it (0 for a version none serves
    any more); `flagkit_document_rejected` and `flagkit_refresh_consecutive_failures`
    (livemax) show the worst worker; `flagkit_document_loaded_timestamp_seconds` and the
    confirmation time behind `flagkit_seconds_since_last_good_load` (livemin) the
    stalest one. `flagkit_reloads_total` is a counter: every worker's fetches, summed.
    """

    def __init__(self) -> None:
        self._workers = Gauge(
            "flagkit_workers",
            "Live worker processes.",
            multiprocess_mode="livesum",
            registry=None,
        )
        self._loaded = Gauge(
            "flagkit_document_loaded",
            "1 once every live worker serves a valid flag document.",
            multiprocess_mode="livemin",
            registry=None,
        )
        self._info = Gauge(
            "flagkit_document_info",
            "The served flag document: the number of live workers serving each version.",
            ["version", "source", "origin"],
            multiprocess_mode="livesum",
            registry=None,
        )
        self._confirmed = Gauge(
            _CONFIRMED,
            "When the stalest worker's source last confirmed a valid document (Unix time).",
            multiprocess_mode="livemin",
            registry=None,
        )
        self._reloads = Counter(
            "flagkit_reloads",
            "Fetches from the source (start-up's included), by result, summed over workers.",
            ["result"],
            registry=None,
        )
        self._rejected = Gauge(
            "flagkit_document_rejected",
            "1 while some worker refuses a document the source delivered, by its version.",
            ["version"],
            multiprocess_mode="livemax",
            registry=None,
        )
        self._failures = Gauge(
            "flagkit_refresh_consecutive_failures",
            "Refreshes that failed in a row, in the worker with the most.",
            multiprocess_mode="livemax",
            registry=None,
        )
        self._loaded_at = Gauge(
            "flagkit_document_loaded_timestamp_seconds",
            "When the oldest document a worker serves was loaded (Unix time).",
            multiprocess_mode="livemin",
            registry=None,
        )
        self._workers.set(1)
        self._loaded.set(0)
        self._rejected.labels("").set(0)
        self._info_labels: tuple[str, str, str] | None = None
        self._rejected_version: str | None = None
        self._counted = (0, 0)

    def watch(self, flags: Flags) -> Flags:
        """Write `flags`' status now and after every refresh attempt; returns `flags`."""
        self.write(flags.status)
        flags.on_status(self.write)
        return flags

    def write(self, status: FlagsStatus) -> None:
        """Write one status of this worker's `Flags`."""
        labels = (status.version or "", status.source, status.origin)
        if labels != self._info_labels:
            if self._info_labels is not None:
                self._info.labels(*self._info_labels).set(0)  # A file keeps every series.
            self._info.labels(*labels).set(1)
            self._info_labels = labels
        rejected = status.rejected_version or "" if status.rejected else None
        if rejected != self._rejected_version:
            if self._rejected_version is not None:
                self._rejected.labels(self._rejected_version).set(0)
            self._rejected.labels(rejected if rejected is not None else "").set(
                0 if rejected is None else 1
            )
            self._rejected_version = rejected
        refreshes, failed = status.refreshes, status.failed_refreshes
        self._reloads.labels("success").inc(max(0, refreshes - self._counted[0]))
        self._reloads.labels("failure").inc(max(0, failed - self._counted[1]))
        self._counted = (refreshes, failed)
        self._confirmed.set(status.confirmed_at)
        self._failures.set(status.consecutive_failures)
        self._loaded_at.set(status.loaded_at)
        self._loaded.set(1)


class MergedWorkersCollector:
    """Every worker's metrics, read from `directory` at each scrape.

    A worker that died without saying so (killed, crashed) is noticed here: the live
    gauges of a process that no longer exists are dropped before reading.
    """

    def __init__(self, directory: str) -> None:
        self._directory = directory
        self._files = MultiProcessCollector(None, directory)  # type: ignore[no-untyped-call]

    def collect(self) -> Iterable[Metric]:
        self._forget_dead_workers()
        for metric in self._files.collect():  # type: ignore[no-untyped-call]
            if metric.name != _CONFIRMED:
                yield metric
                continue
            since = GaugeMetricFamily(
                "flagkit_seconds_since_last_good_load",
                "Seconds since the source last delivered or confirmed a valid document, "
                "in the stalest worker.",
            )
            for sample in metric.samples[:1]:
                since.add_metric([], max(0.0, time.time() - sample.value))
            yield since

    def _forget_dead_workers(self) -> None:
        for path in glob.glob(os.path.join(self._directory, "gauge_live*.db")):
            found = _LIVE_FILE.search(os.path.basename(path))
            if found and not _alive(int(found.group(1))):
                forget_worker(int(found.group(1)), self._directory)


def merged_registry(directory: str) -> CollectorRegistry:
    """A registry that scrapes every worker's metrics from `directory`."""
    registry = CollectorRegistry()
    registry.register(MergedWorkersCollector(directory))
    return registry


def forget_worker(pid: int, directory: str) -> None:
    """Drop the live gauges of worker `pid` (exited): its counters keep counting."""
    mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # Someone else's process: alive.
        return True
    return True
