"""ns per `Flags.enabled()` call against a hand-written floor measured in the same run.

    .venv/bin/python bench/hot_path.py [--rounds 15]

The floor is the least a Python feature-flag check can do: a plain function
that checks an allow list, a tier list and an mmh3 percentage on its own
arguments. flagkit runs the same checks on a 50-flag document through its
public API. The machine is shared and noisy, so runs alternate and medians
are quoted; the ratio is what to read. Start-up is bench/startup.py's.

Usage counting (`Flags.usage()`) is on in every case; its cost is measured apart, as the
percentage flag's decider with and without `next(decision.uses)`. Two more cases: a flag
whose rule tests a version, an RE2 pattern and a weekly schedule (budget: 3 us per
`enabled()`), and `evaluate_all()` per flag against `enabled()` of the same flags for the
same tenants (budget: 2x).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import mmh3

import flagkit

FLAG_COUNT = 50
TENANT_COUNT = 10_000
PERCENTAGE = 25
ALLOWED = [f"vip-{i}" for i in range(100)]
TIERS = ["enterprise"]
TARGET = "flag25"


TARGETED = "targeted"
TARGETED_RULE = {
    "when": [
        {"attribute": "appVersion", "versionGte": "2.3.0"},
        {"attribute": "email", "matches": r"@(acme|globex|initech)\.com$"},
        {
            "attribute": "now",
            "schedule": {
                "days": ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"],
                "from": "00:00",
                "timezone": "Europe/Berlin",
            },
        },
    ],
    "serve": True,
}
"""A rule with three targeting-v2 tests, all of which hold, so each runs every time."""


def build_document() -> dict[str, object]:
    """50 flags shaped alike: an allow list, an exclusion, a tier and a 25 % rollout; and one
    more, `targeted`, whose rule tests a version, a pattern and a schedule."""
    document: dict[str, object] = {
        f"flag{i:02d}": {
            "enabled": True,
            "description": f"benchmark flag {i}",
            "tenants": ALLOWED,
            "excludedTenants": [f"banned-{j}" for j in range(5)],
            "tiers": TIERS,
            "percentage": PERCENTAGE,
            "owner": "bench",
        }
        for i in range(FLAG_COUNT)
    }
    document[TARGETED] = {"enabled": True, "rules": [TARGETED_RULE]}
    return document


def floor_check(
    tenant_id: str,
    tier: str | None,
    allow: frozenset[str] = frozenset(ALLOWED),
    tiers: frozenset[str] = frozenset(TIERS),
    salt: str = TARGET,
    threshold: int = PERCENTAGE * 100,
) -> bool:
    """The floor: allow list, tier, mmh3 percentage, nothing else."""
    if tenant_id in allow:
        return True
    if tier in tiers:
        return True
    h = mmh3.hash(f"{salt}:{tenant_id}", 0, False)
    return (h % 100) * 100 + (h // 100) % 100 < threshold


PASSES = 3
"""Passes over the tenants per sample: long enough that a noisy neighbour's burst is diluted."""


