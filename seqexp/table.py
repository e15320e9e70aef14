"""Tables where people look: a rich table on a terminal, aligned plain text in a pipe or a file
(no box-drawing characters, so `| grep`, `| sort` and `> file` get clean lines), or Markdown.

The one owner of "table on a terminal, plain in a pipe" for every listing: `seqexp runs`,
`seqexp diff`, `seqexp summarize`, the end of a `-m` sweep and `seqexp predict`.
"""

from __future__ import annotations

import io
import shutil
import sys

FORMATS = ("table", "csv", "json", "md")  # what a listing command writes (--format)


def on_terminal(stream=None) -> bool:
    """Whether a person reads `stream` (stdout by default): a table is drawn only then."""
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def render(
    headers: list[str], lines: list[list[str]], form: str, title: str | None = None, terminal: bool = False
) -> str:
    """Text of a table: rich on a terminal, aligned plain text when piped, or Markdown (form md)."""
    if form == "md":
        out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in line) + " |" for line in lines]
        return ("" if title is None else f"**{title}**\n\n") + "\n".join(out) + "\n"
    if terminal:
        from rich.console import Console
        from rich.table import Table

        # The first column (a run's folder, a key) is copied into other commands: never cut or
        # wrapped; long override lists wrap within a bounded width.
        table = Table(title=title, title_justify="left", header_style="bold")
        for i, heading in enumerate(headers):
            first = max([len(heading), *(len(line[0]) for line in lines)]) if i == 0 else None
            table.add_column(
                heading, min_width=first, max_width=60 if heading == "overrides" else None, overflow="fold"
            )
        for line in lines:
            table.add_row(*line)
        console = Console(file=io.StringIO(), force_terminal=True, width=shutil.get_terminal_size().columns)
        console.print(table)
        return console.file.getvalue()
    # a section without rows (runs with no env facts) is its header alone
    widths = [max([len(h), *(len(line[i]) for line in lines)]) for i, h in enumerate(headers)]
    text = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    text += ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    return ("" if title is None else f"{title}\n") + "\n".join(text) + "\n"
