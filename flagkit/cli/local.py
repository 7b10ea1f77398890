"""`flagkit appconfig-local`: AWS AppConfig on this machine, fed by flag document files.

```
flagkit appconfig-local shop/prod/flags=examples/flags.json [--port 2772] [--poll-interval 1]
```
Serves the Data API, the AppConfig Agent's HTTP API and the control plane of
`flagkit push`, `pull` and `rollback` on one loopback port (`flagkit.local_appconfig`),
deploys each file at start and again whenever it changes (a file that fails `flagkit
validate`'s checks is reported on stderr and not deployed), prints the environment an
application needs to use it with no code change, and runs until Ctrl-C or SIGTERM.
Exit status: 0 stopped; 1 the port cannot be listened on; 2 bad usage (a host that is
not a loopback address, a malformed APP/ENV/PROFILE=FILE).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Final, TextIO

from flagkit.cli.exits import EXIT_INVALID, EXIT_OK, EXIT_USAGE
from flagkit.command_plugins import Subcommands
from flagkit.local_appconfig.endpoint import LocalAppConfig
from flagkit.local_appconfig.file_deployer import FileDeployer, WatchedFile
from flagkit.local_appconfig.server import NotLoopbackError

__all__ = ["DEFAULT_PORT", "add_commands", "environment_lines"]

DEFAULT_PORT: Final = 2772
"""The AppConfig Agent's port: `Flags.from_agent` and `flagkit pull --agent` find it there."""

LOCAL_REGION: Final = "us-east-1"
"""Any region will do: boto3 needs one to sign, and the endpoint URL overrides where."""

_TYPES: Final = {"auto": None, "freeform": False, "feature-flags": True}


def add_commands(commands: Subcommands) -> None:
    """Add `appconfig-local` to the `flagkit` command."""
    local = commands.add_parser(
        "appconfig-local",
        help="run AWS AppConfig on this machine, deploying flag documents from files",
        description="Serve the AppConfig Data API, the AppConfig Agent's HTTP API and the "
        "control-plane calls of flagkit push, pull and rollback on one loopback port; deploy "
        "each FILE to its APP/ENV/PROFILE at start and whenever it changes (checked every "
        "second; a document flagkit validate rejects is reported and not deployed, and the "
        "version deployed before keeps serving). Prints the environment variables an "
        "application and flagkit need to use it. Ctrl-C (or SIGTERM) stops it.",
    )
    local.add_argument(
        "files",
        nargs="*",
        type=_watched_file,
        metavar="APP/ENV/PROFILE=FILE",
        help="a flag document to deploy to profile PROFILE of application APP, environment ENV",
    )
    local.add_argument(
        "--type",
        choices=sorted(_TYPES),
        default="auto",
        help="the kind of profile a file's profile is made as: AWS.Freeform, or "
        "AWS.AppConfig.FeatureFlags (default auto: feature flags when the file holds the "
        "console's stored format)",
    )
    local.add_argument(
        "--host", default="127.0.0.1", help="a loopback address (default: %(default)s)"
    )
    local.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="0 picks a free one (default: %(default)s)"
    )
    local.add_argument(
        "--poll-interval",
        type=int,
        default=1,
        metavar="SECONDS",
        help="the poll interval the Data API tells every client, whatever minimum it asked "
        "for (default: %(default)s; AWS tells at least the client's minimum, 15 s or more)",
    )
    local.add_argument(
        "--minute",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long a minute of a deployment strategy lasts (default: %(default)g; 1 runs "
        "AppConfig.AllAtOnce's 10-minute bake in 10 seconds)",
    )
    local.add_argument("--agent-token", metavar="T", help="make the Agent path want a token")
    local.add_argument("--verbose", action="store_true", help="log every request to stderr")
    local.set_defaults(run=_serve)


def _watched_file(spec: str) -> WatchedFile:
    target, separator, path = spec.partition("=")
    names = target.split("/")
    if not separator or len(names) != 3 or not all(names) or not path:
        raise argparse.ArgumentTypeError(f"expected APP/ENV/PROFILE=FILE, got {spec!r}")
    return WatchedFile(names[0], names[1], names[2], Path(path))


def environment_lines(url: str) -> list[str]:
    """The shell lines that point boto3 (and so `Flags.from_appconfig`, `flagkit push`,
    `pull` and `rollback`) at the local AppConfig at `url`, with dummy credentials."""
    return [
        f"export AWS_ENDPOINT_URL_APPCONFIGDATA={url} AWS_ENDPOINT_URL_APPCONFIG={url}",
        f"export AWS_REGION={LOCAL_REGION} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local",
    ]


def _serve(args: argparse.Namespace, out: TextIO) -> int:
    try:
        local = LocalAppConfig(
            host=args.host,
            port=args.port,
            poll_interval=args.poll_interval,
            honour_required_minimum=False,
            minute=args.minute,
            agent_token=args.agent_token,
            verbose=args.verbose,
        )
    except NotLoopbackError as exc:
        print(f"flagkit appconfig-local: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(
            f"flagkit appconfig-local: error: cannot listen on {args.host} port {args.port}: "
            f"{exc.strerror or exc}",
            file=sys.stderr,
        )
        return EXIT_INVALID
    stop = threading.Event()

    def stop_on(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Ctrl-C and SIGTERM both stop it, even when started with SIGINT ignored (in background).
    previous = {sig: signal.signal(sig, stop_on) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with local:
            files = [
                WatchedFile(w.application, w.environment, w.profile, w.path, _TYPES[args.type])
                for w in args.files
            ]
            deployer = FileDeployer(local, files, out=out)
            deployer.check()
            print(f"local AppConfig on {local.url}; in the shell of an application:", file=out)
            for line in environment_lines(local.url):
                print(line, file=out)
            print("serving until Ctrl-C", file=out, flush=True)
            while not stop.wait(1.0):
                deployer.check()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("stopped", file=out, flush=True)
    return EXIT_OK
