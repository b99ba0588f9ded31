"""Sections of a Markdown report written by different benches: each owns its `## Title` section.

`bench.corpus --markdown` rewrites docs/compatibility.md whole but keeps the sections other benches
write (`carry_over`); `bench.studio_roundtrip --markdown` replaces only its own (`put_section`).
"""

import re

HEADING = re.compile(r"^## (.+)$", re.MULTILINE)


def spans(text: str) -> dict[str, tuple[int, int]]:
    """title -> (start, end) of its section: the heading up to the next `## ` heading or the end."""
    marks = list(HEADING.finditer(text))
    ends = [m.start() for m in marks[1:]] + [len(text)]
    return {m.group(1).strip(): (m.start(), end) for m, end in zip(marks, ends, strict=True)}


def put_section(text: str, title: str, body: str) -> str:
    """`text` with the section `title` holding `body`: replaced where it is, else appended at the end."""
    new = f"## {title}\n\n{body.strip()}\n"
    where = spans(text).get(title)
    if where is None:
        return (text.rstrip("\n") + "\n\n" if text.strip() else "") + new
    start, end = where
    return text[:start] + new + ("\n" if end < len(text) else "") + text[end:]


def carry_over(old: str, new: str, titles: tuple[str, ...]) -> str:
    """`new`, with the sections `titles` of `old` that `new` does not write (another bench does) kept."""
    present, mine = spans(old), spans(new)
    for title in titles:
        if title in present and title not in mine:
            start, end = present[title]
            new = put_section(new, title, old[start:end].split("\n", 1)[-1])
    return new
