"""An application that reads its flags from AWS AppConfig and says when one changes.

    python examples/watch_flag.py shop/prod/flags bulkExport umbrella

prints the flag's answer for the tenant now, and again each time a new document changes
it. It is an ordinary `Flags.from_appconfig` application: where AppConfig is, and the
credentials, come from the environment as for any boto3 code, so the same script runs
against AWS or against `flagkit appconfig-local` (see docs/local-appconfig.md).
Ctrl-C stops it.
"""

from __future__ import annotations

import signal
import sys
import threading

from flagkit import Flags, Tenant


def main(target: str, flag: str, tenant_id: str) -> None:
    """Print `flag`'s answer for `tenant_id` now and whenever it changes, until Ctrl-C."""
    application, environment, profile = target.split("/")
    tenant = Tenant(tenant_id)
    stop = threading.Event()
    for stopping in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stopping, lambda signum, frame: stop.set())
    with Flags.from_appconfig(
        application, environment, profile, poll_interval=15, startup_timeout=10
    ) as flags:
        shown: list[str] = []

        def show(*_: object) -> None:
            answer = f"{flag} for {tenant_id}: {'on' if flags.enabled(flag, tenant) else 'off'}"
            if answer not in shown[-1:]:  # a new document need not change this answer
                print(answer, flush=True)
                shown.append(answer)

        show()
        flags.on_change(show)
        stop.wait()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: python examples/watch_flag.py APP/ENV/PROFILE FLAG TENANT")
    main(*sys.argv[1:])
