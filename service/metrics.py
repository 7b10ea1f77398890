"""Prometheus metrics: evaluations, request latency, and the served document's health.

Each app has its own registry, so two apps in one process (tests, benchmarks)
never share counts. Under `flagkit serve --workers N` (prometheus-client's multiprocess
mode, `service.worker_metrics`) the registry reads every worker's numbers instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flagkit.client import Flags
from flagkit.model import Evaluation, Reason
from flagkit.usage import OVERRIDE_RULE, Usage, UsageCount
from service.state import FlagsLoader
from service.worker_metrics import (
    WorkerDocumentGauges,
    forget_worker,
    merged_registry,
    multiprocess_directory,
)

__all__ = ["EVALUATIONS_METRIC", "LATENCY_BUCKETS", "UNKNOWN_FLAG", "Metrics", "RequestMetrics"]

UNKNOWN_FLAG = "_unknown"

EVALUATIONS_METRIC = "flagkit_evaluations"
"""The evaluations counter (`flagkit_evaluations_total{flag, variant, reason}` when scraped)."""
"""The `flag` label for flags the document lacks: keys from requests are unbounded."""

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
"""Request latency histogram buckets, in seconds: an evaluation takes well under a millisecond."""


class Metrics:
    """The service's metrics, registered in `registry`.

    In multiprocess mode `registry` merges every worker's files, and this worker's
    document gauges are written by `watch` as its `Flags` refresh.
    """

    def __init__(self, loader: FlagsLoader) -> None:
        self._directory = multiprocess_directory()
        self._worker_gauges: WorkerDocumentGauges | None = None
        own: CollectorRegistry | None
        if self._directory is None:
            self.registry = own = CollectorRegistry()
        else:
            self.registry, own = merged_registry(self._directory), None
            self._worker_gauges = WorkerDocumentGauges()
        self.started_at = time.time()
        self._evaluations = Counter(
            EVALUATIONS_METRIC,
            "Flag evaluations served, by flag, variant and OpenFeature reason; answers forced "
            "by a local override are not counted.",
            ["flag", "variant", "reason"],
            registry=own,
        )
        self.request_duration = Histogram(
            "flagkit_http_request_duration_seconds",
            "HTTP request latency, by route template and method.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=own,
        )
        self.requests = Counter(
            "flagkit_http_requests",
            "HTTP requests, by route template, method and status code.",
            ["route", "method", "status"],
            registry=own,
        )
        self._counters: dict[tuple[str, str | None, Reason], Counter] = {}
        self._durations: dict[tuple[str, str], Histogram] = {}
        self._statuses: dict[tuple[str, str, int], Counter] = {}
        if own is not None:
            own.register(_DocumentCollector(loader))

    def watch(self, flags: Flags) -> Flags:
        """In multiprocess mode, write `flags`' status after every refresh; returns `flags`."""
        if self._worker_gauges is not None:
            self._worker_gauges.watch(flags)
        return flags

    def close(self) -> None:
        """In multiprocess mode, drop this worker's live gauges: it is exiting."""
        if self._directory is not None:
            forget_worker(os.getpid(), self._directory)

    def count_evaluation(self, evaluation: Evaluation, *, known: bool = True) -> None:
        """One more evaluation served; an unknown flag is counted as `UNKNOWN_FLAG` (so no
        client can create series), and an answer forced by an override not at all."""
        if evaluation.rule == OVERRIDE_RULE:
            return
        key = (evaluation.flag if known else UNKNOWN_FLAG, evaluation.variant, evaluation.reason)
        counter = self._counters.get(key)
        if counter is None:
            flag, variant, reason = key
            counter = self._counters[key] = self._evaluations.labels(
                flag, variant or "", reason.value
            )
        counter.inc()

    def evaluation_counts(self) -> dict[tuple[str, str, str], float]:
        """(flag, variant, reason) → evaluations counted, every worker's added up."""
        counts: dict[tuple[str, str, str], float] = {}
        for family in self.registry.collect():
            if family.name != EVALUATIONS_METRIC:
                continue
            for sample in family.samples:
                if sample.name == f"{EVALUATIONS_METRIC}_total":
                    labels = sample.labels
                    key = (labels["flag"], labels["variant"], labels["reason"])
                    counts[key] = counts.get(key, 0.0) + sample.value
        return counts

    def usage(self, flags: Sequence[str]) -> Usage:
        """The evaluations counted since the service started, as `Flags.usage()` gives them,
        for the document's `flags` (so `Usage.unused` and `.single_answer` apply)."""
        counted = self.evaluation_counts()
        order = {flag: index for index, flag in enumerate(flags)}
        counts = sorted(
            (
                UsageCount(flag, variant or None, Reason(reason), int(count))
                for (flag, variant, reason), count in counted.items()
                if flag in order and count > 0
            ),
            key=lambda c: (order[c.flag], c.variant or "", c.reason.value),
        )
        return Usage(self.started_at, time.time(), tuple(counts), tuple(flags))

    def count_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """One more HTTP request to `route` (a template), answered `status` in `seconds`."""
        histogram = self._durations.get((route, method))
        if histogram is None:
            histogram = self._durations[route, method] = self.request_duration.labels(route, method)
        histogram.observe(seconds)
        counter = self._statuses.get((route, method, status))
        if counter is None:
            counter = self._statuses[route, method, status] = self.requests.labels(
                route, method, str(status)
            )
        counter.inc()


