"""The frozen bucketing contract: golden vectors, the rank table, properties, stability, spread.

```
h    = MurmurHash3_x86_32(utf8(f"{salt}:{key}"), seed=0)   # unsigned
rank = (h % 100) * 100 + (h // 100) % 100                   # 0 ... 9999
on   = rank < round(percentage * 100)
```

Expected values are computed here with `mmh3` directly (or read from
`tests/data/bucketing_vectors.json`, computed the same way), never through flagkit.
"""

from __future__ import annotations

import contextlib
import gc
import inspect
import json
import os
import subprocess
import sys
import textwrap
import weakref
from collections import Counter
from functools import cache
from typing import Any, TypedDict

import mmh3
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import flagkit
from flagkit import bucketing
from flagkit.bucketing import (
    RANK_OF_RESIDUE,
    VARIANT_SEED,
    bucket_rank,
    in_rollout,
    outside_table,
    rollout_lookup,
    rollout_threshold,
    variant_bucket,
)
from tests.conftest import REPO, TEST_DATA
from tests.helpers import run_python


class Vector(TypedDict):
    salt: str
    key: str
    hash: int
    rank: int
    percentage: float
    on: bool


VECTORS: list[Vector] = json.loads(
    (TEST_DATA / "bucketing_vectors.json").read_text(encoding="utf-8")
)["vectors"]

N_SPREAD = 100_000
SPREAD_IDS = tuple(f"tenant-{i}" for i in range(N_SPREAD))

# Text that UTF-8 can encode (no lone surrogates; see test_lone_surrogate_is_refused_not_a_crash).
_TEXT = st.characters(codec="utf-8")
tenant_ids = st.text(_TEXT, min_size=1, max_size=40)
salts = st.text(_TEXT, max_size=40)
grid_percentages = st.integers(min_value=0, max_value=10_000).map(lambda steps: steps / 100)


def murmur(salt: str, key: str, seed: int = 0) -> int:
    """The contract's hash, straight from mmh3 on explicit UTF-8 bytes."""
    h: int = mmh3.hash(f"{salt}:{key}".encode(), seed, signed=False)
    return h


