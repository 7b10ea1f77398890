"""`flagkit serve` and `python -m service`: run the HTTP service with uvicorn.

The service gives `flagkit` its `serve` command through the `flagkit.commands` entry
point (`add_serve_command`; the protocol is in `flagkit.command_plugins`), so that
flagkit never imports the service. `python -m service` (`main`) takes the same options.

`flagkit` loads this module to build its parser, whatever command it runs and
whether or not the service extra is installed: at module level it imports only the
standard library and flagkit. `serve` imports uvicorn and the app when it runs and,
when they are missing, says which extra to install.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import TextIO

from flagkit.cli.exits import EXIT_OK, EXIT_USAGE
from flagkit.command_plugins import Subcommands
from flagkit.errors import ConfigurationError

__all__ = ["SERVICE_EXTRA", "add_serve_command", "main", "serve"]

SERVICE_EXTRA = "pip install 'flagkit-engine[service]'"
"""How to install what the service needs (FastAPI, uvicorn, ...)."""

_HELP = "serve flags over HTTP: OFREP, plain JSON, health and metrics"
_DESCRIPTION = (
    "Run the HTTP service (needs flagkit-engine[service]) with uvicorn. SOURCE is a "
    "flag document's path, appconfig://APPLICATION/ENVIRONMENT/PROFILE or "
    "agent://APPLICATION/ENVIRONMENT/PROFILE. Other settings come from FLAGKIT_* "
    "environment variables (see the README). Without API keys (FLAGKIT_API_KEYS) it "
    "refuses to listen beyond loopback unless given --allow-unauthenticated."
)
_OUR_PACKAGES = frozenset({"flagkit", "service"})


def add_serve_command(commands: Subcommands) -> None:
    """The `flagkit.commands` entry point `serve`: adds `flagkit serve` to `commands`."""
    _add_serve_options(commands.add_parser("serve", help=_HELP, description=_DESCRIPTION))


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m service [OPTIONS]`: `flagkit serve`'s options; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m service", description=_DESCRIPTION)
    _add_serve_options(parser)
    args = parser.parse_args(argv)
    status: int = args.run(args, sys.stdout)
    return status


def _add_serve_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source", metavar="SOURCE", help="where flags come from (default: $FLAGKIT_SOURCE)"
    )
    parser.add_argument(
        "--overrides",
        metavar="FILE",
        help="an overrides file: answers forced over every document, re-read when it changes "
        "(default: $FLAGKIT_OVERRIDES_FILE; or the JSON in $FLAGKIT_OVERRIDES)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    parser.add_argument("--port", type=int, default=8000, help="default: %(default)s")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="worker processes; /metrics adds up all of them (default: 1)",
    )
    parser.add_argument(
        "--allow-unauthenticated",
        action="store_true",
        help="answer clients beyond loopback even though no API keys are configured",
    )
    parser.add_argument(
        "--ui",
        action="store_true",
        help="serve the web UI under /ui, behind the same API keys (default: $FLAGKIT_UI)",
    )
    parser.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default="info",
        help="the least severe log lines written, flagkit's and uvicorn's (default: %(default)s)",
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="log every request; off by default, since query strings carry tenant attributes",
    )
    parser.add_argument(
        "--http",
        choices=("auto", "httptools", "h11"),
        default="auto",
        help="the HTTP parser (default: httptools when installed, else h11)",
    )
    parser.set_defaults(run=partial(serve, prog=parser.prog))


def serve(args: argparse.Namespace, out: TextIO, *, prog: str = "flagkit serve") -> int:
    """Check the settings, then run uvicorn until it is stopped; `prog` prefixes errors.

    Returns 2 (printing why to stderr) when the service extra is not installed, the
    settings are invalid or there is no source, or when asked to listen beyond
    loopback without API keys and without `--allow-unauthenticated`.
    """
    try:
        import uvicorn

        import service.app  # noqa: F401 - fastapi and the rest of the extra, checked here
        from service.server import NoDelayHttpToolsProtocol, http_protocol
    except ImportError as exc:
        if exc.name is None or exc.name.partition(".")[0] in _OUR_PACKAGES:
            raise  # Not a missing extra: a bug of ours.
        print(
            f"{prog}: error: {exc.name} is not installed; install the service extra: "
            f"{SERVICE_EXTRA}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from flagkit.overrides import OverridesError, OverridesLayer
    from service.auth import is_loopback
    from service.settings import Settings
    from service.source import source_kind

    if args.http == "httptools" and NoDelayHttpToolsProtocol is None:
        print(
            f"{prog}: error: --http httptools: httptools is not installed; "
            "pip install httptools, or use --http h11",
            file=sys.stderr,
        )
        return EXIT_USAGE

    if args.source:
        os.environ["FLAGKIT_SOURCE"] = args.source
    if args.allow_unauthenticated:
        os.environ["FLAGKIT_ALLOW_UNAUTHENTICATED"] = "1"
    if args.overrides:
        os.environ["FLAGKIT_OVERRIDES_FILE"] = args.overrides
    if args.ui:
        os.environ["FLAGKIT_UI"] = "1"
    try:
        settings = Settings.from_env()
        if settings.source is None:
            raise ConfigurationError(
                "no source: give --source or set FLAGKIT_SOURCE (a file path, "
                "appconfig://APPLICATION/ENVIRONMENT/PROFILE or agent://APPLICATION/ENVIRONMENT/PROFILE)"
            )
        source_kind(settings.source)
        if settings.overrides_file is not None:
            OverridesLayer.open(settings.overrides_file)  # A bad file stops the start here.
    except (ConfigurationError, OverridesError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not (is_loopback(args.host) or settings.api_keys or settings.allow_unauthenticated):
        print(
            f"{prog}: error: refusing to listen on {args.host} without API keys; set "
            "FLAGKIT_API_KEYS (or FLAGKIT_API_KEYS_FILE), or pass --allow-unauthenticated",
            file=sys.stderr,
        )
        return EXIT_USAGE
    with _shared_metrics_directory(args.workers):
        uvicorn.run(
            "service.app:create_app",  # By name: each of several workers imports and makes its own.
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            http=http_protocol(args.http),
            access_log=args.access_log,
            log_level=args.log_level,
        )
    return EXIT_OK


@contextmanager
def _shared_metrics_directory(workers: int) -> Iterator[None]:
    """With several workers, a fresh directory for their metrics, removed when they stop.

    The workers inherit `PROMETHEUS_MULTIPROC_DIR` and write their numbers there, so
    that any of them answers `/metrics` for all (see `service.worker_metrics`). A
    directory the environment names already is used as it is, and left in place.
    """
    from service.worker_metrics import MULTIPROC_DIR_VARIABLE

    if workers <= 1 or os.environ.get(MULTIPROC_DIR_VARIABLE):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="flagkit-metrics-") as directory:
        os.environ[MULTIPROC_DIR_VARIABLE] = directory
        try:
            yield
        finally:
            del os.environ[MULTIPROC_DIR_VARIABLE]
