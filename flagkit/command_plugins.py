"""Commands other packages add to `flagkit`, through the `flagkit.commands` entry-point group.

flagkit's own commands never import those packages: `flagkit serve`, for one, comes
from the service package, which declares in its distribution's metadata

```toml
[project.entry-points."flagkit.commands"]
serve = "service.command:add_serve_command"
```

The protocol, for an entry point named NAME:

- it names an `AddCommand`: a callable taking argparse's subparsers action (what
  `ArgumentParser.add_subparsers()` returns), which adds one subcommand, NAME, with
  `add_parser(NAME, help=..., description=...)`, its arguments, and
  `set_defaults(run=RUNNER)`;
- `RUNNER(args, out)` (a `CommandRunner`) is called with the parsed arguments and the
  stream to print results to, and returns the exit status: 0 success, 1 a failure
  about the input, 2 bad usage; errors go to stderr, prefixed with `flagkit NAME: error:`;
- loading the entry point must not need anything `flagkit` itself does not: `flagkit`
  loads every command's module to build its parser, for every command it runs, so a
  command imports its own optional dependencies when it runs and, when they are
  missing, says which extra to install (exit 2).

A command that cannot be loaded is left out with a warning on stderr; the others work.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Protocol, TextIO, TypeAlias

__all__ = ["ENTRY_POINT_GROUP", "AddCommand", "CommandRunner", "Subcommands", "add_plugin_commands"]

ENTRY_POINT_GROUP = "flagkit.commands"
"""The entry-point group `flagkit` reads its added commands from."""

Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What `ArgumentParser.add_subparsers()` returns: where a command adds its parser."""


class CommandRunner(Protocol):
    """What a command sets as `run`: prints to `out`, returns the exit status."""

    def __call__(self, args: argparse.Namespace, out: TextIO, /) -> int: ...


AddCommand: TypeAlias = Callable[[Subcommands], None]
"""What a `flagkit.commands` entry point names: adds its command to the subparsers."""


def add_plugin_commands(commands: Subcommands) -> None:
    """Add every installed `flagkit.commands` entry point's command, in name order."""
    for entry_point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
        try:
            add_command: AddCommand = entry_point.load()
            add_command(commands)
        except Exception as exc:  # A broken plugin must not take the other commands down.
            print(
                f"flagkit: warning: command {entry_point.name!r} ({entry_point.value}) "
                f"cannot be loaded: {type(exc).__name__}: {exc}",
                file=sys.stderr,
            )