def rank_formula(h: int) -> int:
    return (h % 100) * 100 + (h // 100) % 100


def one_flag(percentage: float, salt: str | None = None, key: str = "vector") -> flagkit.Flags:
    flag: dict[str, Any] = {"enabled": True, "percentage": percentage}
    if salt is not None:
        flag["salt"] = salt
    return flagkit.Flags.from_dict({key: flag})


# -- golden vectors --------------------------------------------------------------------------


def _vector_id(vector: Vector) -> str:
    return f"{vector['salt']!r}:{vector['key']!r}@{vector['percentage']}"


@pytest.mark.parametrize("vector", VECTORS, ids=_vector_id)
def test_golden_vector(vector: Vector) -> None:
    salt, key, percentage, on = vector["salt"], vector["key"], vector["percentage"], vector["on"]
    # The vector file agrees with mmh3 and with itself.
    assert murmur(salt, key) == vector["hash"]
    assert mmh3.hash(f"{salt}:{key}", 0, signed=False) == vector["hash"]
    assert rank_formula(vector["hash"]) == vector["rank"]
    assert (vector["rank"] < round(percentage * 100)) is on
    # flagkit agrees with the vector.
    assert bucket_rank(salt, key) == vector["rank"]
    assert RANK_OF_RESIDUE[vector["hash"] % 10_000] == vector["rank"]
    assert in_rollout(salt, key, percentage) is on
    flags = one_flag(percentage, salt)
    assert flags.enabled("vector", key) is on
    assert flags.enabled("vector", flagkit.Tenant(key)) is on
    evaluation = flags.evaluate("vector", key)
    assert evaluation.value is on
    assert evaluation.enabled is on
    assert evaluation.reason is flagkit.Reason.SPLIT
    assert evaluation.rule == "percentage"


@pytest.mark.parametrize(
    "vector",
    [vector for vector in VECTORS if vector["salt"] == "featureA"],
    ids=_vector_id,
)
def test_golden_vector_with_default_salt(vector: Vector) -> None:
    """Without "salt", the flag key is the salt."""
    flags = one_flag(vector["percentage"], salt=None, key=vector["salt"])
    assert flags.enabled(vector["salt"], vector["key"]) is vector["on"]


def test_golden_vectors_cover_the_edges() -> None:
    """Keeps the vector file honest: it must go on covering what it was written to cover."""
    assert len(VECTORS) >= 24
    keys = [vector["key"] for vector in VECTORS]
    assert any(not key.isascii() for key in keys)
    assert any(any(ord(char) > 0xFFFF for char in key) for key in keys)  # astral: an emoji
    assert any(vector["salt"] == "" for vector in VECTORS)
    assert any(":" in vector["salt"] for vector in VECTORS)
    percentages = {vector["percentage"] for vector in VECTORS}
    assert {0, 100, 0.01, 0.5, 12.34, 99.99} <= percentages
    below = {
        (v["salt"], v["percentage"])
        for v in VECTORS
        if v["rank"] == round(v["percentage"] * 100) - 1
    }
    at = {
        (v["salt"], v["percentage"]) for v in VECTORS if v["rank"] == round(v["percentage"] * 100)
    }
    assert len(below & at) >= 4
    # 1.15 * 100 == 114.99999999999999: truncating instead of rounding moves the edge.
    assert any(v["percentage"] == 1.15 and v["rank"] == 114 and v["on"] for v in VECTORS)
    assert {True, False} == {vector["on"] for vector in VECTORS}


# -- the rank table ----------------------------------------------------------------------------


def test_rank_table_matches_the_formula_for_every_residue() -> None:
    assert len(RANK_OF_RESIDUE) == 10_000
    for residue in range(10_000):
        assert RANK_OF_RESIDUE[residue] == rank_formula(residue), residue
    assert sorted(RANK_OF_RESIDUE) == list(range(10_000))


def test_outside_table_matches_the_rank_table_at_every_threshold_and_residue() -> None:
    residue_of_rank = {rank: residue for residue, rank in enumerate(RANK_OF_RESIDUE)}
    expected = bytearray(b"\x01" * 10_000)  # threshold 0: every residue is outside
    for threshold in range(10_001):
        assert outside_table(threshold) == expected, threshold
        if threshold < 10_000:  # one more rank, hence one more residue, comes inside
            expected[residue_of_rank[threshold]] = 0


@pytest.mark.parametrize("threshold", [0, 1, 2_500, 9_999, 10_000])
def test_rollout_lookup_answers_rank_below_threshold(threshold: int) -> None:
    table, limit = rollout_lookup(threshold)
    inside = [table[residue] < limit for residue in range(10_000)]
    assert inside == [RANK_OF_RESIDUE[residue] < threshold for residue in range(10_000)]
    assert sum(inside) == threshold


def tables_held_by(flags: flagkit.Flags, key: str) -> list[memoryview]:
    """The rollout tables a flag's specialised decider closes over."""
    cells = flags.flagset.deciders[key].__closure__ or ()
    return [cell.cell_contents for cell in cells if isinstance(cell.cell_contents, memoryview)]


def test_flags_with_the_same_threshold_share_one_table(monkeypatch: pytest.MonkeyPatch) -> None:
    # Other tests may have used up the tables: start from none.
    monkeypatch.setattr(bucketing, "_tables", weakref.WeakValueDictionary())
    flags = flagkit.Flags.from_dict(
        {key: {"enabled": True, "percentage": 12.34} for key in ("first", "second")}
    )
    assert flags.enabled("first", "acme") == in_rollout("first", "acme", 12.34)
    (first,) = tables_held_by(flags, "first")
    (second,) = tables_held_by(flags, "second")
    assert first is second is bucketing._tables[1_234]
    assert first.readonly


def test_a_table_no_flag_uses_is_freed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bucketing, "_tables", weakref.WeakValueDictionary())
    flags = flagkit.Flags.from_dict({"rollout": {"enabled": True, "percentage": 43.21}})
    assert list(bucketing._tables) == [4_321]
    del flags
    gc.collect()  # a compiled flag set holds cycles (flags and their deciders)
    assert list(bucketing._tables) == []  # the cap counts thresholds in use, not ever seen


