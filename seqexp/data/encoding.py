"""Where a file that should be UTF-8 text first stops being it, for error messages."""

from __future__ import annotations

from collections.abc import Iterable


def first_non_utf8_line(lines: Iterable[bytes]) -> str | None:
    """'line N is not UTF-8 (reason at byte B of the line)' for the first bad line, or None."""
    for number, line in enumerate(lines, start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as err:
            return f"line {number} is not UTF-8 ({err.reason} at byte {err.start} of the line)"
    return None
