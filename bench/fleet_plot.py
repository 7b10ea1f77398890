"""The plot of bench/fleet.py: processes serving the new version, and requests/s at the endpoint.

One column per API; matplotlib (the `bench` extra) draws it without a display (Agg).
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fleet import ApiResult


def draw(results: list[ApiResult], path: Path) -> None:
    """Write the PNG to `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(
        2, len(results), figsize=(6.5 * len(results), 7.5), squeeze=False, layout="constrained"
    )
    for column, result in enumerate(results):
        serving, rate = axes[0][column], axes[1][column]
        times = result.converged
        serving.step(
            [0.0, *times, result.interval + 2.0],
            [0, *range(1, len(times) + 1), len(times)],
            where="post",
            label="processes serving it",
        )
        serving.axvline(result.interval + 1, color="tab:red", linestyle="--", label="goal")
        serving.set_xlim(0, result.interval + 2)
        serving.set_ylim(0, result.processes + 2)
        serving.set_title(f"{result.label}\nprocesses serving the new version")
        serving.set_xlabel("seconds since the deployment")
        serving.legend(loc="lower right")

        per_second = Counter(math.floor(t) for t in result.requests)
        seconds = range(min(per_second), max(per_second) + 1)
        rate.bar(list(seconds), [per_second[s] for s in seconds], width=1.0, align="edge")
        rate.axhline(
            result.expected_rate, color="tab:green", linestyle="--", label="processes / interval"
        )
        retrying = sorted(result.retries_per_second.items())
        rate.step(
            [result.down + s for s, _ in retrying],
            [n for _, n in retrying],
            where="post",
            color="tab:purple",
            label="processes retrying",
        )
        rate.axhline(
            result.processes / 5, color="tab:red", linestyle=":", label="a fifth of the fleet"
        )
        rate.axvspan(result.down, result.up, color="tab:orange", alpha=0.2, label="endpoint 500s")
        rate.axvline(0, color="black", linewidth=0.8, label="deployment")
        rate.set_title("requests per second at the endpoint")
        rate.set_xlabel("seconds since the deployment")
        rate.legend(loc="upper right", fontsize="small")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)
