"""`flagkit pull`: the document deployed to an AppConfig environment, checked, written to a file.

```
flagkit pull APP/ENV/PROFILE --output FILE [--endpoint-url URL] [--region R]
flagkit pull APP/ENV/PROFILE --output FILE --agent [URL]
```
One fetch through the AppConfig Data API (`AppConfigSource`, boto3) or the AppConfig
Agent (`AgentSource`). The document is checked as `flagkit validate` checks it before
anything is written, and written whole or not at all (a temporary file beside FILE,
then a rename): an invalid document never replaces a good file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from typing import Any, TextIO

from flagkit.cli.exits import EXIT_INVALID, EXIT_OK, EXIT_USAGE
from flagkit.command_plugins import Subcommands
from flagkit.errors import DocumentError, SourceError
from flagkit.fields import flag_items
from flagkit.publish.appconfig_format import load_flag_document
from flagkit.sources.agent import DEFAULT_AGENT_URL, AgentSource
from flagkit.sources.snapshot import Snapshot

__all__ = ["add_commands", "write_atomically"]


def add_commands(commands: Subcommands) -> None:
    """Add `pull` to the `flagkit` command."""
    pull = commands.add_parser(
        "pull",
        help="write the document deployed to an AppConfig environment to a file",
        description="Fetch the document deployed to APP/ENV/PROFILE (names or ids) once, "
        "through the AppConfig Data API (the default) or the AppConfig Agent (--agent), check "
        "it as `flagkit validate` does, and write it to FILE in the retrieval format, "
        "replacing FILE only when the document is valid. Exit 0 when written, 1 when the "
        "document is invalid or cannot be fetched or written, 2 for bad usage.",
    )
    pull.add_argument(
        "target", metavar="APP/ENV/PROFILE", help="application, environment and profile"
    )
    pull.add_argument("--output", "-o", required=True, metavar="FILE", help="where to write it")
    pull.add_argument(
        "--agent",
        nargs="?",
        const=DEFAULT_AGENT_URL,
        metavar="URL",
        help=f"read through the AppConfig Agent at URL (without URL: {DEFAULT_AGENT_URL}) "
        "instead of the Data API",
    )
    pull.add_argument("--endpoint-url", metavar="URL", help="another AppConfig Data API endpoint")
    pull.add_argument("--region", metavar="R", help="the AWS region (default: AWS_REGION, boto3's)")
    pull.set_defaults(run=_pull)


def _pull(args: argparse.Namespace, out: TextIO) -> int:
    parts = args.target.split("/")
    if len(parts) != 3 or not all(parts):
        return _usage(f"expected APPLICATION/ENVIRONMENT/PROFILE, got {args.target!r}")
    if args.agent is not None and (args.endpoint_url or args.region):
        return _usage("--endpoint-url and --region are for the Data API; --agent reads the agent")
    application, environment, profile = parts
    description = f"appconfig://{args.target}"
    try:
        if args.agent is not None:
            agent = AgentSource(application, environment, profile, base_url=args.agent)
            description = agent.description
            snapshot: Snapshot | None = agent.fetch()
        else:
            snapshot = _fetch_from_data_api(args, application, environment, profile)
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] not in ("boto3", "botocore"):
            raise
        return _usage(
            "boto3 is not installed; install the aws extra: pip install 'flagkit-engine[aws]' "
            "(or read through the AppConfig Agent with --agent)"
        )
    except SourceError as exc:
        return _failed(str(exc))
    except DocumentError as exc:  # a content type flagkit cannot read
        return _refused(description, None, exc, args.output)
    if snapshot is None:
        return _failed(f"{description}: AppConfig sent no document")
    try:
        checked = load_flag_document(snapshot.content)
    except DocumentError as exc:
        return _refused(description, snapshot.version, exc, args.output)
    where = f"{description} (version {snapshot.version})"
    for warning in checked.warnings:
        print(f"{where}: warning: {warning}", file=out)
    try:
        write_atomically(args.output, _json_text(checked.document))
    except OSError as exc:
        return _failed(f"cannot write {args.output}: {exc.strerror or exc}")
    flags = sum(1 for _ in flag_items(checked.document))
    print(
        f"{description}: wrote {args.output} ({flags} flag{'s' if flags != 1 else ''}, "
        f"version {snapshot.version})",
        file=out,
    )
    return EXIT_OK


def _fetch_from_data_api(
    args: argparse.Namespace, application: str, environment: str, profile: str
) -> Snapshot | None:
    from flagkit.sources.appconfig import AppConfigSource

    with _data_api_client(args.endpoint_url, args.region) as client:
        return AppConfigSource(application, environment, profile, client=client).fetch()


@contextlib.contextmanager
def _data_api_client(endpoint_url: str | None, region: str | None) -> Iterator[Any]:
    """An `appconfigdata` client for one fetch (boto3's own retries), closed afterwards."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import NoRegionError

    from flagkit.aws_region import client_region

    config = Config(connect_timeout=5, read_timeout=10, retries={"mode": "standard"})
    try:
        client = boto3.session.Session().client(
            "appconfigdata",
            endpoint_url=endpoint_url,
            region_name=client_region(region),
            config=config,
        )
    except NoRegionError:
        raise SourceError("no AWS region for AppConfig: pass --region or set AWS_REGION") from None
    try:
        yield client
    finally:
        client.close()


def write_atomically(path: str, text: str) -> None:
    """Replace `path` with `text` (UTF-8) whole or not at all: a temporary file in the same
    directory, flushed to disk, then renamed over it. An existing file keeps its mode; a
    new one gets the usual one (0666 less the umask)."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".flagkit-pull-", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, _mode_for(path))
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _mode_for(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _json_text(document: Any) -> str:
    """The document as indented JSON; a lone surrogate (which UTF-8 cannot hold) escaped."""
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(document, indent=2) + "\n"
    return text


def _refused(description: str, version: str | None, exc: DocumentError, output: str) -> int:
    where = description if version is None else f"{description} (version {version})"
    for problem in exc.problems:
        print(f"{where}: error: {problem}", file=sys.stderr)
    return _failed(f"the deployed document is not valid; {output} was not written")


def _failed(message: str) -> int:
    print(f"flagkit pull: error: {message}", file=sys.stderr)
    return EXIT_INVALID


def _usage(message: str) -> int:
    print(f"flagkit pull: error: {message}", file=sys.stderr)
    return EXIT_USAGE
