"""Documents, files and messages that several flagkit.publish test modules use."""

from __future__ import annotations

BOOL_OLD = {"featureA": {"enabled": True, "tenants": ["acme"]}}
"""A boolean-form document a feature-flag profile can hold ..."""
BOOL_NEW = {"featureA": {"enabled": True, "tenants": ["acme", "globex"], "percentage": 0}}
"""... and a change to it that turns featureA on for globex."""

TENANTS_FILE = "# who to check\nacme enterprise\nglobex pro\ninitech free\nhooli\n"
"""A tenants file: four tenants, three with a tier, and a comment."""

NOT_UNICODE = (
    "not valid Unicode text (it has a lone surrogate); AppConfig stores UTF-8, which cannot hold it"
)
"""What publishing says of text with a lone surrogate (a JSON escape such as `"\\ud800"`)."""
