"""Tenants files: the tenants `flagkit diff` and `flagkit push` evaluate a change for.

```
# our tenants
acme enterprise
globex          # no tier yet
```
"""

from __future__ import annotations

import os

from flagkit.errors import PublishError
from flagkit.model import Tenant

__all__ = ["parse_tenants", "read_tenants"]


def parse_tenants(text: str, source: str = "<tenants>") -> tuple[Tenant, ...]:
    """The tenants of a tenants file: one per line, `ID` or `ID TIER`.

    Blank lines and everything from a word starting with `#` are ignored. A line
    with more than two words, or an id listed twice, raises `PublishError` naming
    `source`, the line number and the line.
    """
    tenants: list[Tenant] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split()
        for index, word in enumerate(words):
            if word.startswith("#"):
                del words[index:]
                break
        if not words:
            continue
        if len(words) > 2:
            raise PublishError(
                f"{source}:{number}: {line.strip()!r} has {len(words)} words; "
                "expected `ID` or `ID TIER` (a tenant id, then optionally its tier)"
            )
        tenant_id = words[0]
        if tenant_id in seen:
            raise PublishError(
                f"{source}:{number}: tenant {tenant_id!r} is listed again (first on line "
                f"{seen[tenant_id]}); expected each tenant once"
            )
        seen[tenant_id] = number
        tenants.append(Tenant(tenant_id, words[1] if len(words) == 2 else None))
    return tuple(tenants)


def read_tenants(path: str | os.PathLike[str]) -> tuple[Tenant, ...]:
    """`parse_tenants` of a UTF-8 file; an unreadable file raises `PublishError`."""
    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise PublishError(f"cannot read tenants file {name!r}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise PublishError(
            f"tenants file {name!r} is not UTF-8 text: {exc.reason} at byte {exc.start}"
        ) from None
    return parse_tenants(text, name)
