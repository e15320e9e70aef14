"""`seqexp summarize <dir>`: rebuild the summary of a sweep or of any folder of runs."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from seqexp.cli._help import command_parser
from seqexp.errors import SeqexpError, disk_failure, disk_message

DESCRIPTION = "rebuild summary.csv/.md and comparison.png of a sweep or a folder of runs"
ORDER = 3


def run(argv: list[str]) -> int:
    from seqexp.summary.sweep import summarize, summary_text  # matplotlib, only when it runs
    from seqexp.table import on_terminal

    parser = command_parser(
        "summarize",
        "Rebuild summary.csv, summary.md and comparison.png for a sweep directory or any folder of "
        "run directories (also after an interrupted sweep), and print the summary: a table on a "
        "terminal, plain text in a pipe.",
        [
            "seqexp summarize outputs/multirun/2026-01-31/12-00-00-000000",
            "seqexp summarize outputs/2026-01-31 --output reports/jan31",
        ],
    )
    parser.add_argument("dir", type=Path, help="sweep directory or folder of run directories")
    parser.add_argument(
        "--output", type=Path, default=None, help="folder to write the summary into (default: DIR itself)"
    )
    parser.add_argument("--out", dest="output", type=Path, help=argparse.SUPPRESS)  # its old name
    args = parser.parse_args(argv)
    if args.output is not None:
        for path in (args.output, *args.output.parents):
            if path.exists() and not path.is_dir():
                raise SeqexpError(
                    f"--output {args.output} is not a folder ({path} is a file, which is left as it is); "
                    "give a folder for summary.csv, summary.md and comparison.png (it is created if "
                    f"missing), or leave --output out to write them into {args.dir}."
                )
    try:
        summary = summarize(args.dir, args.output)
    except OSError as err:  # a full disk or an unwritable folder: one sentence, exit code 1
        problem = disk_failure(err)
        if problem is None:
            raise
        print(f"seqexp: error: {disk_message(problem)}", file=sys.stderr)
        return 1
    try:
        sys.stdout.write(summary_text(summary, terminal=on_terminal()))
        sys.stdout.flush()
    except BrokenPipeError:  # `seqexp summarize DIR | head`
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - nothing more is written
    return 0