def test_past_the_shared_tables_the_lookup_is_the_rank_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bucketing, "_tables", weakref.WeakValueDictionary())
    monkeypatch.setattr(bucketing, "MAX_SHARED_TABLES", 2)
    held = [rollout_lookup(1), rollout_lookup(2)]  # in use while held
    assert [limit for _, limit in held] == [1, 1]
    assert rollout_lookup(3) == (RANK_OF_RESIDUE, 3)
    assert rollout_lookup(1)[0] is held[0][0]  # a threshold in use keeps its table
    assert sorted(bucketing._tables) == [1, 2]
    # Flags compiled past the cap still answer by the formula.
    percentages = (0.03, 0.5, 25, 99.99)
    flags = flagkit.Flags.from_dict(
        {f"f{i}": {"enabled": True, "percentage": p} for i, p in enumerate(percentages)}
    )
    for i, percentage in enumerate(percentages):
        for tenant in (f"tenant-{n}" for n in range(300)):
            assert flags.enabled(f"f{i}", tenant) == in_rollout(f"f{i}", tenant, percentage)


@pytest.mark.parametrize("threshold", [-1, 10_001])
def test_rollout_lookup_refuses_thresholds_outside_the_ranks(threshold: int) -> None:
    with pytest.raises(
        ValueError, match=rf"^a rollout threshold is 0 \.\.\. 10000, got {threshold}$"
    ):
        rollout_lookup(threshold)


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_rank_table_matches_the_formula_for_any_hash(h: int) -> None:
    assert RANK_OF_RESIDUE[h % 10_000] == rank_formula(h)


# -- properties --------------------------------------------------------------------------------


@given(salt=salts, key=tenant_ids)
def test_rank_is_the_formula_of_mmh3(salt: str, key: str) -> None:
    rank = bucket_rank(salt, key)
    assert 0 <= rank <= 9_999
    assert rank == rank_formula(murmur(salt, key))


@given(salt=salts, key=tenant_ids, percentage=grid_percentages)
def test_in_rollout_is_rank_below_threshold(salt: str, key: str, percentage: float) -> None:
    assert rollout_threshold(percentage) == round(percentage * 100)
    assert in_rollout(salt, key, percentage) is (
        rank_formula(murmur(salt, key)) < round(percentage * 100)
    )


@given(steps=st.integers(min_value=0, max_value=10_000))
def test_threshold_of_grid_percentages(steps: int) -> None:
    assert rollout_threshold(steps / 100) == steps


@given(salt=salts, key=tenant_ids, low=grid_percentages, high=grid_percentages)
def test_raising_a_percentage_never_removes_a_tenant(
    salt: str, key: str, low: float, high: float
) -> None:
    low, high = min(low, high), max(low, high)
    if in_rollout(salt, key, low):
        assert in_rollout(salt, key, high)
    if not in_rollout(salt, key, high):
        assert not in_rollout(salt, key, low)


@given(key=tenant_ids, low=grid_percentages, high=grid_percentages)
def test_raising_a_flags_percentage_never_removes_a_tenant(
    key: str, low: float, high: float
) -> None:
    assume(low != high)
    low, high = min(low, high), max(low, high)
    flags = flagkit.Flags.from_dict(
        {
            "low": {"enabled": True, "percentage": low, "salt": "rollout"},
            "high": {"enabled": True, "percentage": high, "salt": "rollout"},
        }
    )
    if flags.enabled("low", key):
        assert flags.enabled("high", key)
    assert flags.enabled("low", key) is in_rollout("rollout", key, low)
    assert flags.enabled("high", key) is in_rollout("rollout", key, high)


@given(salt=salts, key=tenant_ids)
def test_zero_is_off_and_hundred_is_on(salt: str, key: str) -> None:
    assert not in_rollout(salt, key, 0)
    assert in_rollout(salt, key, 100)
    assert not in_rollout(salt, key, 0.0)
    assert in_rollout(salt, key, 100.0)


