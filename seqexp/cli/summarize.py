"""`seqexp summarize <dir>`: rebuild the summary of a sweep or of any folder of runs."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from seqexp.cli._help import command_parser
from seqexp.errors import SeqexpError, disk_failure, disk_message

DESCRIPTION = "rebuild summary.csv/.md and comparison.png of a sweep or a folder of runs"
ORDER = 3


def run(argv: list[str]) -> int:
    from seqexp.summary.sweep import summarize, summary_text  # matplotlib, only when it runs
    from seqexp.table import FORMATS, on_terminal

    parser = command_parser(
        "summarize",
        "Rebuild summary.csv, summary.md and comparison.png for a sweep directory or any folder of "
        "run directories (also after an interrupted sweep), and print the summary: a table on a "
        "terminal, plain text in a pipe.",
        [
            "seqexp summarize outputs/multirun/2026-01-31/12-00-00-000000",
            "seqexp summarize outputs/2026-01-31 --output reports/jan31",
            "seqexp summarize outputs/multirun/2026-01-31/12-00-00-000000 --format json | jq '.[0]'",
        ],
    )
    parser.add_argument("dir", type=Path, help="sweep directory or folder of run directories")
    parser.add_argument(
        "--output", type=Path, default=None, help="folder to write the summary into (default: DIR itself)"
    )
    parser.add_argument("--out", dest="output", type=Path, help=argparse.SUPPRESS)  # its old name
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="what is printed: table (rich on a terminal, plain text when piped), csv (summary.csv), "
        "json (its rows) or md (summary.md)",
    )
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
    if args.format != "table":  # stdout holds the document alone
        print("seqexp: wrote " + ", ".join(str(p) for p in summary.files), file=sys.stderr)
    try:
        sys.stdout.write(document(summary, args.format) or summary_text(summary, terminal=on_terminal()))
        sys.stdout.flush()
    except BrokenPipeError:  # `seqexp summarize DIR | head`
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - nothing more is written
    return 0


def document(summary, form: str) -> str | None:
    """The summary as csv, json or md (what summary.csv and summary.md hold); None for table."""
    if form == "json":
        from seqexp.summary.sweep import csv_rows

        return json.dumps(csv_rows(summary), indent=2, default=str) + "\n"
    return {"csv": summary.files[0], "md": summary.files[1]}[form].read_text() if form != "table" else None
