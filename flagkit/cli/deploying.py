"""`flagkit push` and `flagkit rollback`: changing what an AppConfig environment serves, with care.

Both show what changes, ask before changing anything when a person is at the terminal
(`--yes` for scripts; without a terminal and without `--yes` they refuse, exit 2), and
can `--wait` for the deployment to end. A push whose impact the tenants file could not
assess says so in its question, and under `--yes` deploys only with
`--accept-unassessed`. Exit status: 0 done (or nothing to do); 1 an invalid document,
an AppConfig error, a cancelled confirmation, a deployment rolled back or still running
when `--timeout` ran out; 2 no way to confirm (and bad usage); 4 (`push --yes`) a change
that could not be assessed, without `--accept-unassessed`.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, TextIO

from flagkit import publish
from flagkit.cli.exits import EXIT_INVALID, EXIT_OK, EXIT_UNASSESSED, EXIT_USAGE
from flagkit.cli.publishing import (
    IDS_SHOWN,
    _add_tenant_options,
    _read_flag_document,
    _read_tenants,
)
from flagkit.command_plugins import Subcommands
from flagkit.errors import DocumentError, PublishError
from flagkit.publish.appconfig_control import DEFAULT_STRATEGY, AppConfigTarget, appconfig_client
from flagkit.publish.appconfig_deploy import DeploymentProgress, follow_deployment

if TYPE_CHECKING:
    from mypy_boto3_appconfig import AppConfigClient

__all__ = ["DEFAULT_TIMEOUT", "add_commands"]

DEFAULT_TIMEOUT = 3600.0
"""Seconds `--wait` follows a deployment unless given `--timeout`."""

_DOCS = "docs/deploying.md"


class _NoTerminal(Exception):
    """A confirmation was needed and stdin is not a terminal (and no --yes)."""


class _Unassessed(Exception):
    """`push --yes` of a change the tenants file could not assess, without
    `--accept-unassessed`: nobody would have seen its whole blast radius."""


def add_commands(commands: Subcommands) -> None:
    """Add `push` and `rollback` to the `flagkit` command."""
    push = commands.add_parser(
        "push",
        help="validate a document, show its impact, store it in AppConfig and deploy it",
        description="Validate FILE, diff it against the version deployed to the environment, "
        "and (after a confirmation) create a hosted configuration version (refused if "
        "someone else created one since this push read the latest) and start a deployment. "
        "Nothing happens when FILE equals the deployed version, unless --force. A "
        "feature-flag profile gets the appconfig-definition form. Names or ids are accepted "
        "for everything.",
    )
    push.add_argument("file", metavar="FILE", help="the flag document")
    _add_target_options(push)
    push.add_argument("--description", help="for the hosted version and the deployment")
    push.add_argument(
        "--dry-run", action="store_true", help="show the impact; create and deploy nothing"
    )
    push.add_argument(
        "--force", action="store_true", help="deploy even when FILE equals the deployed version"
    )
    push.add_argument("--content-type", default="application/json", help="default: %(default)s")
    push.add_argument(
        "--accept-unassessed",
        action="store_true",
        help="with --yes, deploy even when the tenants file could not assess some change "
        "(exit 4 otherwise)",
    )
    _add_careful_options(push)
    _add_tenant_options(push)
    push.set_defaults(run=_push)

    rollback = commands.add_parser(
        "rollback",
        help="stop the deployment in progress, or redeploy the version deployed before",
        description="When a deployment of the profile is in progress, stop it (AppConfig "
        "gives every client the version deployed before it back). Otherwise deploy again "
        "the version of the complete deployment before the one the environment serves. "
        "Shows what changes and asks first, like push.",
    )
    _add_target_options(rollback)
    rollback.add_argument("--description", help="for the new deployment")
    _add_careful_options(rollback)
    _add_tenant_options(rollback)
    rollback.set_defaults(run=_rollback)


def _add_target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--application", required=True, metavar="A", help="name or id")
    parser.add_argument("--environment", required=True, metavar="E", help="name or id")
    parser.add_argument("--profile", required=True, metavar="P", help="configuration profile")
    parser.add_argument(
        "--strategy",
        default=DEFAULT_STRATEGY,
        metavar="S",
        help="deployment strategy name or id (default: %(default)s: every client at once; "
        f"a gradual one is warned about, see {_DOCS})",
    )
    parser.add_argument("--endpoint-url", metavar="URL", help="another AppConfig endpoint")
    parser.add_argument(
        "--region", metavar="R", help="the AWS region (default: AWS_REGION, else boto3's)"
    )


def _target(args: argparse.Namespace) -> dict[str, str]:
    """The options `_add_target_options` adds (and --description), as keyword arguments."""
    names = ("application", "environment", "profile", "strategy", "description")
    return {name: getattr(args, name) for name in names}


def _add_careful_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--yes",
        action="store_true",
        help="do not ask for confirmation (needed when stdin is not a terminal)",
    )
    parser.add_argument(
        "--wait", action="store_true", help="follow the deployment to its end, with progress"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="how long --wait follows the deployment (default: %(default)g)",
    )
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="how often --wait asks AppConfig (default: %(default)g)",
    )


def _ask(question: str, args: argparse.Namespace, out: TextIO) -> bool:
    """Whether the user says yes to `question` (True at once with --yes)."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise _NoTerminal
    out.write(f"{question} [y/N] ")
    out.flush()
    answer = sys.stdin.readline()
    if not answer:  # end of input: no
        out.write("\n")
    return answer.strip().lower() in ("y", "yes")