class _DocumentCollector:
    """Read at every scrape from `flags.status`: what is served, how fresh, how refreshes go."""

    def __init__(self, loader: FlagsLoader) -> None:
        self._loader = loader

    def collect(self) -> Iterable[Metric]:
        flags = self._loader.flags
        loaded = GaugeMetricFamily(
            "flagkit_document_loaded", "1 once a valid flag document is being served."
        )
        loaded.add_metric([], 0.0 if flags is None else 1.0)
        yield loaded
        if flags is None:
            return
        status = flags.status
        info = GaugeMetricFamily(
            "flagkit_document_info",
            "The served flag document: its version, source and where it came from.",
            labels=["version", "source", "origin"],
        )
        info.add_metric([status.version or "", status.source, status.origin], 1.0)
        yield info
        since = GaugeMetricFamily(
            "flagkit_seconds_since_last_good_load",
            "Seconds since the source last delivered or confirmed a valid document.",
        )
        since.add_metric([], max(0.0, time.time() - status.confirmed_at))
        yield since
        reloads = CounterMetricFamily(
            "flagkit_reloads",
            "Fetches from the source (start-up's included), by result: success brought or "
            "confirmed a valid document; failure is an unreachable source or a rejected one.",
            labels=["result"],
        )
        reloads.add_metric(["success"], float(status.refreshes))
        reloads.add_metric(["failure"], float(status.failed_refreshes))
        yield reloads
        rejected = GaugeMetricFamily(
            "flagkit_document_rejected",
            "1 while a document the source delivered is refused and not yet replaced, "
            "labelled with its version; else 0 with an empty version (one series at a time).",
            labels=["version"],
        )
        if status.rejected:
            rejected.add_metric([status.rejected_version or ""], 1.0)
        else:
            rejected.add_metric([""], 0.0)
        yield rejected
        failures = GaugeMetricFamily(
            "flagkit_refresh_consecutive_failures",
            "Refreshes that failed in a row (0 once one succeeds).",
        )
        failures.add_metric([], float(status.consecutive_failures))
        yield failures
        loaded_at = GaugeMetricFamily(
            "flagkit_document_loaded_timestamp_seconds",
            "When the served document was loaded (Unix time).",
        )
        loaded_at.add_metric([], status.loaded_at)
        yield loaded_at


class RequestMetrics:
    """ASGI middleware: the latency and status of every HTTP request, by route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            self.metrics.count_request(
                template,
                method if method in _METHODS else "other",  # any token is a method to h11
                status,
                time.perf_counter() - start,
            )
