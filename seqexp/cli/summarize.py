"""`seqexp summarize <dir>`: rebuild the summary of a sweep or of any folder of runs."""

from __future__ import annotations

import argparse
from pathlib import Path

DESCRIPTION = "rebuild summary.csv/.md and comparison.png of a sweep or a folder of runs"
ORDER = 3


def run(argv: list[str]) -> int:
    from seqexp.summary.sweep import summarize  # matplotlib, only when it runs

    parser = argparse.ArgumentParser(
        prog="seqexp summarize",
        description="Rebuild summary.csv, summary.md and comparison.png for a sweep directory or "
        "any folder of run directories (also after an interrupted sweep).",
    )
    parser.add_argument("dir", type=Path, help="sweep directory or folder of run directories")
    parser.add_argument(
        "--out", type=Path, default=None, help="where to write the summary (default: the directory itself)"
    )
    args = parser.parse_args(argv)
    summary = summarize(args.dir, args.out)
    print((summary.files[1]).read_text())
    print("wrote " + ", ".join(str(p) for p in summary.files))
    return 0