def test_zero_and_hundred_through_flags() -> None:
    flags = flagkit.Flags.from_dict(
        {
            "none": {"enabled": True, "percentage": 0},
            "all": {"enabled": True, "percentage": 100},
        }
    )
    ids = SPREAD_IDS[:5_000]
    assert not any(flags.enabled("none", key) for key in ids)
    assert all(flags.enabled("all", key) for key in ids)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # enabled() never raises on data, and evaluate() says why it fell back.
        (
            "flags = flagkit.Flags.from_dict({'f': {'enabled': True, 'percentage': 100}})\n"
            "print(flags.enabled('f', '\\udcff', default=True), "
            "flags.evaluate('f', '\\udcff').error_code)",
            "True INVALID_CONTEXT",
        ),
        # A document carrying the surrogate as a JSON escape in its salt is refused.
        (
            "import json, os, tempfile\n"
            "with tempfile.NamedTemporaryFile('w', suffix='.json', delete=False) as file:\n"
            "    json.dump({'f': {'enabled': True, 'percentage': 50, 'salt': '\\ud800'}}, file)\n"
            "try:\n"
            "    flagkit.Flags.from_file(file.name)\n"
            "except flagkit.DocumentError as exc:\n"
            "    print(type(exc).__name__, exc)\n"
            "finally:\n"
            "    os.unlink(file.name)",
            "InvalidFlagError f.salt: not valid Unicode text (it has a lone surrogate)",
        ),
        # The bare function refuses the text with an exception.
        (
            "try:\n"
            "    print(flagkit.bucketing.bucket_rank('s', 'x\\ud800'))\n"
            "except ValueError as exc:\n"
            "    print(type(exc).__name__)",
            "UnicodeEncodeError",
        ),
    ],
    ids=["tenant-id", "salt-in-file", "bucket_rank"],
)
def test_lone_surrogate_is_refused_not_a_crash(code: str, expected: str) -> None:
    """mmh3 segfaults on a str with a lone surrogate; flagkit must never hand it one.

    Run in a child process, so that a regression shows as a failed test, not a dead run.
    """
    result = run_python(f"import flagkit, flagkit.bucketing\n{code}")
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-2000:]}"
    assert result.stdout.strip() == expected


# -- determinism across processes --------------------------------------------------------------


def process_answers() -> dict[str, list[Any]]:
    """Ranks and answers of ~500 ids for a few flags. Runs here and, by its source, in children."""
    # Imports inside: the source of this function also runs alone in a child process.
    import flagkit
    from flagkit.bucketing import bucket_rank

    ids = [f"tenant-{i}" for i in range(490)]
    ids += ["café", "東京-tenant", "🚀-tenant", "Ünïcödé", "a:b", " ", "ACME", "acme", "0", "-1"]
    flags = flagkit.Flags.from_dict(
        {
            "featureA": {"enabled": True, "percentage": 25},
            "checkout": {"enabled": True, "percentage": 12.34, "salt": "billing:v2"},
            "theme": {
                "enabled": True,
                "variants": {"a": 1, "b": 2, "c": 3},
                "defaultVariant": "a",
                "split": {"a": 30, "b": 50, "c": 20},
            },
        }
    )
    return {
        "featureA": [[bucket_rank("featureA", i), flags.enabled("featureA", i)] for i in ids],
        "checkout": [[bucket_rank("billing:v2", i), flags.enabled("checkout", i)] for i in ids],
        "theme": [flags.evaluate("theme", i).variant for i in ids],
    }


def _kill_if_running(child: subprocess.Popen[str]) -> None:
    if child.poll() is None:
        child.kill()


def test_answers_are_the_same_in_every_process() -> None:
    source = textwrap.dedent(inspect.getsource(process_answers))
    program = (
        "from __future__ import annotations\n"
        "import json\n"
        "from typing import Any\n"
        f"{source}\n"
        "print(json.dumps(process_answers()))\n"
    )
    outputs = []
    with contextlib.ExitStack() as stack:
        children = []
        for seed in ("0", "1", "random", "12345"):
            child = stack.enter_context(
                subprocess.Popen(
                    [sys.executable, "-c", program],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    encoding="utf-8",
                    env={**os.environ, "PYTHONHASHSEED": seed},
                    cwd=REPO,
                )
            )
            # Runs before the Popen exits (last in, first out): never wait on a stuck child.
            stack.callback(_kill_if_running, child)
            children.append((seed, child))
        for seed, child in children:
            out, err = child.communicate(timeout=60)
            assert child.returncode == 0, (seed, err)
            outputs.append((seed, json.loads(out)))
    here = json.loads(json.dumps(process_answers()))
    assert 0 < sum(on for _, on in here["featureA"]) < len(here["featureA"])
    assert 0 < sum(on for _, on in here["checkout"]) < len(here["checkout"])
    assert set(here["theme"]) == {"a", "b", "c"}
    for seed, output in outputs:
        assert output == here, f"PYTHONHASHSEED={seed}"


