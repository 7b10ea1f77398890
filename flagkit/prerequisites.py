"""The graph of `requires`: cycles, the depth of prerequisite chains, an order to build in.

Every walk here keeps its own stack instead of recursing, so that no document, however
long its chains, can raise `RecursionError` while it is checked or compiled. Chains are
capped at `MAX_PREREQUISITE_DEPTH` links, which also bounds the recursion of evaluation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from flagkit.errors import Problem
from flagkit.schema import format_path

__all__ = ["MAX_PREREQUISITE_DEPTH", "prerequisite_problems", "prerequisites_first"]

MAX_PREREQUISITE_DEPTH = 32
"""The most `requires` links a chain may have: `a` requires `b` requires `c` is 2."""

Requires = Mapping[str, Sequence[str]]
"""Flag key → the keys of the flags it requires (each a key of the same mapping)."""

_ON_PATH, _DONE = 1, 2


@dataclass(frozen=True, slots=True)
class _Walk:
    """What one depth-first walk of the graph found."""

    cycles: tuple[tuple[str, ...], ...]
    depths: Mapping[str, int]
    finished: tuple[str, ...]


def prerequisite_problems(requires: Requires) -> Iterator[Problem]:
    """One problem per cycle; when there is none, one per chain longer than the limit.

    A too-long chain is reported at the flag it starts from (one that no other flag of a
    too-long chain requires), so a chain of 1,000 flags is one problem, not 968.
    """
    walk = _walk(requires)
    for cycle in walk.cycles:
        yield Problem(
            format_path([cycle[0], "requires"]), f"cycle of prerequisites: {_chain(cycle)}"
        )
    if walk.cycles:
        return  # Depths mean nothing on a cycle.
    too_deep = [key for key in walk.finished if walk.depths[key] > MAX_PREREQUISITE_DEPTH]
    required_by_too_deep = {required for key in too_deep for required in requires[key]}
    for key in too_deep:
        if key not in required_by_too_deep:
            chain = _deepest_chain(key, requires, walk.depths)
            yield Problem(
                format_path([key, "requires"]),
                f"a chain of {len(chain) - 1} prerequisites ({_chain(chain)}); "
                f"at most {MAX_PREREQUISITE_DEPTH} are allowed",
            )


def prerequisites_first(requires: Requires) -> list[str]:
    """Every key, each after the keys it requires (for a graph without cycles)."""
    return list(_walk(requires).finished)


def _walk(requires: Requires) -> _Walk:
    """Depth-first over every key, with an explicit stack: cycles, depths and finish order."""
    state: dict[str, int] = {}
    depths: dict[str, int] = {}
    finished: list[str] = []
    cycles: list[tuple[str, ...]] = []
    reported: set[frozenset[str]] = set()
    for root in requires:
        if root in state:
            continue
        state[root] = _ON_PATH
        path, pending = [root], [iter(requires[root])]
        while pending:
            for required in pending[-1]:
                mark = state.get(required)
                if mark == _ON_PATH:
                    cycle = (*path[path.index(required) :], required)
                    if frozenset(cycle) not in reported:
                        reported.add(frozenset(cycle))
                        cycles.append(cycle)
                elif mark is None:
                    state[required] = _ON_PATH
                    path.append(required)
                    pending.append(iter(requires[required]))
                    break
            else:  # Every prerequisite of path[-1] is done: so is it.
                pending.pop()
                key = path.pop()
                state[key] = _DONE
                depths[key] = max((depths.get(r, 0) + 1 for r in requires[key]), default=0)
                finished.append(key)
    return _Walk(tuple(cycles), depths, tuple(finished))


def _chain(keys: Sequence[str]) -> str:
    """`a -> b -> c`; a long chain shows its first three and last two keys."""
    shown = keys if len(keys) <= 6 else [*keys[:3], "...", *keys[-2:]]
    return " -> ".join(shown)


def _deepest_chain(key: str, requires: Requires, depths: Mapping[str, int]) -> list[str]:
    chain = [key]
    while requires[chain[-1]]:
        chain.append(max(requires[chain[-1]], key=lambda required: depths[required]))
    return chain
