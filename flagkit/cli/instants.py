"""`--at` and `--old-at`: the instant a command evaluates documents as of (docs/previews.md)."""

from __future__ import annotations

import argparse

from flagkit.timestamps import parse_timestamp

__all__ = ["add_instant_option", "instant_option"]

_AT_HELP = (
    "evaluate as of this instant, an RFC 3339 timestamp with an offset "
    "(2026-12-24T09:00:00Z, 2026-12-24T10:00:00+01:00); default: now"
)


def add_instant_option(
    parser: argparse.ArgumentParser, option: str = "--at", help: str = _AT_HELP
) -> None:
    """Add `option` (a timestamp, kept as text and read by `instant_option`) to `parser`."""
    parser.add_argument(option, metavar="TIMESTAMP", help=help)


def instant_option(option: str, text: str | None) -> float | None:
    """Seconds since the epoch of an `--at`-like option's value, None when it was not given.

    Raises ValueError naming the option and what is wrong with its value, e.g.
    `--at: "2026-12-24 09:00" is not an RFC 3339 timestamp with an offset (e.g. ...)`.
    """
    if text is None:
        return None
    try:
        return parse_timestamp(text)
    except ValueError as exc:
        raise ValueError(f"{option}: {exc}") from None
