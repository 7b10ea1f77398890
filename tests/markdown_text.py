"""Reading the repository's Markdown: sections, fenced blocks, links and heading anchors."""

from __future__ import annotations

import re
from collections.abc import Iterator

_LINK = re.compile(r"\]\(([^)\s]+)\)")
_INLINE_CODE = re.compile(r"`[^`\n]*`")


def section(text: str, title: str) -> str:
    """The text after the heading line `title`, up to the next second-level heading."""
    return text.split("\n" + title + "\n", 1)[1].split("\n## ", 1)[0]


def fenced_blocks(text: str, language: str) -> list[str]:
    """The bodies of the ```language blocks in `text`, in order (`""` is an unlabelled block)."""
    return [
        block.split("\n", 1)[1]
        for block in text.split("```")[1::2]
        if block.split("\n", 1)[0] == language
    ]


def prose(text: str) -> str:
    """`text` without its fenced blocks and inline code spans."""
    outside = "".join(text.split("```")[0::2])
    return _INLINE_CODE.sub("", outside)


def links(text: str) -> Iterator[str]:
    """The targets of the Markdown links in the prose of `text`."""
    for match in _LINK.finditer(prose(text)):
        yield match.group(1)


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives the headings of `text` (`#the-flag-document`, ...)."""
    seen: dict[str, int] = {}
    result = set()
    for line in "".join(text.split("```")[0::2]).splitlines():
        if not line.startswith("#"):
            continue
        title = line.lstrip("#").strip().replace("`", "").lower()
        slug = re.sub(r"[^\w\- ]", "", title).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        result.add(slug if count == 0 else f"{slug}-{count}")
    return result
