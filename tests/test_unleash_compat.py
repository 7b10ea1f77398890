"""At whole percentages flagkit's rollouts are Unleash's, checked against Unleash's own engine.

Unleash's `flexibleRollout` takes a context when
`normalized_hash(f"{groupId}:{userId}") = mmh3(...) % 100 + 1 <= rollout`; flagkit's
rank < percentage * 100 is the same test, with salt = groupId. The installed
`UnleashClient` (6.x, evaluating with its Rust engine, yggdrasil) answers here.

The client runs fully offline. Its features come from a `FileCache` (in a
temporary directory) bootstrapped with `bootstrap_from_dict`; a bootstrapped
cache is loaded into the engine by the client's constructor. `initialize_client()`
is never called, so nothing is registered, fetched or reported and no scheduler
thread starts (metrics and registration are switched off as well). The URL
points at the discard port on loopback, and every socket connection is refused
while this module runs, so contacting it would fail the tests loudly.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

# The documented import; the package re-exports the class without `__all__`, which strict
# mypy reads as private.
from UnleashClient import UnleashClient  # type: ignore[attr-defined]
from UnleashClient.cache import FileCache
from UnleashClient.utils import InstanceAllowType

import flagkit

PERCENTAGES = (1, 5, 25, 50, 99)
N_IDS = 10_000
IDS = tuple(
    [f"tenant-{i}" for i in range(N_IDS - 500)]
    + [f"東京-{i}" for i in range(250)]
    + [f"café-🚀-{i}" for i in range(250)]
)
UNREACHABLE_URL = "http://127.0.0.1:9"

# (flagkit flag key, its "salt" or None for the default, how many of IDS to check); Unleash's
# groupId is the salt flagkit uses. A Unleash evaluation costs ~80 µs, so the second case
# checks a fifth of the ids to keep the module at a few seconds.
SALTS: tuple[tuple[str, str | None, int], ...] = (
    ("checkout", "billing:v2", N_IDS),  # an explicit salt, with ':' in it
    ("rollout", None, N_IDS // 5),  # no salt: flagkit hashes the flag key, Unleash the name
)


def feature_name(flag: str, percentage: int) -> str:
    return f"{flag}-{percentage}"


@pytest.fixture(scope="module", autouse=True)
def no_network() -> Iterator[None]:
    """Any connection attempt from this module (Unleash registering, fetching, reporting) fails."""

    def refuse(self: socket.socket, address: Any) -> None:
        raise AssertionError(f"the Unleash cross-check tried to connect to {address!r}")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket.socket, "connect_ex", refuse)
        yield


@pytest.fixture(scope="module")
def flags() -> flagkit.Flags:
    document: dict[str, Any] = {}
    for flag, salt, _ in SALTS:
        for percentage in PERCENTAGES:
            definition: dict[str, Any] = {"enabled": True, "percentage": percentage}
            if salt is not None:
                definition["salt"] = salt
            document[feature_name(flag, percentage)] = definition
    return flagkit.Flags.from_dict(document)


def unleash_features() -> dict[str, Any]:
    """The same flags as Unleash's /api/client/features answer."""
    features = []
    for flag, salt, _ in SALTS:
        for percentage in PERCENTAGES:
            name = feature_name(flag, percentage)
            features.append(
                {
                    "name": name,
                    "enabled": True,
                    "strategies": [
                        {
                            "name": "flexibleRollout",
                            "parameters": {
                                "rollout": str(percentage),
                                "stickiness": "userId",
                                "groupId": name if salt is None else salt,
                            },
                        }
                    ],
                }
            )
    return {"version": 1, "features": features}


@pytest.fixture(scope="module")
def unleash(tmp_path_factory: pytest.TempPathFactory, no_network: None) -> Iterator[UnleashClient]:
    threads_before = set(threading.enumerate())
    cache = FileCache("flagkit-unleash-compat", directory=str(tmp_path_factory.mktemp("unleash")))
    cache.bootstrap_from_dict(unleash_features())
    client = UnleashClient(
        url=UNREACHABLE_URL,
        app_name="flagkit-unleash-compat",
        disable_metrics=True,
        disable_registration=True,
        cache=cache,
        # Each test run builds one client; several in one process are expected, not a mistake.
        multiple_instance_mode=InstanceAllowType.SILENTLY_ALLOW,
    )
    assert client.unleash_bootstrapped
    assert not client.is_initialized  # no connector, no scheduler: nothing fetches
    # No thread of its own (threads of earlier tests may end meanwhile: only new ones count).
    assert set(threading.enumerate()) - threads_before == set()
    yield client
    # No destroy(): the client was never initialized, so there is no scheduler or job to stop
    # (destroy() would only log that a never-started scheduler cannot be shut down), and the
    # cache lives in pytest's temporary directory.
    assert set(threading.enumerate()) - threads_before == set()


def test_unleash_engine_holds_the_bootstrapped_features(unleash: UnleashClient) -> None:
    """Unleash's is_enabled says False on any failure; make sure it is really evaluating."""
    expected = {feature_name(flag, p) for flag, _, _ in SALTS for p in PERCENTAGES}
    assert set(unleash.feature_definitions()) == expected
    assert unleash.is_enabled("rollout-99", {"userId": "tenant-0"}) is True
    assert unleash.is_enabled("no-such-feature", {"userId": "tenant-0"}) is False


@pytest.mark.parametrize(("flag", "salt", "count"), SALTS, ids=[flag for flag, _, _ in SALTS])
@pytest.mark.parametrize("percentage", PERCENTAGES)
def test_whole_percentages_match_unleash(
    unleash: UnleashClient,
    flags: flagkit.Flags,
    flag: str,
    salt: str | None,
    count: int,
    percentage: int,
) -> None:
    ids = IDS[:: N_IDS // count]
    assert len(ids) == count
    name = feature_name(flag, percentage)
    theirs = [unleash.is_enabled(name, {"userId": key}) for key in ids]
    ours = [flags.enabled(name, key) for key in ids]
    differ = [key for key, a, b in zip(ids, theirs, ours, strict=True) if a != b]
    assert not differ, f"{len(differ)} ids differ, e.g. {differ[:5]}"
    # Both took about their share (a silently failing engine answering all-False cannot pass).
    assert abs(sum(theirs) / count - percentage / 100) <= 0.02
