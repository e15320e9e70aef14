"""`seqexp summarize <dir>`: rebuild the summary of a sweep or of any folder of runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from seqexp.errors import SeqexpError, disk_failure, disk_message

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
    if args.out is not None:
        for path in (args.out, *args.out.parents):
            if path.exists() and not path.is_dir():
                raise SeqexpError(
                    f"--out {args.out} is not a folder ({path} is a file, which is left as it is); give "
                    "a folder for summary.csv, summary.md and comparison.png (it is created if missing), "
                    f"or leave --out out to write them into {args.dir}."
                )
    try:
        summary = summarize(args.dir, args.out)
    except OSError as err:  # a full disk or an unwritable folder: one sentence, exit code 1
        problem = disk_failure(err)
        if problem is None:
            raise
        print(f"seqexp: error: {disk_message(problem)}", file=sys.stderr)
        return 1
    print((summary.files[1]).read_text())
    print("wrote " + ", ".join(str(p) for p in summary.files))
    return 0
