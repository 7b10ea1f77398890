"""One process of bench/fleet.py's fleet: a `Flags` polling AppConfig, reporting on stdout.

    python bench/fleet_member.py appconfig --interval 5     # AWS_ENDPOINT_URL_APPCONFIGDATA set
    python bench/fleet_member.py agent --url http://127.0.0.1:PORT --interval 5

`appconfig` is `Flags.from_appconfig(APP, ENV, PROFILE)`: boto3 finds the endpoint in
`AWS_ENDPOINT_URL_APPCONFIGDATA`; its `poll_interval` stays 15 s (AppConfig's minimum,
sent as the session's required minimum) and the endpoint's `NextPollIntervalInSeconds`
paces the polls. `agent` is `Flags.from_agent(APP, ENV, PROFILE, base_url=URL,
poll_interval=INTERVAL)`. One line per event, with `time.monotonic()` (the same clock in
every process of a Linux machine) as the time:

    ready TIME VERSION          the first document is served
    version TIME VERSION        an on_change: VERSION is served from now on
    attempt TIME ok|fail        an on_status: a poll ended (fail: the source failed)

It runs until its stdin closes.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flagkit.client import Flags  # noqa: E402
from flagkit.refresh_status import FlagsStatus  # noqa: E402

APPLICATION, ENVIRONMENT, PROFILE = "fleet", "bench", "flags"
APPCONFIG_MINIMUM = 15
"""flagkit's smallest `poll_interval` for the Data API (AppConfig's required minimum)."""

_print_lock = threading.Lock()


def say(*words: object) -> None:
    """One event line on stdout, whole, whichever thread says it."""
    line = " ".join(str(word) for word in words) + "\n"
    with _print_lock:
        sys.stdout.write(line)
        sys.stdout.flush()


def open_flags(api: str, url: str | None, interval: float) -> Flags:
    if api == "appconfig":
        return Flags.from_appconfig(
            APPLICATION, ENVIRONMENT, PROFILE, poll_interval=APPCONFIG_MINIMUM, startup_timeout=30
        )
    assert url is not None
    return Flags.from_agent(APPLICATION, ENVIRONMENT, PROFILE, base_url=url, poll_interval=interval)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("api", choices=("appconfig", "agent"))
    parser.add_argument("--url", help="the Agent's base URL (agent only)")
    parser.add_argument("--interval", type=float, default=5.0, help="the Agent poll interval")
    args = parser.parse_args()
    flags = open_flags(args.api, args.url, args.interval)

    def changed(old: str | None, new: str | None, keys: object) -> None:
        say("version", f"{time.monotonic():.4f}", new)

    def attempted(status: FlagsStatus) -> None:
        outcome = "fail" if status.consecutive_failures else "ok"
        say("attempt", f"{time.monotonic():.4f}", outcome)

    flags.on_change(changed)
    flags.on_status(attempted)
    say("ready", f"{time.monotonic():.4f}", flags.version)
    sys.stdin.read()  # until the parent closes it
    flags.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