def _refuse_without_terminal(args: argparse.Namespace) -> int:
    print(
        f"flagkit {args.command}: error: not changing anything without a confirmation: "
        "stdin is not a terminal, so there is no one to ask; pass --yes to go ahead without "
        "asking" + (", or --dry-run to see the impact only" if args.command == "push" else ""),
        file=sys.stderr,
    )
    return EXIT_USAGE


def _show_target(target: AppConfigTarget, out: TextIO) -> None:
    print(
        f"target: application {target.application_name!r} ({target.application_id}), "
        f"environment {target.environment_name!r} ({target.environment_id}), "
        f"profile {target.profile_name!r} ({target.profile_id}, {target.profile_type})",
        file=out,
    )


def _show_diff(
    diff: publish.Diff | None, problem: str | None, args: argparse.Namespace, out: TextIO
) -> None:
    if diff is None:
        print(f"no diff: {problem}", file=out)
        return
    for line in publish.format_diff(diff, limit=None if args.all else IDS_SHOWN):
        print(line, file=out)


def _warn_if_gradual(strategy: publish.DeploymentStrategy | None, out: TextIO) -> None:
    if strategy is None or not strategy.gradual:
        return
    print(
        f"warning: {strategy.label} deploys gradually ({strategy.describe()}): until it "
        "completes, processes that have the new version and processes that do not answer "
        "differently, so one tenant can get both answers; to expose a flag gradually, "
        f"deploy with {DEFAULT_STRATEGY} and raise the flag's percentage (see {_DOCS})",
        file=out,
    )


