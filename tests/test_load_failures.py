"""Any exception while loading is a rejected document, and no loader dies of one (issue #10, §2).

A `RecursionError` used to escape loading: `Flags.from_file` raised it bare, a refresh
raised it, and in `flagkit serve` it ended the loader thread, so `/readyz` said "loading"
forever with no error. Loading and compiling now raise `DocumentError` and nothing else
(naming the unexpected exception, kept as its `__cause__`), the refresher records it like
any rejection, and the service's loader reports and retries whatever is raised.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

import flagkit.compiler
import flagkit.document
from flagkit import DocumentError, Flags
from flagkit.document import load_document
from flagkit.sources.file import FileSource
from flagkit.sources.memory import MemorySource
from service.app import create_app
from service.settings import Settings
from tests.service_server import serve_app
from tests.test_service_http import LogEvent

GOOD: dict[str, Any] = {"featureA": {"enabled": True, "tenants": ["acme"]}}


def boom(*args: object) -> Any:
    raise RuntimeError("disk on fire")


BOOM = "(document): could not be loaded: RuntimeError: disk on fire"


def test_an_unexpected_exception_while_checking_is_a_document_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(flagkit.document, "is_valid", boom)
    with pytest.raises(DocumentError) as caught:
        load_document(json.dumps(GOOD))
    assert (type(caught.value), str(caught.value)) == (DocumentError, BOOM)
    assert isinstance(caught.value.__cause__, RuntimeError)


def test_an_unexpected_exception_while_compiling_is_a_document_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked = load_document(json.dumps(GOOD))
    monkeypatch.setattr(flagkit.compiler, "decider_for", boom)
    with pytest.raises(DocumentError) as caught:
        flagkit.compiler.compile_document(checked)
    assert str(caught.value) == BOOM


def test_a_refresh_reports_an_unexpected_exception_as_a_rejected_document(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = MemorySource(GOOD, version="1")
    flags = Flags(source)
    source.update({"featureA": {"enabled": False}}, version="2")
    monkeypatch.setattr(flagkit.compiler, "decider_for", boom)

    with pytest.raises(DocumentError) as caught:
        flags.refresh()

    assert str(caught.value) == BOOM
    assert caught.value.source == "memory"
    status = flags.status
    assert (status.last_error, status.consecutive_failures) == (BOOM, 1)
    assert (flags.version, flags.enabled("featureA", "acme")) == ("1", True)


# -- the service's loader ---------------------------------------------------------------------


@contextlib.contextmanager
def serving(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[FastAPI, httpx.Client, threading.Event]]:
    """The service on `path`, retrying failed loads quickly: its app, a client, and an event
    set when it logs that it cannot load its flags (and will retry)."""
    monkeypatch.setattr("service.state.FIRST_RETRY", 0.05)
    handler = LogEvent("cannot load flags, retrying")
    logger = logging.getLogger("flagkit.service")
    logger.addHandler(handler)
    app = create_app(Settings(source=str(path), poll_interval=60))
    try:
        with serve_app(app) as server, server.client() as http:
            yield app, http, handler.seen
    finally:
        logger.removeHandler(handler)


def chain(links: int) -> dict[str, Any]:
    document: dict[str, Any] = {
        f"f{i}": {"enabled": True, "requires": [f"f{i + 1}"]} for i in range(links)
    }
    document[f"f{links}"] = {"enabled": True}
    return document


def test_readyz_shows_a_document_that_once_killed_the_loader_then_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chain of 1,000 prerequisites raised RecursionError in the loader thread."""
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(chain(1000)))
    with serving(path, monkeypatch) as (app, http, load_failed):
        assert load_failed.wait(10)
        loading = http.get("/readyz")
        assert (loading.status_code, loading.json()) == (503, {"status": "loading"})
        assert http.get("/v1/status").json() == {
            "status": "loading",
            "lastError": "f0.requires: a chain of 1000 prerequisites "
            "(f0 -> f1 -> f2 -> ... -> f999 -> f1000); at most 32 are allowed",
        }

        path.write_text(json.dumps(GOOD))
        assert app.state.loader.wait(10)
        assert http.get("/readyz").status_code == 200
        assert http.get("/v1/status").json()["lastError"] is None
        answer = http.post(
            "/ofrep/v1/evaluate/flags/featureA", json={"context": {"targetingKey": "acme"}}
        )
        assert answer.json()["value"] is True


def test_the_loader_survives_an_exception_that_is_not_flagkits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(GOOD))
    fixed = threading.Event()
    fetch = FileSource.fetch

    def failing_fetch(self: FileSource) -> Any:
        if not fixed.is_set():
            raise RuntimeError("disk on fire")
        return fetch(self)

    monkeypatch.setattr(FileSource, "fetch", failing_fetch)
    with serving(path, monkeypatch) as (app, http, load_failed):
        assert load_failed.wait(10)
        loading = http.get("/readyz")
        assert (loading.status_code, loading.json()) == (503, {"status": "loading"})
        assert http.get("/v1/status").json() == {
            "status": "loading",
            "lastError": "RuntimeError: disk on fire",
        }

        fixed.set()
        assert app.state.loader.wait(10)
        assert http.get("/readyz").json()["status"] == "ready"
