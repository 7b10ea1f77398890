"""The service's routers, one per concern: OFREP, plain JSON for humans, operations."""

from __future__ import annotations

from fastapi import Request

from flagkit.client import Flags
from service.errors import ServiceError
from service.state import FlagsLoader

__all__ = ["served_flags"]


def served_flags(request: Request) -> Flags:
    """The app's `Flags`, or 503 while no valid document has been loaded yet."""
    loader: FlagsLoader = request.app.state.loader
    flags = loader.flags
    if flags is None:
        reason = f": {loader.error}" if loader.error else ""
        raise ServiceError(503, f"no flag document is loaded yet{reason}")
    return flags