def _push(args: argparse.Namespace, out: TextIO) -> int:
    checked = _read_flag_document(args.file)
    tenants = _read_tenants(args)
    if checked is None or tenants is None:
        return EXIT_INVALID
    for warning in checked.warnings:
        print(f"{args.file}: warning: {warning}", file=out)

    def show(result: publish.PushResult) -> None:
        _show_target(result.target, out)
        print(f"compared with: {result.compared_with}", file=out)
        _show_diff(result.diff, result.diff_problem, args, out)
        if args.force or not result.unchanged:
            _warn_if_gradual(result.strategy, out)

    def confirm(result: publish.PushResult) -> bool:
        unassessed = () if result.diff is None else result.diff.unassessed
        if unassessed and args.yes and not args.accept_unassessed:
            raise _Unassessed(unassessed)
        question = (
            f"Deploy version {result.next_version} to {result.target.environment_name} "
            f"with {result.strategy_name}?"
        )
        if unassessed:
            count = len(unassessed)
            question = (
                f"{count} flag{'s' if count != 1 else ''} could not be assessed with this "
                f"tenants file ({', '.join(unassessed)}). {question}"
            )
        return _ask(question, args, out)

    try:
        client = appconfig_client(args.endpoint_url, args.region)
        result = publish.push(
            checked.document,
            **_target(args),
            tenants=tenants,
            dry_run=args.dry_run,
            force=args.force,
            content_type=args.content_type,
            client=client,
            on_diff=show,
            confirm=confirm,
        )
    except DocumentError as exc:
        for problem in exc.problems:
            print(f"{args.file}: error: {problem}", file=sys.stderr)
        return EXIT_INVALID
    except PublishError as exc:
        print(f"flagkit push: error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except _NoTerminal:
        return _refuse_without_terminal(args)
    except _Unassessed as exc:
        (unassessed,) = exc.args
        print(
            f"flagkit push: error: not deploying: the tenants file could not assess "
            f"{', '.join(unassessed)}; nobody has seen this change's whole blast radius. "
            "Add what is missing to the tenants file, or pass --accept-unassessed",
            file=sys.stderr,
        )
        return EXIT_UNASSESSED
    target = result.target
    strategy = result.strategy.label
    if result.unchanged and not args.force:
        print(
            f"nothing to deploy: {args.file} equals deployed version {result.deployed_version} "
            "(pass --force to deploy it again)",
            file=out,
        )
        return EXIT_OK
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
    if result.cancelled:
        print("cancelled: nothing created or deployed", file=out)
        return EXIT_INVALID
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
    if not args.wait or result.deployment_number is None:
        return EXIT_OK
    return _wait(client, target, result.deployment_number, args, out, success="COMPLETE")


def _rollback(args: argparse.Namespace, out: TextIO) -> int:
    tenants = _read_tenants(args)
    if tenants is None:
        return EXIT_INVALID

    def show(plan: publish.RollbackPlan) -> None:
        _show_target(plan.target, out)
        if plan.stop is not None:
            print(
                f"in progress: deployment {plan.stop.number} of version {plan.from_version} "
                f"({plan.stop.state}, {plan.stop.percentage:g}% of clients)",
                file=out,
            )
            back = (
                f"clients go back to version {plan.to_version}"
                if plan.to_version is not None
                else "clients that polled keep nothing deployed before it"
            )
            print(f"rollback: stop it; {back}", file=out)
        else:
            print(
                f"deployed: version {plan.from_version} (deployment {plan.from_deployment})",
                file=out,
            )
            print(
                f"rollback: deploy version {plan.to_version} again (the version deployed "
                "before it)",
                file=out,
            )
        _show_diff(plan.diff, plan.diff_problem, args, out)
        _warn_if_gradual(plan.strategy, out)

    def confirm(plan: publish.RollbackPlan) -> bool:
        environment = plan.target.environment_name
        if plan.stop is not None:
            question = f"Stop deployment {plan.stop.number} of version {plan.from_version} to "
            question += f"{environment}?"
        else:
            strategy = plan.strategy.name if plan.strategy else DEFAULT_STRATEGY
            question = f"Deploy version {plan.to_version} to {environment} with {strategy}?"
        return _ask(question, args, out)

    try:
        client = appconfig_client(args.endpoint_url, args.region)
        result = publish.rollback(
            **_target(args),
            tenants=tenants,
            client=client,
            on_plan=show,
            confirm=confirm,
        )
    except PublishError as exc:
        print(f"flagkit rollback: error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except _NoTerminal:
        return _refuse_without_terminal(args)
    plan = result.plan
    if result.cancelled or result.deployment_number is None:
        print("cancelled: nothing stopped or deployed", file=out)
        return EXIT_INVALID
    environment = plan.target.environment_name
    if plan.stop is not None:
        print(
            f"stopped: deployment {result.deployment_number} to environment {environment!r} "
            f"(state {result.deployment_state})",
            file=out,
        )
        success = "ROLLED_BACK"
    else:
        strategy = plan.strategy.label if plan.strategy else DEFAULT_STRATEGY
        print(
            f"deployed: deployment {result.deployment_number} of version {plan.to_version} "
            f"to environment {environment!r} with {strategy} (state {result.deployment_state})",
            file=out,
        )
        success = "COMPLETE"
    if not args.wait:
        return EXIT_OK
    return _wait(client, plan.target, result.deployment_number, args, out, success=success)


def _wait(
    client: AppConfigClient,
    target: AppConfigTarget,
    number: int,
    args: argparse.Namespace,
    out: TextIO,
    *,
    success: str,
) -> int:
    """Follow deployment `number` to its end: 0 when it ends as `success` (COMPLETE for a
    deployment; ROLLED_BACK, or REVERTED, for a stopped one), 1 otherwise or on timeout."""

    def progress(seen: DeploymentProgress) -> None:
        print(f"deployment {seen.number}: {seen.state}, {seen.percentage:g}% of clients", file=out)
        out.flush()

    try:
        final = follow_deployment(
            client,
            target,
            number,
            timeout=args.timeout,
            interval=args.poll_interval,
            on_progress=progress,
        )
    except PublishError as exc:
        print(f"flagkit {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    environment = target.environment_name
    if not final.finished:
        print(
            f"flagkit {args.command}: error: deployment {number} is still {final.state} "
            f"({final.percentage:g}% of clients) after {args.timeout:g} s; it goes on: follow "
            "it in the AppConfig console, or stop it with flagkit rollback",
            file=sys.stderr,
        )
        return EXIT_INVALID
    ended_well = final.state == success or (success == "ROLLED_BACK" and final.state == "REVERTED")
    if ended_well and final.state == "COMPLETE":
        print(f"complete: version {final.version} is deployed to {environment!r}", file=out)
        return EXIT_OK
    if ended_well:
        print(f"rolled back: {environment!r} serves what it served before", file=out)
        return EXIT_OK
    reason = f" ({final.rollback_reason})" if final.rollback_reason else ""
    print(
        f"flagkit {args.command}: error: deployment {number} ended {final.state}{reason}: "
        f"version {final.version} is not deployed to {environment!r}",
        file=sys.stderr,
    )
    return EXIT_INVALID
