"""`matches` patterns: RE2 syntax, compiled once, searched in time linear in the text.

A pattern in a flag document is written by whoever edits flags, and runs against text
chosen by whoever calls the service; with a backtracking engine such as Python's `re`,
`(a+)+$` against thirty `a`s and a `!` takes minutes. RE2 (the `google-re2` binding)
guarantees time linear in the text, at the price of refusing what needs backtracking:
backreferences (`(a)\\1`) and lookaround (`(?=a)`, `(?<=a)`). Such a pattern is a
document error, with RE2's own reason.

`compile_pattern` returns a predicate: an unanchored search (`"acme"` finds a match in
`"ops@acme.com"`; write `^…$` to anchor). The predicate calls RE2's C++ `Match`
directly, without the `re`-like Python layer of `google-re2` (which builds a match
object and its offsets the predicate would throw away), asks for no capture, and
remembers its last answers.
`re2` is imported when a pattern is first compiled, so `import flagkit` stays light.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

__all__ = ["ANSWERS_REMEMBERED", "compile_pattern"]

ANSWERS_REMEMBERED = 1024
"""Each predicate remembers its answer for this many texts (tenants' values repeat: a
plan, a country, an app id); a remembered answer costs a dict lookup, not a search."""


def compile_pattern(pattern: str, *, ignore_case: bool = False) -> Callable[[str], bool]:
    """An unanchored RE2 search predicate for `pattern`.

    `ignore_case` is RE2's case-insensitive mode (Unicode simple case folding). Raises
    ValueError with RE2's reason when RE2 cannot compile the pattern, e.g.
    `not an RE2 pattern: invalid perl operator: (?<`.
    """
    if not isinstance(pattern, str):
        raise ValueError(f"not an RE2 pattern: {pattern!r} is not a string")
    import re2
    from re2 import _re2

    options = re2.Options()
    options.never_capture = True  # the predicate only asks whether there is a match
    options.log_errors = False  # the reason goes into the ValueError, not to stderr
    options.case_sensitive = not ignore_case
    compiled = _re2.RE2(pattern.encode("utf-8", "surrogatepass"), options)
    if not compiled.ok():
        reason = compiled.error().decode("utf-8", "replace")
        raise ValueError(f"not an RE2 pattern: {reason}")
    match = compiled.Match
    unanchored = _re2.RE2.Anchor.UNANCHORED
    no_match = (-1, -1)

    def finds_a_match(text: str) -> bool:
        """Whether the pattern finds a match anywhere in `text`."""
        encoded = text.encode("utf-8", "surrogatepass")
        return bool(match(unanchored, encoded, 0, len(encoded))[0] != no_match)

    return lru_cache(maxsize=ANSWERS_REMEMBERED)(finds_a_match)
