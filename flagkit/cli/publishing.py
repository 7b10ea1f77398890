"""`flagkit diff` and `flagkit appconfig-definition`: documents on their way to AppConfig
(`flagkit push` is in `flagkit.cli.deploying`)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO, get_args

from flagkit import publish
from flagkit.cli.exits import EXIT_CHANGES, EXIT_INVALID, EXIT_OK, EXIT_UNASSESSED, EXIT_USAGE
from flagkit.cli.instants import add_instant_option, instant_option
from flagkit.command_plugins import Subcommands
from flagkit.document import CheckedDocument
from flagkit.errors import DocumentError, PublishError, SourceError
from flagkit.model import Tenant
from flagkit.sources.file import FileSource

__all__ = ["IDS_SHOWN", "add_commands"]

IDS_SHOWN = 10
"""How many tenant ids `diff` and `push` show per line unless given --all."""


def add_commands(commands: Subcommands) -> None:
    """Add `diff` and `appconfig-definition` to the `flagkit` command."""
    diff = commands.add_parser(
        "diff",
        help="which flags changed between two documents, and for exactly which tenants",
        description="List the flags added, removed and changed from OLD to NEW; with --tenants, "
        "evaluate both for every tenant and list who gains or loses each flag (and whose "
        "variant changes), and which flags could not be assessed because their change depends "
        "on something no tenant in the file carries (an attribute, tiers, a tenant it names). "
        "Exit 0 when no tenant's answer changes, 3 when some do (without --tenants: when any "
        "flag differs), 4 when some flag could not be assessed (whatever else changes), 1 "
        "when a document or the tenants file is invalid. See docs/impact.md. With --at "
        "and --old-at, OLD and NEW are evaluated as of two instants, and unchanged flags "
        "whose launch window or conditions on `now` change answers in between are listed "
        "too (docs/previews.md).",
    )
    diff.add_argument("old", metavar="OLD", help="the current flag document")
    diff.add_argument("new", metavar="NEW", help="the proposed flag document")
    _add_tenant_options(diff)
    add_instant_option(
        diff,
        help="evaluate NEW (and OLD, unless --old-at) as of this instant, an RFC 3339 "
        "timestamp with an offset (2026-12-24T09:00:00Z); default: now",
    )
    add_instant_option(
        diff,
        "--old-at",
        help="evaluate OLD as of this instant (default: the instant NEW is evaluated as of)",
    )
    diff.add_argument("--json", action="store_true", help="print the diff as one JSON object")
    diff.set_defaults(run=_diff)

    definition = commands.add_parser(
        "appconfig-definition",
        help="the AWS.AppConfig.FeatureFlags form of a document, for a feature-flag profile",
        description="Print (or write) the JSON a hosted configuration version of an "
        "AWS.AppConfig.FeatureFlags profile holds, with typed attribute constraints. "
        "Documents using _segments, rules or variants are refused: they belong in a "
        "freeform profile.",
    )
    definition.add_argument("file", metavar="FILE", help="the flag document")
    definition.add_argument("--output", metavar="OUT", help="write to OUT instead of stdout")
    definition.set_defaults(run=_definition)


def _add_tenant_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tenants",
        metavar="FILE",
        help="tenants to evaluate: `ID` or `ID TIER` per line ('#' starts a comment); a "
        '.jsonl file of objects such as {"id": "acme", "tier": "gold", "plan": "pro"}; or a '
        ".csv file with a header such as id,tier,plan (docs/impact.md)",
    )
    parser.add_argument(
        "--tenants-format",
        choices=get_args(publish.TenantsFormat),
        help="how the tenants file is written (default: by its extension: .jsonl and "
        ".ndjson are jsonl, .csv is csv, anything else text)",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help=f"list every tenant id (default: the first {IDS_SHOWN} per line)",
    )


def _read_flag_document(path: str) -> CheckedDocument | None:
    """The checked document in `path` (or a feature-flag definition read back into one);
    None after printing every problem to stderr."""
    try:
        return publish.load_flag_document(FileSource(path).fetch().content)
    except DocumentError as exc:
        for problem in exc.problems:
            print(f"{path}: error: {problem}", file=sys.stderr)
    except SourceError as exc:
        print(f"{path}: error: {exc}", file=sys.stderr)
    return None


def _read_tenants(args: argparse.Namespace) -> tuple[Tenant, ...] | None:
    if not args.tenants:
        return ()
    try:
        return publish.read_tenants(args.tenants, args.tenants_format)
    except PublishError as exc:
        print(f"flagkit {args.command}: error: {exc}", file=sys.stderr)
        return None


def _diff(args: argparse.Namespace, out: TextIO) -> int:
    try:
        at, old_at = instant_option("--at", args.at), instant_option("--old-at", args.old_at)
    except ValueError as exc:
        print(f"flagkit diff: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    old = _read_flag_document(args.old)
    new = _read_flag_document(args.new)
    tenants = _read_tenants(args)
    if old is None or new is None or tenants is None:
        return EXIT_INVALID
    for path, checked in ((args.old, old), (args.new, new)):
        for warning in checked.warnings:
            print(f"{path}: warning: {warning}", file=sys.stderr)
    diff = publish.diff_documents(old.document, new.document, tenants, at=at, old_at=old_at)
    if args.json:
        answer = {"old": args.old, "new": args.new, **diff.as_dict()}
        print(json.dumps(answer, ensure_ascii=False), file=out)
    else:
        for line in publish.format_diff(diff, limit=None if args.all else IDS_SHOWN):
            print(line, file=out)
    if diff.unassessed:
        return EXIT_UNASSESSED
    return EXIT_CHANGES if diff.changes_answers else EXIT_OK


def _definition(args: argparse.Namespace, out: TextIO) -> int:
    checked = _read_flag_document(args.file)
    if checked is None:
        return EXIT_INVALID
    try:
        definition = publish.appconfig_definition(checked.document)
    except DocumentError as exc:
        for problem in exc.problems:
            print(f"{args.file}: error: {problem}", file=sys.stderr)
        return EXIT_INVALID
    text = json.dumps(definition, indent=2, ensure_ascii=False) + "\n"
    if not args.output:
        out.write(text)
        return EXIT_OK
    try:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        print(f"{args.output}: error: cannot write: {exc.strerror}", file=sys.stderr)
        return EXIT_INVALID
    flags = len(definition["flags"])
    print(f"{args.file}: wrote {args.output} ({flags} flag{'s' if flags != 1 else ''})", file=out)
    return EXIT_OK
