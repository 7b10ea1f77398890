"""Which field a mistyped key probably meant: one edit, or only letter case, away from it."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["likely_meant", "one_edit_apart"]


def likely_meant(word: str, candidates: Iterable[str]) -> str | None:
    """The first of `candidates` that `word` is one edit (or only letter case) away from."""
    lowered = word.lower()
    for candidate in candidates:
        if abs(len(candidate) - len(word)) > 1:
            continue
        if lowered == candidate.lower() or one_edit_apart(word, candidate):
            return candidate
    return None


def one_edit_apart(a: str, b: str) -> bool:
    """True when one insertion, deletion, substitution or swap of neighbours turns a into b."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]]
            and a[diffs[1]] == b[diffs[0]]
        )
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))
