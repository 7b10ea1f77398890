"""The `flagkit` command's exit statuses, shared by every command (and `flagkit serve`)."""

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_CHANGES, EXIT_UNASSESSED = 0, 1, 2, 3, 4
"""0 success; 1 an invalid document, an evaluation error or a failed push; 2 bad usage;
3 (`diff`) some tenant's answer changes; 4 (`diff`) some flag's change could not be
assessed: it depends on something no tenant of the tenants file carries (docs/impact.md)."""
