"""Generated parts of the Markdown docs: ``make docs`` rewrites the text between two markers."""

from __future__ import annotations


def replace_between(page: str, begin: str, end: str, generated: str) -> str:
    """``page`` with the text between the ``begin`` and ``end`` markers replaced by ``generated``
    (which starts on the line after ``begin``); ValueError when a marker is missing."""
    start, stop = page.find(begin), page.find(end)
    if start < 0 or stop < start:
        raise ValueError(f"the markers {begin!r} … {end!r} are missing")
    return page[: start + len(begin)] + "\n" + generated + page[stop:]
