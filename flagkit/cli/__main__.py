"""`python -m flagkit.cli`: the `flagkit` command."""

from flagkit.cli import run

run()
