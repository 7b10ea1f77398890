"""`flagkit serve --workers 2` on loopback: every worker serves, reloads and reports.

Each request goes over a fresh connection, so the kernel hands it to either worker.
Which worker answered is read from the metrics files each worker keeps in the run's
directory (`PROMETHEUS_MULTIPROC_DIR`, made under the test's TMPDIR), one per pid;
what a scrape says is read from `/metrics`, which any worker may answer.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import wait_until, write
from tests.service_server import CliServer, serve_cli

V1: dict[str, Any] = {"featureA": {"enabled": True, "tenants": ["acme"]}}
V2: dict[str, Any] = {"featureA": {"enabled": False, "tenants": ["acme"]}}
EVALUATE = "/ofrep/v1/evaluate/flags/featureA"
MAX_REQUESTS = 400
"""Requests a test may send waiting for the kernel to hand some to each worker."""


def evaluate(server: CliServer) -> str:
    """One evaluation of featureA for acme over a fresh connection; its reason."""
    response = httpx.post(
        server.base_url + EVALUATE, json={"context": {"targetingKey": "acme"}}, timeout=10
    )
    assert response.status_code == 200, response.text
    reason: str = response.json()["reason"]
    return reason


def scrape(server: CliServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """`/metrics` over a fresh connection: every sample, by name and sorted labels."""
    response = httpx.get(server.base_url + "/metrics", timeout=10)
    assert response.status_code == 200, response.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def evaluations(reason: str, variant: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The key of `flagkit_evaluations_total{flag="featureA", variant=..., reason=...}`."""
    return (
        "flagkit_evaluations_total",
        (("flag", "featureA"), ("reason", reason), ("variant", variant)),
    )


def per_worker(directory: Path, name: str, labels: dict[str, str]) -> Counter[int]:
    """The value of counter sample `name{labels}` in each worker's own file, by pid."""
    counts: Counter[int] = Counter()
    for path in directory.glob("counter_*.db"):
        pid = int(path.stem.removeprefix("counter_"))
        for family in MultiProcessCollector.merge([str(path)]):  # type: ignore[no-untyped-call]
            for sample in family.samples:
                if sample.name == name and sample.labels == labels:
                    counts[pid] += int(sample.value)
    return counts


def until_every_worker(
    directory: Path, send: Callable[[], object], name: str, labels: dict[str, str]
) -> tuple[int, Counter[int]]:
    """Calls `send` until two workers have counted `name{labels}`; how many calls, and
    each worker's count (bounded by MAX_REQUESTS)."""
    sent = 0
    while sent < MAX_REQUESTS:
        send()
        sent += 1
        counts = per_worker(directory, name, labels)
        if len(counts) >= 2 and sent >= 20:
            return sent, counts
    raise AssertionError(f"{sent} requests reached only workers {dict(counts)}")


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Until `condition()` (it reads another process, which no event of ours tells of)."""
    assert wait_until(condition, timeout, interval=0.05), "the condition never held"


def metrics_directory(tmp: Path) -> Path:
    """The one directory `flagkit serve` made for its workers' metrics under TMPDIR."""
    (directory,) = tmp.glob("flagkit-metrics-*")
    return directory


def test_two_workers_serve_reload_and_report_as_one(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    source = write(tmp_path, "flags.json", V1)
    env = {"TMPDIR": str(tmp), "FLAGKIT_POLL_INTERVAL": "0.2"}
    with serve_cli("--source", str(source), "--workers", "2", env=env) as server:
        directory = metrics_directory(tmp)
        matched = {"flag": "featureA", "variant": "on", "reason": "TARGETING_MATCH"}

        # Every worker serves: two pids each counted some of the evaluations.
        sent, counts = until_every_worker(
            directory, lambda: evaluate(server), "flagkit_evaluations_total", matched
        )
        assert sum(counts.values()) == sent

        # Every scrape reports all of them, whichever worker answers it.
        scraped: list[float] = []
        metrics_route = {"route": "/metrics", "method": "GET", "status": "200"}
        until_every_worker(
            directory,
            lambda: scraped.append(scrape(server)[evaluations("TARGETING_MATCH", "on")]),
            "flagkit_http_requests_total",
            metrics_route,
        )
        assert set(scraped) == {sent}
        first = scrape(server)
        assert first[("flagkit_workers", ())] == 2
        assert first[("flagkit_document_loaded", ())] == 1

        # Both workers reload: v2 is served by two workers, v1 by none.
        write(tmp_path, "flags.json", V2)

        def both_on_v2() -> bool:
            info = {
                dict(labels)["version"]: value
                for (name, labels), value in scrape(server).items()
                if name == "flagkit_document_info"
            }
            return sorted(info.values()) == [0, 2]

        wait_for(both_on_v2)
        disabled = {"flag": "featureA", "variant": "off", "reason": "DISABLED"}
        sent_after, counts_after = until_every_worker(
            directory, lambda: evaluate(server), "flagkit_evaluations_total", disabled
        )
        assert sum(counts_after.values()) == sent_after
        after = scrape(server)
        assert after[evaluations("DISABLED", "off")] == sent_after
        assert after[evaluations("TARGETING_MATCH", "on")] == sent  # the old counts add up still
        reloads = after[("flagkit_reloads_total", (("result", "success"),))]
        assert reloads >= 4  # each worker's start-up load and its load of v2, at least
        assert 0 <= after[("flagkit_seconds_since_last_good_load", ())] < 10

        # A bad document: both workers refuse it, keep serving v2, and the scrape says so.
        write(tmp_path, "flags.json", {"featureA": {"enabled": "yes"}})

        def rejected_by_both() -> bool:
            scraped = scrape(server)
            rejected = [
                value
                for (name, labels), value in scraped.items()
                if name == "flagkit_document_rejected" and dict(labels)["version"] != ""
            ]
            info = [
                value for (name, _), value in scraped.items() if name == "flagkit_document_info"
            ]
            return (
                rejected == [1]
                and scraped[("flagkit_refresh_consecutive_failures", ())] >= 1
                and scraped[("flagkit_reloads_total", (("result", "failure"),))] >= 2
                and sorted(info) == [0, 2]
            )

        wait_for(rejected_by_both)
        assert {evaluate(server) for _ in range(10)} == {"DISABLED"}

    assert list(tmp.iterdir()) == []  # the run's directory is gone with it


def test_a_killed_worker_stops_counting_as_live(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    source = write(tmp_path, "flags.json", V1)
    with serve_cli("--source", str(source), "--workers", "2", env={"TMPDIR": str(tmp)}) as server:
        directory = metrics_directory(tmp)
        matched = {"flag": "featureA", "variant": "on", "reason": "TARGETING_MATCH"}
        sent, counts = until_every_worker(
            directory, lambda: evaluate(server), "flagkit_evaluations_total", matched
        )
        victim = min(counts)
        os.kill(victim, signal.SIGKILL)  # uvicorn starts another worker in its place

        def two_live_workers_and_a_new_one() -> bool:
            files = {path.name for path in directory.glob("gauge_livesum_*.db")}
            workers = scrape(server).get(("flagkit_workers", ()))
            return f"gauge_livesum_{victim}.db" not in files and workers == 2 and len(files) == 2

        wait_for(two_live_workers_and_a_new_one)
        # The killed worker's evaluations still count: counters never go backwards.
        assert scrape(server)[evaluations("TARGETING_MATCH", "on")] == sent
