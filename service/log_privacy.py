"""Keep a rejected document's content out of the service's log at the default level.

A rejected document's problems quote its values (`checkout.tenants: "tenant-7f3a" is
not of type 'array'`): tenant ids, whatever someone pasted; so do those of a refused
overrides file. The library logs them,
which suits an application's own log; the service's log often goes further (a shared
collector), so `DocumentContentFilter` replaces them with a pointer to `/v1/status`,
which asks for an API key. With the `flagkit` logger at DEBUG (`flagkit serve
--log-level debug`) they are logged whole.

Nothing else the service logs at INFO or above carries what a client sent: the
access log is off by default, and an unexpected error names only the method and the
route's template (`service.errors`).
"""

from __future__ import annotations

import logging

from flagkit.announcer import LOGGER_NAME
from flagkit.errors import DocumentError
from flagkit.overrides import OVERRIDES_REJECTION_MESSAGE
from flagkit.refresh_status import REJECTION_MESSAGE

__all__ = ["HIDDEN_PROBLEMS", "DocumentContentFilter"]

HIDDEN_PROBLEMS = (
    "its problems, not logged at this level (they may quote the document): "
    "GET /v1/status with an API key shows them"
)
"""What replaces a rejected document's problems in a log line."""


class DocumentContentFilter(logging.Filter):
    """A handler filter: a record's rejected-document problems become `HIDDEN_PROBLEMS`,
    unless the `flagkit` logger logs DEBUG. It never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if logging.getLogger(LOGGER_NAME).isEnabledFor(logging.DEBUG):
            return True
        args = record.args
        if not isinstance(args, tuple) or not args:
            return True
        if record.msg in (REJECTION_MESSAGE, OVERRIDES_REJECTION_MESSAGE):  # problems last
            record.args = (*args[:-1], HIDDEN_PROBLEMS)
        elif any(isinstance(arg, DocumentError) for arg in args):
            record.args = tuple(
                f"the flag document is rejected: {HIDDEN_PROBLEMS}"
                if isinstance(arg, DocumentError)
                else arg
                for arg in args
            )
        return True