CHILD_ANSWERS = """
import json, sys
import flagkit
cases = json.load(sys.stdin)
flags = flagkit.Flags.from_dict(cases["document"])
print(json.dumps([flags.enabled("rollout", key) for key in cases["ids"]]))
"""


@settings(max_examples=8, deadline=None)  # each example starts a Python process
@given(
    ids=st.lists(tenant_ids, min_size=1, max_size=40),
    percentage=grid_percentages,
    salt=salts,
    hash_seed=st.integers(min_value=0, max_value=4_294_967_295),
)
def test_any_ids_get_the_same_answers_in_a_process_with_another_hash_seed(
    ids: list[str], percentage: float, salt: str, hash_seed: int
) -> None:
    document = {"rollout": {"enabled": True, "percentage": percentage, "salt": salt}}
    child = run_python(
        CHILD_ANSWERS,
        input=json.dumps({"document": document, "ids": ids}),
        env={**os.environ, "PYTHONHASHSEED": str(hash_seed)},
    )
    assert child.returncode == 0, child.stderr
    here = flagkit.Flags.from_dict(document)
    assert json.loads(child.stdout) == [here.enabled("rollout", key) for key in ids]


# -- distribution ------------------------------------------------------------------------------


@cache
def spread_ranks(salt: str) -> tuple[int, ...]:
    return tuple(rank_formula(murmur(salt, key)) for key in SPREAD_IDS)


def on_set(flags: flagkit.Flags, flag: str) -> frozenset[str]:
    return frozenset(key for key in SPREAD_IDS if flags.enabled(flag, key))


def test_quarter_rollout_takes_a_quarter() -> None:
    flags = one_flag(25, key="featureA")
    taken = on_set(flags, "featureA")
    assert abs(len(taken) / N_SPREAD - 0.25) <= 0.005
    expected = {
        key for key, rank in zip(SPREAD_IDS, spread_ranks("featureA"), strict=True) if rank < 2500
    }
    assert taken == expected


def test_fractional_rollout_takes_its_share() -> None:
    """0.5 % uses the second digit pair: 500 of 100,000 expected (sd about 22)."""
    flags = one_flag(0.5, key="featureA")
    taken = on_set(flags, "featureA")
    assert abs(len(taken) / N_SPREAD - 0.005) <= 0.001
    assert taken == {key for key in SPREAD_IDS if bucket_rank("featureA", key) < 50}


def test_independent_flags_overlap_by_chance() -> None:
    flags = flagkit.Flags.from_dict(
        {
            "flagA": {"enabled": True, "percentage": 50},
            "flagB": {"enabled": True, "percentage": 50},
        }
    )
    a, b = on_set(flags, "flagA"), on_set(flags, "flagB")
    assert abs(len(a) / N_SPREAD - 0.5) <= 0.005
    assert abs(len(b) / N_SPREAD - 0.5) <= 0.005
    assert abs(len(a & b) / N_SPREAD - 0.25) <= 0.01


# 100,000 ids put a quarter's share within 0.5 % at 3.6 standard deviations and an
# overlap's within 1 % at 7; derandomized, the salts drawn are the same on every run.
@settings(max_examples=10, derandomize=True, deadline=None)
@given(salt=salts)
def test_a_quarter_rollout_takes_a_quarter_whatever_the_salt(salt: str) -> None:
    taken = on_set(one_flag(25, salt=salt, key="featureA"), "featureA")
    assert abs(len(taken) / N_SPREAD - 0.25) <= 0.005


@settings(max_examples=10, derandomize=True, deadline=None)
@given(salt_a=salts, salt_b=salts)
def test_two_half_rollouts_overlap_by_chance_whatever_the_salts(salt_a: str, salt_b: str) -> None:
    assume(salt_a != salt_b)
    flags = flagkit.Flags.from_dict(
        {
            "flagA": {"enabled": True, "percentage": 50, "salt": salt_a},
            "flagB": {"enabled": True, "percentage": 50, "salt": salt_b},
        }
    )
    a, b = on_set(flags, "flagA"), on_set(flags, "flagB")
    assert abs(len(a & b) / N_SPREAD - 0.25) <= 0.01


