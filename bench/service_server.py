"""One uvicorn worker serving the flagkit service plus a bare route, for bench/service_load.py.

    .venv/bin/python bench/service_server.py --source FLAGS.json --port-file PORT \\
        [--poll-interval 0.5] [--api-key KEY] [--cpu N] [--profile OUT.pstats]

The app is `service.app:create_app(...)` reading `--source` (a file, re-read every
`--poll-interval` seconds by flagkit's refresh thread), with one extra route,
`POST /bench/bare`, added here only: it reads the body and answers a constant JSON
body shaped and sized like an OFREP evaluation, through the same middleware stack,
exception handlers and server. The product app gets no bench route.

The socket is bound here (127.0.0.1, a free port) and its port written to
`--port-file`, so there is no race for a port. With `--profile`, SIGUSR1 starts
cProfile on the event loop's thread and SIGUSR2 stops it and writes the stats.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import signal
import socket
import sys
from pathlib import Path
from types import FrameType

import uvicorn
from fastapi import FastAPI, Request
from starlette.responses import Response

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flagkit.client import Flags  # noqa: E402
from service.app import create_app  # noqa: E402
from service.routes.ofrep import success_body  # noqa: E402
from service.settings import Settings  # noqa: E402

BARE_PATH = "/bench/bare"


def bare_body(source: str, flag: str) -> bytes:
    """What `/ofrep/v1/evaluate/flags/{flag}` answers for one tenant, as constant bytes."""
    with Flags.from_file(source) as flags:
        evaluation = flags.evaluate(flag, "tenant-0", False)
    return json.dumps(success_body(evaluation)).encode()


def build_app(source: str, poll_interval: float, api_key: str | None, flag: str) -> FastAPI:
    settings = Settings(
        source=source,
        poll_interval=poll_interval,
        api_keys=frozenset() if api_key is None else frozenset({api_key}),
    )
    app = create_app(settings)
    body = bare_body(source, flag)

    async def bare(request: Request) -> Response:
        await request.body()  # Read it as the OFREP route does, so both pay for the body.
        return Response(body, media_type="application/json")

    app.add_api_route(BARE_PATH, bare, methods=["POST"], include_in_schema=False)
    return app


def install_profiler(path: str) -> None:
    """SIGUSR1: start profiling the thread that runs the event loop; SIGUSR2: stop, write."""
    profiler = cProfile.Profile()

    def start(signum: int, frame: FrameType | None) -> None:
        profiler.enable()

    def stop(signum: int, frame: FrameType | None) -> None:
        profiler.disable()
        scratch = f"{path}.tmp"
        profiler.dump_stats(scratch)
        os.replace(scratch, path)  # The bench waits for `path`: it appears whole.
        profiler.clear()

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", required=True, help="the flag document file")
    parser.add_argument("--port-file", required=True, help="where to write the bound port")
    parser.add_argument("--poll-interval", type=float, default=0.5)
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--flag", default="flag25", help="the flag the bare body imitates")
    parser.add_argument("--profile", default=None, help="cProfile stats file (SIGUSR1/2)")
    parser.add_argument("--cpu", type=int, default=None, help="pin the process to this CPU")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})  # Before any thread starts: they all inherit it.

    app = build_app(args.source, args.poll_interval, args.api_key, args.flag)
    # IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY only on accepted sockets whose
    # proto says TCP, and without it h11's separate header and body writes wait ~40 ms for
    # the client's delayed ACK (uvicorn's own host/port binding gets IPPROTO_TCP too).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port_file = Path(args.port_file)
    scratch = port_file.with_suffix(".tmp")
    scratch.write_text(str(sock.getsockname()[1]))
    os.replace(scratch, port_file)
    if args.profile:
        install_profiler(args.profile)
    config = uvicorn.Config(
        app, workers=1, access_log=False, log_level="warning", lifespan="on", backlog=1024
    )
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
