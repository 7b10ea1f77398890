"""Sticky percentage bucketing: the public, frozen formula, and the tables that read it fast.

```
h    = MurmurHash3_x86_32(utf8(f"{salt}:{key}"), seed=0)   # unsigned 32-bit
rank = (h % 100) * 100 + (h // 100) % 100                   # 0 ... 9999
on   = rank < round(percentage * 100)
```

At whole percentages this is Unleash's normalized hash (`h % 100 + 1 <= percentage`
with group id = salt); the second digit pair gives steps of 0.01 %. Weighted
variant splits use Unleash's variant formula with seed 86028157. Changing the
formula changes who sees what: it is a breaking change.

Besides the formula (`bucket_rank`, `in_rollout`, `variant_bucket`,
`rollout_threshold`), this module holds what the evaluator reads instead of computing
it per call: `RANK_OF_RESIDUE` (the rank of each `h % 10000`) and, per threshold, a
10,000-byte in-or-out table shared by every flag that uses it (`rollout_lookup`,
`outside_table`). A test holds every table to the formula at every residue.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from itertools import chain

from mmh3 import hash as _murmur3_32

__all__ = [
    "MAX_SHARED_TABLES",
    "RANK_OF_RESIDUE",
    "VARIANT_SEED",
    "bucket_rank",
    "in_rollout",
    "outside_table",
    "rollout_lookup",
    "rollout_threshold",
    "variant_bucket",
]

VARIANT_SEED = 86028157
"""The seed Unleash uses for variant assignment; weighted splits use it too."""


RANK_OF_RESIDUE: tuple[int, ...] = tuple(
    # Residue 100 * hi + lo has rank 100 * lo + hi: for each hi, the ranks hi, hi + 100, ...
    chain.from_iterable(range(hi, 10_000, 100) for hi in range(100))
)
"""`RANK_OF_RESIDUE[h % 10000]` equals the formula's rank of `h`.

The rank reads only the two lowest base-100 digits of `h`, i.e. `h % 10000`, so
the evaluator looks it up with one big-integer operation instead of four; a test
checks the table against the formula for every residue.
"""


def rollout_threshold(percentage: float) -> int:
    """The rank below which a tenant is in a rollout of `percentage` (0-100) %: 0 ... 10000."""
    return round(percentage * 100)


MAX_SHARED_TABLES = 256
"""How many thresholds in use get an in-or-out table (10 KB each); others compare ranks."""

_tables: weakref.WeakValueDictionary[int, memoryview] = weakref.WeakValueDictionary()


def rollout_lookup(threshold: int) -> tuple[Sequence[int], int]:
    """`(table, limit)` such that `table[h % 10000] < limit` exactly when rank(h) < `threshold`.

    The same answer as `RANK_OF_RESIDUE[h % 10000] < threshold`, but for up to
    `MAX_SHARED_TABLES` thresholds in use at once, read from 10 KB of bytes shared by
    every flag with that threshold: 0 for a residue inside the rollout, 1 outside, and a
    limit of 1. Bytes stay in the CPU's cache, where the 10,000 int objects of
    `RANK_OF_RESIDUE` do not. A table lives as long as a compiled flag uses it, so
    memory stays under 2.5 MB however many flags, documents and rollout steps a process
    goes through; past the cap, the answer is the rank table itself and the threshold.
    """
    if not 0 <= threshold <= 10_000:
        raise ValueError(f"a rollout threshold is 0 ... 10000, got {threshold}")
    table = _tables.get(threshold)
    if table is None:
        if len(_tables) >= MAX_SHARED_TABLES:
            return RANK_OF_RESIDUE, threshold
        # A memoryview: read-only like bytes, and unlike bytes it can be weakly referenced.
        table = _tables.setdefault(threshold, memoryview(outside_table(threshold)))
    return table, 1


def outside_table(threshold: int) -> bytes:
    """Byte `r` is 0 when residue `r`'s rank is below `threshold` (inside), else 1.

    Residue `100 * hi + lo` has rank `100 * lo + hi`, which is below
    `threshold = 100 * a + b` when `lo < a`, or `lo == a` and `hi < b`: so the table is
    `b` rows whose first `a + 1` bytes are 0, then `100 - b` rows whose first `a` are,
    each row 100 long.
    """
    whole, part = divmod(threshold, 100)
    with_part = b"\x00" * (whole + 1) + b"\x01" * (99 - whole)
    without = b"\x00" * whole + b"\x01" * (100 - whole)
    return with_part * part + without * (100 - part)


def bucket_rank(salt: str, key: str) -> int:
    """A tenant's stable place, 0 ... 9999, in every percentage rollout that uses `salt`.

    Raises `UnicodeEncodeError` (a `ValueError`) for text UTF-8 cannot encode.
    """
    h: int = _murmur3_32(f"{salt}:{key}".encode(), 0, False)
    return (h % 100) * 100 + (h // 100) % 100


def in_rollout(salt: str, key: str, percentage: float) -> bool:
    """Whether `key` is among the `percentage` % of keys that a rollout salted with `salt` takes."""
    return bucket_rank(salt, key) < rollout_threshold(percentage)


def variant_bucket(salt: str, key: str, total_weight: int) -> int:
    """Where `key` falls, 1 ... total_weight, on the cumulative weights of a variant split."""
    h: int = _murmur3_32(f"{salt}:{key}".encode(), VARIANT_SEED, False)
    return h % total_weight + 1
