"""The `flagkit` command: validate, evaluate, diff, convert and push flag documents.

```
flagkit validate FILE...
flagkit eval FLAG --tenant ID [--tier T] [--attr KEY=VALUE ...] --file FILE [--at T] [--json]
flagkit explain FLAG|--all --file FILE [--tenant ID] [--tier T] [--attr KEY=VALUE ...] [--at T]
                [--json]
flagkit schema [--draft4]
flagkit diff OLD NEW [--tenants FILE [--tenants-format text|jsonl|csv]] [--at T] [--old-at T0]
             [--json] [--all]
flagkit appconfig-definition FILE [--output OUT]
flagkit push FILE --application A --environment E --profile P [--yes] [--wait] [--dry-run] ...
flagkit rollback --application A --environment E --profile P [--yes] [--wait] ...
flagkit pull APPLICATION/ENVIRONMENT/PROFILE --output FILE [--agent [URL]]
flagkit appconfig-local [APP/ENV/PROFILE=FILE ...] [--port 2772] [--poll-interval 1] ...
flagkit serve [--source SOURCE] [--host 127.0.0.1] [--port 8000] [--workers N] ...
```
One module per group of commands: `flagkit.cli.documents` (validate, eval, schema),
`flagkit.cli.explaining` (explain), `flagkit.cli.publishing` (diff, appconfig-definition),
`flagkit.cli.deploying` (push, rollback), `flagkit.cli.appconfig` (pull), `flagkit.cli.local`
(appconfig-local). `serve`
comes from the service package, through the `flagkit.commands` entry point
(`flagkit.command_plugins`): flagkit never imports the service.
Exit status: 0 success; 1 an invalid document, an evaluation error or a failed push;
2 bad usage (and `push`/`rollback` without a terminal to confirm on, nor --yes); 3 (`diff`)
some tenant's answer changes; 4 (`diff`) some flag's change could not be assessed, because
it depends on something no tenant of the tenants file carries (an attribute, tiers, a
tenant it names): docs/impact.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from flagkit.cli.exits import EXIT_CHANGES, EXIT_INVALID, EXIT_OK, EXIT_UNASSESSED, EXIT_USAGE

__all__ = [
    "EXIT_CHANGES",
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_UNASSESSED",
    "EXIT_USAGE",
    "main",
    "run",
]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (the console script exits with it)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.run(args, sys.stdout)
    except BrokenPipeError:  # `flagkit schema | head`
        status = EXIT_OK
    return status


def _parser() -> argparse.ArgumentParser:
    from flagkit.cli import appconfig, deploying, documents, explaining, local, publishing
    from flagkit.command_plugins import add_plugin_commands

    parser = argparse.ArgumentParser(
        prog="flagkit", description="Deterministic multi-tenant feature flags."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    documents.add_commands(commands)
    explaining.add_commands(commands)
    publishing.add_commands(commands)
    deploying.add_commands(commands)
    appconfig.add_commands(commands)
    local.add_commands(commands)
    add_plugin_commands(commands)
    return parser


def run() -> None:
    """The console script's entry point: `main()` with the process's arguments, then exit."""
    sys.exit(main())
