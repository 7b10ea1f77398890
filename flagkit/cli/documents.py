"""`flagkit validate`, `flagkit eval` and `flagkit schema`: one document at a time.

A file may hold a flag document (AppConfig's retrieval format) or the AppConfig
console's stored form of a feature-flag profile (`{"version": "1", "flags": {...},
"values": {...}}`): both are read by `load_flag_document`, as `diff` and `push` read
them, and as the AppConfig validator (`flagkit.appconfig_validator`) checks them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, TextIO

from flagkit.cli.exits import EXIT_INVALID, EXIT_OK, EXIT_USAGE
from flagkit.cli.instants import add_instant_option, instant_option
from flagkit.command_plugins import Subcommands
from flagkit.compiler import compile_document
from flagkit.errors import DocumentError, FlagkitError, SourceError
from flagkit.evaluation import evaluate
from flagkit.fields import flag_items
from flagkit.flagset import FlagSet
from flagkit.model import Evaluation, Tenant
from flagkit.publish.appconfig_format import load_flag_document
from flagkit.schema import draft4_schema, json_schema
from flagkit.sources.file import FileSource
from flagkit.timestamps import format_timestamp

__all__ = [
    "add_commands",
    "add_document_and_tenant_options",
    "compile_file",
    "document_and_tenant",
    "print_evaluation",
]


def add_commands(commands: Subcommands) -> None:
    """Add `validate`, `eval` and `schema` to the `flagkit` command."""
    validate = commands.add_parser(
        "validate",
        help="check flag documents against the schema and for semantic errors",
        description="Check each document; print every problem on its own line with its JSON "
        "path. Exit 0 when all are valid, 1 otherwise. Likely typos are warnings. A file may "
        "hold AppConfig's retrieval format or the console's stored feature-flag format.",
    )
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.set_defaults(run=_validate)

    evaluate = commands.add_parser(
        "eval",
        help="evaluate one flag for one tenant",
        description="Print the value, variant, reason and the rule that decided, as of now "
        "or of the instant --at names (launch windows and conditions on `now` read it).",
    )
    evaluate.add_argument("flag", metavar="FLAG")
    add_document_and_tenant_options(evaluate)
    evaluate.add_argument("--json", action="store_true", help="print the evaluation as JSON")
    evaluate.set_defaults(run=_evaluate)

    schema = commands.add_parser("schema", help="print the flag document's JSON Schema")
    schema.add_argument(
        "--draft4",
        action="store_true",
        help="the draft-04 rendition, for AppConfig's JSON Schema validator",
    )
    schema.set_defaults(run=_schema)


def add_document_and_tenant_options(parser: argparse.ArgumentParser) -> None:
    """`--file`, `--tenant`, `--tier`, `--attr` and `--at`: what `eval` and `explain` read
    (`document_and_tenant`)."""
    parser.add_argument("--file", required=True, metavar="FILE", help="the flag document")
    parser.add_argument("--tenant", metavar="ID", help="the tenant id")
    parser.add_argument("--tier", metavar="TIER", help="the tenant's tier")
    parser.add_argument(
        "--attr",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a tenant attribute for rules and stickiness; VALUE is read as JSON when it "
        'parses (10, true, ["a"]) and as a string otherwise; repeatable',
    )
    add_instant_option(parser)


def document_and_tenant(
    args: argparse.Namespace, command: str
) -> tuple[FlagSet, Tenant, float | None] | int:
    """The document `--file` names compiled as of `--at`, the tenant `--tenant`, `--tier` and
    `--attr` describe, and `--at` (None: now).

    Or, once what is wrong is printed on stderr, the exit status: `EXIT_USAGE` for an
    option that does not parse (`flagkit COMMAND: error: ...`), `EXIT_INVALID` for a
    document that cannot be read or is not valid.
    """
    try:
        attributes = dict(_attribute(item) for item in args.attr)
        at = instant_option("--at", args.at)
    except ValueError as exc:
        print(f"flagkit {command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        flagset = compile_file(args.file, at)
    except FlagkitError as exc:
        print(f"{args.file}: error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    return flagset, Tenant(args.tenant, args.tier, attributes), at


def compile_file(path: str, at: float | None) -> FlagSet:
    """The document in `path`, compiled with a clock that reads `at` (None: the time now).

    Compiled here rather than served by a `Flags`, which would log the document's
    warnings: `validate` is the command that reports them. Raises `FlagkitError`.
    """
    snapshot = FileSource(path).fetch()
    checked = load_flag_document(snapshot.content)
    clock = time.time if at is None else lambda: at
    return compile_document(checked, version=snapshot.version, clock=clock)


def _validate(args: argparse.Namespace, out: TextIO) -> int:
    status = EXIT_OK
    for path in args.files:
        try:
            snapshot = FileSource(path).fetch()
            checked = load_flag_document(snapshot.content)
        except DocumentError as exc:
            status = EXIT_INVALID
            for problem in exc.problems:
                print(f"{path}: error: {problem}", file=out)
            continue
        except SourceError as exc:
            status = EXIT_INVALID
            print(f"{path}: error: {exc}", file=out)
            continue
        for warning in checked.warnings:
            print(f"{path}: warning: {warning}", file=out)
        flags = sum(1 for _ in flag_items(checked.document))
        print(f"{path}: ok, {flags} flag{'s' if flags != 1 else ''} ({snapshot.version})", file=out)
    return status


def _evaluate(args: argparse.Namespace, out: TextIO) -> int:
    read = document_and_tenant(args, "eval")
    if isinstance(read, int):
        return read
    flagset, tenant, at = read
    evaluation = evaluate(flagset, args.flag, tenant)
    if args.json:
        print(json.dumps(evaluation.as_dict(), ensure_ascii=False), file=out)
    else:
        print_evaluation(evaluation, args.tenant, at, out)
    return EXIT_INVALID if evaluation.error_code is not None else EXIT_OK


def print_evaluation(
    evaluation: Evaluation, tenant: str | None, at: float | None, out: TextIO
) -> None:
    """`FLAG for tenant 'ID': on`, then the evaluation's value, variant, reason, rule, ..."""
    state = "on" if evaluation.enabled else "off"
    who = f"tenant {tenant!r}" if tenant else "no tenant"
    print(f"{evaluation.flag} for {who}: {state}", file=out)
    rows: list[tuple[str, Any]] = [
        ("value", json.dumps(evaluation.value, ensure_ascii=False)),
        ("variant", evaluation.variant),
        ("reason", evaluation.reason.value),
        ("rule", evaluation.rule),
        ("version", evaluation.version),
        ("at", None if at is None else format_timestamp(at)),
    ]
    if evaluation.error_code is not None:
        rows.append(("error", f"{evaluation.error_code.value}: {evaluation.error_message}"))
    if evaluation.attributes:
        rows.append(("attributes", json.dumps(dict(evaluation.attributes), ensure_ascii=False)))
    for name, value in rows:
        if value is not None:
            print(f"  {name + ':':11} {value}", file=out)


def _attribute(item: str) -> tuple[str, Any]:
    key, separator, text = item.partition("=")
    if not separator or not key:
        raise ValueError(f"--attr takes KEY=VALUE, got {item!r}")
    try:
        return key, json.loads(text)
    except ValueError:
        return key, text


def _schema(args: argparse.Namespace, out: TextIO) -> int:
    schema = draft4_schema() if args.draft4 else json_schema()
    print(json.dumps(schema, indent=2, ensure_ascii=False), file=out)
    return EXIT_OK
