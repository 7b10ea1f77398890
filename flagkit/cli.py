"""The `flagkit` command: validate, evaluate, diff, convert and push flag documents.

```
flagkit validate FILE...
flagkit eval FLAG --tenant ID [--tier T] [--attr KEY=VALUE ...] --file FILE [--json]
flagkit schema [--draft4]
flagkit diff OLD NEW [--tenants FILE] [--json] [--all]
flagkit appconfig-definition FILE [--output OUT]
flagkit push FILE --application A --environment E --profile P [--strategy S] [--dry-run] ...
flagkit serve [--source SOURCE] [--host 127.0.0.1] [--port 8000] [--workers N] ...
```
Exit status: 0 success; 1 an invalid document, an evaluation error or a failed push;
2 bad usage; 3 (`diff`) some tenant's answer changes.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from flagkit import publish
from flagkit.client import Flags
from flagkit.document import CheckedDocument, load_document
from flagkit.errors import (
    ConfigurationError,
    DocumentError,
    FlagkitError,
    PublishError,
    SourceError,
)
from flagkit.model import Evaluation, Tenant
from flagkit.schema import draft4_schema, json_schema
from flagkit.sources.file import FileSource

__all__ = ["main", "run"]

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_CHANGES = 0, 1, 2, 3
IDS_SHOWN = 10
"""How many tenant ids `diff` and `push` show per line unless given --all."""


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
    parser = argparse.ArgumentParser(
        prog="flagkit", description="Deterministic multi-tenant feature flags."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser(
        "validate",
        help="check flag documents against the schema and for semantic errors",
        description="Check each document; print every problem on its own line with its JSON "
        "path. Exit 0 when all are valid, 1 otherwise. Likely typos are warnings.",
    )
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.set_defaults(run=_validate)

    evaluate = commands.add_parser(
        "eval",
        help="evaluate one flag for one tenant",
        description="Print the value, variant, reason and the rule that decided.",
    )
    evaluate.add_argument("flag", metavar="FLAG")
    evaluate.add_argument("--file", required=True, metavar="FILE", help="the flag document")
    evaluate.add_argument("--tenant", metavar="ID", help="the tenant id")
    evaluate.add_argument("--tier", metavar="TIER", help="the tenant's tier")
    evaluate.add_argument(
        "--attr",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a tenant attribute for rules and stickiness; VALUE is read as JSON when it "
        'parses (10, true, ["a"]) and as a string otherwise; repeatable',
    )
    evaluate.add_argument("--json", action="store_true", help="print the evaluation as JSON")
    evaluate.set_defaults(run=_evaluate)

    schema = commands.add_parser("schema", help="print the flag document's JSON Schema")
    schema.add_argument(
        "--draft4",
        action="store_true",
        help="the draft-04 rendition, for AppConfig's JSON Schema validator",
    )
    schema.set_defaults(run=_schema)
    _add_publish_commands(commands)
    _add_serve_command(commands)
    return parser


def _add_publish_commands(commands: Any) -> None:
    diff = commands.add_parser(
        "diff",
        help="which flags changed between two documents, and for exactly which tenants",
        description="List the flags added, removed and changed from OLD to NEW; with --tenants, "
        "evaluate both for every tenant and list who gains or loses each flag (and whose "
        "variant changes). Exit 0 when no tenant's answer changes, 3 when some do (without "
        "--tenants: when any flag differs), 1 when a document or the tenants file is invalid.",
    )
    diff.add_argument("old", metavar="OLD", help="the current flag document")
    diff.add_argument("new", metavar="NEW", help="the proposed flag document")
    _add_tenant_options(diff)
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

    push = commands.add_parser(
        "push",
        help="validate a document, show its impact, store it in AppConfig and deploy it",
        description="Validate FILE, diff it against the version deployed to the environment, "
        "create a hosted configuration version (refused if someone else created one since "
        "this push read the latest) and start a deployment. A feature-flag profile gets the "
        "appconfig-definition form. Names or ids are accepted for everything.",
    )
    push.add_argument("file", metavar="FILE", help="the flag document")
    push.add_argument("--application", required=True, metavar="A", help="name or id")
    push.add_argument("--environment", required=True, metavar="E", help="name or id")
    push.add_argument("--profile", required=True, metavar="P", help="configuration profile")
    push.add_argument(
        "--strategy",
        default="AppConfig.AllAtOnce",
        metavar="S",
        help="deployment strategy name or id (default: %(default)s)",
    )
    push.add_argument("--description", help="for the hosted version and the deployment")
    push.add_argument(
        "--dry-run", action="store_true", help="show the impact; create and deploy nothing"
    )
    push.add_argument("--content-type", default="application/json", help="default: %(default)s")
    push.add_argument("--endpoint-url", metavar="URL", help="another AppConfig endpoint")
    push.add_argument("--region", metavar="R", help="the AWS region (default: boto3's)")
    _add_tenant_options(push)
    push.set_defaults(run=_push)


def _add_serve_command(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="serve flags over HTTP: OFREP, plain JSON, health and metrics",
        description="Run the HTTP service (needs flagkit-engine[service]) with uvicorn. SOURCE "
        "is a flag document's path, appconfig://APPLICATION/ENVIRONMENT/PROFILE or "
        "agent://APPLICATION/ENVIRONMENT/PROFILE. Other settings come from FLAGKIT_* "
        "environment variables (see the README). Without API keys (FLAGKIT_API_KEYS) it "
        "refuses to listen beyond loopback unless given --allow-unauthenticated.",
    )
    serve.add_argument(
        "--source", metavar="SOURCE", help="where flags come from (default: $FLAGKIT_SOURCE)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    serve.add_argument("--port", type=int, default=8000, help="default: %(default)s")
    serve.add_argument(
        "--workers", type=int, default=1, metavar="N", help="worker processes (default: 1)"
    )
    serve.add_argument(
        "--allow-unauthenticated",
        action="store_true",
        help="answer clients beyond loopback even though no API keys are configured",
    )
    serve.add_argument(
        "--access-log",
        action="store_true",
        help="log every request; off by default, since query strings carry tenant attributes",
    )
    serve.set_defaults(run=_serve)


def _add_tenant_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tenants",
        metavar="FILE",
        help="tenants to evaluate: one per line, `ID` or `ID TIER`; '#' starts a comment",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help=f"list every tenant id (default: the first {IDS_SHOWN} per line)",
    )


def _validate(args: argparse.Namespace, out: TextIO) -> int:
    status = EXIT_OK
    for path in args.files:
        try:
            snapshot = FileSource(path).fetch()
            checked = load_document(snapshot.content)
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
        flags = sum(1 for key in checked.document if not key.startswith(("$", "_")))
        print(f"{path}: ok, {flags} flag{'s' if flags != 1 else ''} ({snapshot.version})", file=out)
    return status


def _evaluate(args: argparse.Namespace, out: TextIO) -> int:
    try:
        attributes = dict(_attribute(item) for item in args.attr)
    except ValueError as exc:
        print(f"flagkit eval: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        flags = Flags.from_file(args.file)
    except FlagkitError as exc:
        print(f"{args.file}: error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    evaluation = flags.evaluate(args.flag, Tenant(args.tenant, args.tier, attributes))
    if args.json:
        print(json.dumps(evaluation.as_dict(), ensure_ascii=False), file=out)
    else:
        _print_evaluation(evaluation, args.tenant, out)
    return EXIT_INVALID if evaluation.error_code is not None else EXIT_OK


def _print_evaluation(evaluation: Evaluation, tenant: str | None, out: TextIO) -> None:
    state = "on" if evaluation.enabled else "off"
    who = f"tenant {tenant!r}" if tenant else "no tenant"
    print(f"{evaluation.flag} for {who}: {state}", file=out)
    rows: list[tuple[str, Any]] = [
        ("value", json.dumps(evaluation.value, ensure_ascii=False)),
        ("variant", evaluation.variant),
        ("reason", evaluation.reason.value),
        ("rule", evaluation.rule),
        ("version", evaluation.version),
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


def _quiet_flagkit_logger() -> None:
    """Keep the `Flags` that `diff` and `push` build from logging the warnings printed above.

    Only when nothing was set up to handle flagkit's log (else logging's last-resort
    handler writes each warning to stderr again, once per document built).
    """
    import logging

    logger = logging.getLogger("flagkit")
    if not logger.hasHandlers():
        logger.addHandler(logging.NullHandler())


def _read_tenants(args: argparse.Namespace) -> tuple[Tenant, ...] | None:
    if not args.tenants:
        return ()
    try:
        return publish.read_tenants(args.tenants)
    except PublishError as exc:
        print(f"flagkit {args.command}: error: {exc}", file=sys.stderr)
        return None


def _diff(args: argparse.Namespace, out: TextIO) -> int:
    old = _read_flag_document(args.old)
    new = _read_flag_document(args.new)
    tenants = _read_tenants(args)
    if old is None or new is None or tenants is None:
        return EXIT_INVALID
    for path, checked in ((args.old, old), (args.new, new)):
        for warning in checked.warnings:
            print(f"{path}: warning: {warning}", file=sys.stderr)
    _quiet_flagkit_logger()
    diff = publish.diff_documents(old.document, new.document, tenants)
    if args.json:
        answer = {"old": args.old, "new": args.new, **diff.as_dict()}
        print(json.dumps(answer, ensure_ascii=False), file=out)
    else:
        for line in publish.format_diff(diff, limit=None if args.all else IDS_SHOWN):
            print(line, file=out)
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


def _push(args: argparse.Namespace, out: TextIO) -> int:
    checked = _read_flag_document(args.file)
    tenants = _read_tenants(args)
    if checked is None or tenants is None:
        return EXIT_INVALID
    for warning in checked.warnings:
        print(f"{args.file}: warning: {warning}", file=out)
    _quiet_flagkit_logger()

    def show(result: publish.PushResult) -> None:
        target = result.target
        print(
            f"target: application {target.application_name!r} ({target.application_id}), "
            f"environment {target.environment_name!r} ({target.environment_id}), "
            f"profile {target.profile_name!r} ({target.profile_id}, {target.profile_type})",
            file=out,
        )
        print(f"compared with: {result.compared_with}", file=out)
        if result.diff is None:
            print(f"no diff: {result.diff_problem}", file=out)
        else:
            for line in publish.format_diff(result.diff, limit=None if args.all else IDS_SHOWN):
                print(line, file=out)

    try:
        result = publish.push(
            checked.document,
            application=args.application,
            environment=args.environment,
            profile=args.profile,
            strategy=args.strategy,
            description=args.description,
            tenants=tenants,
            dry_run=args.dry_run,
            content_type=args.content_type,
            endpoint_url=args.endpoint_url,
            region=args.region,
            on_diff=show,
        )
    except DocumentError as exc:
        for problem in exc.problems:
            print(f"{args.file}: error: {problem}", file=sys.stderr)
        return EXIT_INVALID
    except PublishError as exc:
        print(f"flagkit push: error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    target = result.target
    strategy = result.strategy_name
    if result.strategy_id != result.strategy_name:
        strategy += f" ({result.strategy_id})"
    if result.dry_run:
        after = (
            f"after version {result.latest_version}"
            if result.latest_version is not None
            else "(the profile's first)"
        )
        print(
            f"dry run: nothing created; push would create a hosted configuration version {after} "
            f"and deploy it to environment {target.environment_name!r} with {strategy}",
            file=out,
        )
        return EXIT_OK
    print(
        f"created: hosted configuration version {result.version_number} of profile "
        f"{target.profile_name!r}",
        file=out,
    )
    print(
        f"deployed: deployment {result.deployment_number} of version {result.version_number} "
        f"to environment {target.environment_name!r} with {strategy} "
        f"(state {result.deployment_state})",
        file=out,
    )
    return EXIT_OK


def _serve(args: argparse.Namespace, out: TextIO) -> int:
    import ipaddress
    import os

    try:
        import uvicorn

        from service.server import http_protocol
        from service.settings import Settings
        from service.source import source_kind
    except ImportError as exc:
        print(
            f"flagkit serve: error: {exc.name} is not installed; "
            "install the service extra: pip install 'flagkit-engine[service]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.source:
        os.environ["FLAGKIT_SOURCE"] = args.source
    if args.allow_unauthenticated:
        os.environ["FLAGKIT_ALLOW_UNAUTHENTICATED"] = "1"
    try:
        settings = Settings.from_env()
        if settings.source is None:
            raise ConfigurationError(
                "no source: give --source or set FLAGKIT_SOURCE (a file path, "
                "appconfig://APPLICATION/ENVIRONMENT/PROFILE or agent://APPLICATION/ENVIRONMENT/PROFILE)"
            )
        source_kind(settings.source)
    except ConfigurationError as exc:
        print(f"flagkit serve: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        loopback = ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        loopback = args.host == "localhost"
    if not (loopback or settings.api_keys or settings.allow_unauthenticated):
        print(
            f"flagkit serve: error: refusing to listen on {args.host} without API keys; set "
            "FLAGKIT_API_KEYS (or FLAGKIT_API_KEYS_FILE), or pass --allow-unauthenticated",
            file=sys.stderr,
        )
        return EXIT_USAGE
    uvicorn.run(
        "service.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        http=http_protocol(),
        access_log=args.access_log,
    )
    return EXIT_OK


def run() -> None:
    """The console script's entry point: `main()` with the process's arguments, then exit."""
    sys.exit(main())


if __name__ == "__main__":
    run()