def test_flags_sharing_a_salt_reach_the_same_tenants() -> None:
    flags = flagkit.Flags.from_dict(
        {
            "checkout": {"enabled": True, "percentage": 30, "salt": "billing:v2"},
            "invoices": {"enabled": True, "percentage": 30, "salt": "billing:v2"},
            "receipts": {"enabled": True, "percentage": 12.34, "salt": "billing:v2"},
            "other": {"enabled": True, "percentage": 30, "salt": "billing:v3"},
        }
    )
    checkout, invoices = on_set(flags, "checkout"), on_set(flags, "invoices")
    assert checkout == invoices
    assert abs(len(checkout) / N_SPREAD - 0.30) <= 0.005
    receipts = on_set(flags, "receipts")
    assert receipts < checkout  # same salt, smaller percentage: a subset
    assert on_set(flags, "other") != checkout
    # The salt, not the flag key, is hashed.
    ranks = spread_ranks("billing:v2")
    assert checkout == {key for key, rank in zip(SPREAD_IDS, ranks, strict=True) if rank < 3000}


# -- variant splits ----------------------------------------------------------------------------

VARIANT_IDS = (
    *(f"tenant-{i}" for i in range(0, 300_000, 1_000)),
    "café",
    "東京-tenant",
    "🚀-tenant",
    "Ünïcödé",
    "a:b:c",
)


def expected_variant(salt: str, key: str, weights: dict[str, int]) -> str:
    """Unleash's walk: bucket = h % total + 1, first variant whose cumulative weight reaches it."""
    bucket = murmur(salt, key, 86028157) % sum(weights.values()) + 1
    cumulative = 0
    for name, weight in weights.items():
        cumulative += weight
        if bucket <= cumulative:
            return name
    raise AssertionError("the walk always ends")


def test_variant_seed_is_unleashs() -> None:
    assert VARIANT_SEED == 86028157


@pytest.mark.parametrize("key", VARIANT_IDS[::7])
def test_variant_bucket_is_mmh3_with_the_variant_seed(key: str) -> None:
    for total in (1, 7, 100, 1_000_000):
        assert variant_bucket("theme", key, total) == murmur("theme", key, 86028157) % total + 1


def test_split_lands_within_a_percent_of_its_weights() -> None:
    flags = flagkit.Flags.from_dict(
        {
            "theme": {
                "enabled": True,
                "variants": {"a": 1, "b": 2},
                "defaultVariant": "a",
                "split": {"a": 30, "b": 70},
            }
        }
    )
    counts = Counter(flags.evaluate("theme", key).variant for key in SPREAD_IDS)
    assert set(counts) == {"a", "b"}
    assert abs(counts["a"] / N_SPREAD - 0.30) <= 0.01
    assert abs(counts["b"] / N_SPREAD - 0.70) <= 0.01


@pytest.mark.parametrize(
    ("salt", "weights"),
    [
        (None, {"a": 30, "b": 70}),
        ("theme:v2", {"a": 30, "b": 70}),
        ("", {"a": 1, "b": 0, "c": 6}),
        (None, {"c": 500_000, "a": 333_333, "b": 1}),
    ],
)
def test_split_variant_is_the_direct_mmh3_walk(salt: str | None, weights: dict[str, int]) -> None:
    flag: dict[str, Any] = {
        "enabled": True,
        "variants": {"a": "A", "b": "B", "c": "C"},
        "defaultVariant": "a",
        "split": weights,
    }
    if salt is not None:
        flag["salt"] = salt
    flags = flagkit.Flags.from_dict({"theme": flag})
    hashed_salt = "theme" if salt is None else salt
    seen = set()
    for key in VARIANT_IDS:
        evaluation = flags.evaluate("theme", key)
        expected = expected_variant(hashed_salt, key, weights)
        assert evaluation.variant == expected, key
        assert evaluation.value == expected.upper()
        assert evaluation.reason is flagkit.Reason.SPLIT
        seen.add(expected)
    assert seen <= {name for name, weight in weights.items() if weight > 0}
    assert len(seen) >= 2
