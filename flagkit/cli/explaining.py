"""`flagkit explain`: why a tenant gets the answer it gets, step by step (docs/explain.md).

```
flagkit explain FLAG --file FILE [--tenant ID] [--tier T] [--attr K=V ...] [--at T] [--json]
flagkit explain --all --file FILE [--tenant ID] [--tier T] [--attr K=V ...] [--at T] [--json]
```
The options are `flagkit eval`'s (`flagkit.cli.documents`); the walk is
`flagkit.explain.explain`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from flagkit.cli.documents import (
    add_document_and_tenant_options,
    document_and_tenant,
    print_evaluation,
)
from flagkit.cli.exits import EXIT_INVALID, EXIT_OK, EXIT_USAGE
from flagkit.command_plugins import Subcommands
from flagkit.explain import explain
from flagkit.explanation import NOT_REACHED, Explanation, Step

__all__ = ["add_commands"]


def add_commands(commands: Subcommands) -> None:
    """Add `explain` to the `flagkit` command."""
    parser = commands.add_parser(
        "explain",
        help="show why a tenant gets a flag's answer, step by step",
        description="Walk one flag's evaluation order for one tenant: the kill switch, the "
        "launch window, prerequisites, excludedTenants, each rule and its conditions, "
        "tenants and segments, tiers, the percentage (the tenant's bucket and the threshold) "
        "and the default; what each step did and why. With --all, one line per flag: its "
        "answer and the step that decided it.",
    )
    parser.add_argument("flag", nargs="?", metavar="FLAG")
    parser.add_argument("--all", action="store_true", help="every flag, one line each")
    add_document_and_tenant_options(parser)
    parser.add_argument("--json", action="store_true", help="print the explanation as JSON")
    parser.set_defaults(run=_explain)


def _explain(args: argparse.Namespace, out: TextIO) -> int:
    if args.flag is not None and args.all:
        return _usage("give a FLAG or --all, not both")
    if args.flag is None and not args.all:
        return _usage("give a FLAG, or --all for every flag")
    read = document_and_tenant(args, "explain")
    if isinstance(read, int):
        return read
    flagset, tenant, at = read
    if args.all:
        explained = [explain(flagset, key, tenant) for key in flagset.flags]
        if args.json:
            print(json.dumps([e.as_dict() for e in explained], ensure_ascii=False), file=out)
        else:
            out.writelines(_one_line(explanation) + "\n" for explanation in explained)
        return EXIT_OK
    if args.flag not in flagset.flags:
        print(f"{args.file}: error: no flag {args.flag!r}", file=sys.stderr)
        return EXIT_INVALID
    explanation = explain(flagset, args.flag, tenant)
    if args.json:
        print(json.dumps(explanation.as_dict(), ensure_ascii=False), file=out)
    else:
        print_evaluation(explanation.evaluation, args.tenant, at, out)
        print("steps:", file=out)
        for number, step in enumerate(explanation.steps, 1):
            _print_step(number, step, out)
    return EXIT_OK


def _usage(message: str) -> int:
    print(f"flagkit explain: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _one_line(explanation: Explanation) -> str:
    """`featureA: off, by percentage: bucket 4950 of 'globex' is not below ...`"""
    step = explanation.deciding_step
    assert step is not None  # Every flag of the document has a deciding step.
    answer = step.outcome.removeprefix("decided: ")
    return f"{explanation.evaluation.flag}: {answer}, by {step.name}: {step.sentence}"


def _print_step(number: int, step: Step, out: TextIO) -> None:
    if step.outcome == NOT_REACHED:
        print(f"  {number}. {step.name}: {NOT_REACHED}", file=out)
        return
    print(f"  {number}. {step.name}: {step.outcome} ({step.sentence})", file=out)
    for check in step.conditions:
        print(f"       - {check.describe()}", file=out)
    for answer in step.prerequisites:
        evaluation = answer.evaluation
        if evaluation.error_code is not None:
            state = f"error {evaluation.error_code.value}"
        else:
            state = f"{'on' if evaluation.enabled else 'off'} (rule {evaluation.rule})"
        print(f"       - {answer.flag}: {state}", file=out)
