"""The AWS region a boto3 client flagkit makes uses.

```
client = session.client("appconfig", region_name=client_region(explicit))
```

botocore reads only `AWS_DEFAULT_REGION` (and the config file's profile); Lambda and ECS
set `AWS_REGION`, which the other AWS SDKs read. So every client flagkit makes is given
`client_region(...)`: the region asked for explicitly, else `AWS_REGION`, else
`AWS_DEFAULT_REGION`, else None (boto3's own configuration: the profile's `region`).
A boto3 session the caller passes keeps the region it has; `AWS_REGION` only fills in
when it has none.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["REGION_VARIABLES", "client_region"]

REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
"""The environment variables that name the region, the first set one winning."""


def client_region(explicit: str | None = None, *, session: Any = None) -> str | None:
    """The `region_name` to give a boto3 client: None leaves the choice to boto3.

    `explicit` (a `--region` option, a `region=` argument) wins; then the region of the
    caller's `session` (a `boto3.Session`), when it has one; then `AWS_REGION`, then
    `AWS_DEFAULT_REGION` (an empty variable counts as unset); else None.
    """
    if explicit:
        return explicit
    if session is not None and session.region_name:
        return str(session.region_name)
    for variable in REGION_VARIABLES:
        value = os.environ.get(variable)
        if value:
            return value
    return None
