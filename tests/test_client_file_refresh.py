"""`Flags.from_file` keeps itself current: a thread, or reads, re-read the file."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from flagkit import ConfigurationError, Flags, FlagsStatus
from tests.helpers import replace

ON = {"featureA": {"enabled": True}}
OFF = {"featureA": {"enabled": False}}


def test_a_thread_swaps_in_an_edited_file_and_keeps_the_last_good_one(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    replace(path, ON)
    swapped = threading.Event()
    failed: list[FlagsStatus] = []
    failure_seen = threading.Event()

    def on_status(status: FlagsStatus) -> None:
        if status.last_error is not None:
            failed.append(status)
            failure_seen.set()

    with Flags.from_file(path, refresh_mode="thread", poll_interval=0.02) as flags:
        flags.on_change(lambda old, new, changed: swapped.set())
        flags.on_status(on_status)
        assert flags.enabled("featureA", "acme") is True

        replace(path, OFF)
        assert swapped.wait(timeout=10)
        assert flags.enabled("featureA", "acme") is False

        replace(path, '{"featureA": {"enabled": "yes"}}')
        assert failure_seen.wait(timeout=10)
        assert failed[0].last_error == """featureA.enabled: "yes" is not of type 'boolean'"""
        assert flags.enabled("featureA", "acme") is False  # the last good document serves


def test_on_read_catches_up_in_a_subclass_that_overrides_a_read(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    replace(path, ON)

    class AuditedFlags(Flags):
        asked: list[str]

        def enabled(self, flag: str, tenant: object, default: bool = False) -> bool:
            self.asked.append(flag)
            return super().enabled(flag, tenant, default)

    flags = AuditedFlags.from_file(path, refresh_mode="on_read", poll_interval=0.01)
    flags.asked = []
    assert flags.enabled("featureA", "acme") is True
    first = flags.version
    replace(path, OFF)
    deadline = time.monotonic() + 10
    while flags.version == first and time.monotonic() < deadline:
        flags.enabled("featureA", "acme")  # a read that finds the document due re-reads it
    assert flags.enabled("featureA", "acme") is False
    assert set(flags.asked) == {"featureA"}  # the subclass's override still runs
    assert f"flagkit-refresh file:{path}" not in {thread.name for thread in threading.enumerate()}
    flags.close()


def test_manual_is_the_default_and_refresh_re_reads(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    replace(path, ON)
    flags = Flags.from_file(path)
    replace(path, OFF)
    assert flags.enabled("featureA", "acme") is True  # nothing re-read it yet
    assert flags.refresh() is True
    assert flags.enabled("featureA", "acme") is False


@pytest.mark.parametrize("interval", [0, -1.5])
def test_a_poll_interval_must_be_positive(tmp_path: Path, interval: float) -> None:
    path = tmp_path / "flags.json"
    replace(path, ON)
    with pytest.raises(ConfigurationError) as raised:
        Flags.from_file(path, refresh_mode="thread", poll_interval=interval)
    assert str(raised.value) == f"poll_interval must be positive, got {interval}"