def time_per_call(run: Callable[[], object], calls: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(PASSES):
        run()
    return (time.perf_counter_ns() - start) / (calls * PASSES)


def hot_path(rounds: int) -> dict[str, list[float]]:
    """ns per call of each case, one sample per round; a round runs every case once."""
    flags = flagkit.Flags.from_dict(build_document())
    tenant_ids = [f"tenant-{i}" for i in range(TENANT_COUNT)]
    tenant_objects = [flagkit.Tenant(tenant_id, tier="free") for tenant_id in tenant_ids]
    allowed_ids = [ALLOWED[i % len(ALLOWED)] for i in range(TENANT_COUNT)]
    targeted_tenants = [
        flagkit.Tenant(
            tenant_id,
            tier="free",
            attributes={
                "appVersion": f"2.{3 + i % 7}.{i % 11}",  # 77 versions, as a fleet has
                "email": f"user{i}@{('acme', 'globex', 'initech')[i % 3]}.com",  # all distinct
            },
        )
        for i, tenant_id in enumerate(tenant_ids)
    ]
    bulk_ids = tenant_ids[: TENANT_COUNT // 10]
    enabled = flags.enabled
    assert all(enabled(TARGETED, tenant) for tenant in targeted_tenants)

    # Every variant gives the same answers; check once so the bench measures correct code.
    assert [enabled(TARGET, t) for t in tenant_ids] == [floor_check(t, None) for t in tenant_ids]
    assert all(enabled(TARGET, t) for t in allowed_ids)

    def floor_str() -> None:
        for tenant_id in tenant_ids:
            floor_check(tenant_id, None)

    def floor_tenant() -> None:
        for tenant in tenant_objects:
            floor_check(tenant.id, tenant.tier)  # type: ignore[arg-type]

    def floor_allowed() -> None:
        for tenant_id in allowed_ids:
            floor_check(tenant_id, None)

    def flagkit_str() -> None:
        for tenant_id in tenant_ids:
            enabled(TARGET, tenant_id)

    def flagkit_tenant() -> None:
        for tenant in tenant_objects:
            enabled(TARGET, tenant)

    def flagkit_allowed() -> None:
        for tenant_id in allowed_ids:
            enabled(TARGET, tenant_id)

    def flagkit_targeted() -> None:
        for tenant in targeted_tenants:
            enabled(TARGETED, tenant)

    keys = flags.keys
    evaluate_all = flags.evaluate_all

    def enabled_every_flag() -> None:
        for tenant_id in bulk_ids:
            for key in keys:
                enabled(key, tenant_id)

    def evaluate_every_flag() -> None:
        for tenant_id in bulk_ids:
            evaluate_all(tenant_id)

    decider = flags.flagset.deciders[TARGET]
    no_attributes = flagkit.Tenant("x").attributes

    def decide_only() -> None:
        for tenant_id in tenant_ids:
            decider(tenant_id, None, no_attributes).on  # noqa: B018 - what enabled() reads

    def decide_and_count() -> None:
        for tenant_id in tenant_ids:
            decision = decider(tenant_id, None, no_attributes)
            next(decision.uses)
            decision.on  # noqa: B018

    # Each flagkit case right after its floor, so a round's pair sees the same neighbours.
    runs = {
        "floor, str": floor_str,
        "flagkit percentage, str": flagkit_str,
        "floor, Tenant": floor_tenant,
        "flagkit percentage, Tenant": flagkit_tenant,
        "floor, allow list": floor_allowed,
        "flagkit allow list, str": flagkit_allowed,
        "flagkit version+pattern+schedule": flagkit_targeted,
        "enabled() of every flag, per flag": enabled_every_flag,
        "evaluate_all(), per flag": evaluate_every_flag,
        "decider alone": decide_only,
        "decider and usage count": decide_and_count,
    }
    calls = dict.fromkeys(runs, TENANT_COUNT)
    calls["enabled() of every flag, per flag"] = len(bulk_ids) * len(keys)
    calls["evaluate_all(), per flag"] = len(bulk_ids) * len(keys)
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            samples[name].append(time_per_call(run, calls[name]))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()

    samples = hot_path(args.rounds)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    print(
        f"enabled() over {TENANT_COUNT:,} tenants, {FLAG_COUNT}-flag document, "
        f"median of {args.rounds} rounds; a ratio is flagkit / floor within each round"
    )
    print(f"{'case':32} {'ns/call':>9} {'x floor':>8} {'min-max':>11}  target")
    pairs = [
        ("flagkit percentage, str", "floor, str", 1.5),
        ("flagkit percentage, Tenant", "floor, Tenant", 2.0),
        ("flagkit allow list, str", "floor, allow list", None),
        ("flagkit version+pattern+schedule", "floor, Tenant", None),
        ("evaluate_all(), per flag", "enabled() of every flag, per flag", 2.0),
        ("decider and usage count", "decider alone", None),
    ]
    for name in ("floor, str", "floor, Tenant", "floor, allow list"):
        print(f"{name:32} {medians[name]:9.0f}")
    for name, floor, target in pairs:
        # Paired by round: a noisy neighbour slows a round's floor and flagkit alike.
        ratios = [mine / base for mine, base in zip(samples[name], samples[floor], strict=True)]
        ratio = statistics.median(ratios)
        verdict = (
            "" if target is None else f"<= {target}x " + ("ok" if ratio <= target else "MISSED")
        )
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
        print(f"{name:32} {medians[name]:9.0f} {ratio:7.2f}x {spread:>11}  {verdict}")
    counting = statistics.median(
        with_count - alone
        for with_count, alone in zip(
            samples["decider and usage count"], samples["decider alone"], strict=True
        )
    )
    print(
        f"usage counting costs {counting:.0f} ns per read, included in every enabled() above "
        f"({counting / medians['flagkit percentage, str']:.0%} of the percentage path)"
    )
    targeted = medians["flagkit version+pattern+schedule"]
    verdict = "ok" if targeted <= TARGETED_BUDGET_NS else "MISSED"
    print(
        f"a rule testing a version, a pattern and a schedule: {targeted / 1000:.2f} us per "
        f"enabled() (<= {TARGETED_BUDGET_NS / 1000:.0f} us {verdict}); the last ratio is "
        "evaluate_all() against enabled() of the same flags, floor = enabled()"
    )


TARGETED_BUDGET_NS = 3_000
"""The issue's budget for a rule with three targeting-v2 tests, on this 2-core machine."""


if __name__ == "__main__":
    main()
