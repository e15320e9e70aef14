"""`seqexp runs [DIR]`: one table of every run under outputs/ (or DIR), filtered and sorted."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DESCRIPTION = "list every run under outputs/ (or a folder): status, best, test, tags, the book's figure"
ORDER = 4


def parser() -> argparse.ArgumentParser:
    from seqexp.cli._help import command_parser
    from seqexp.summary.runs import FORMATS

    p = command_parser(
        "runs",
        "One table of every run directory under DIR (default outputs/): date, data, "
        "model, status, best epoch, monitored best, test metric, wall time, tags, the "
        "book's figure beside ours, and the overrides. Broken folders are listed with "
        "their state. A table on a terminal, plain text in a pipe.",
        [
            "seqexp runs",
            "seqexp runs outputs --data jena --sort val_mae --limit 5",
            "seqexp runs --where 'model.dropout>0.1' --format csv > runs.csv",
        ],
    )
    p.add_argument(
        "dir", nargs="?", type=Path, default=Path("outputs"), help="folder of runs (default outputs)"
    )
    p.add_argument("--data", action="append", default=[], help="only runs of this data option (repeatable)")
    p.add_argument("--model", action="append", default=[], help="only runs of this model option (repeatable)")
    p.add_argument(
        "--status",
        action="append",
        default=[],
        help="only runs with this status: completed, 'stopped early', failed, interrupted, "
        "running, 'no metrics.json', 'unreadable metrics.json', 'unreadable folder' (repeatable)",
    )
    p.add_argument(
        "--tag", action="append", default=[], help="only runs with this tag (repeatable: all of them)"
    )
    p.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="KEY OP VALUE",
        help="a test on the composed config, e.g. 'model.dropout>0.1' (repeatable: all of them)",
    )
    p.add_argument(
        "--sort",
        default="date",
        help="date (newest first, the default), wall_time, or a metric: val_loss, test_mae "
        "(test_<name> is the test split's), best first",
    )
    p.add_argument("--limit", type=int, default=None, help="show the first N runs after sorting")
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table (rich on a terminal, plain text when piped), csv, json or md",
    )
    return p


def run(argv: list[str]) -> int:
    from seqexp.errors import SeqexpError
    from seqexp.summary.runs import order, read_runs, runs_text, select
    from seqexp.table import on_terminal

    args = parser().parse_args(argv)
    if args.limit is not None and args.limit < 1:
        raise SeqexpError(f"--limit {args.limit}: give a number of runs of at least 1.")
    runs = read_runs(args.dir)
    shown = order(select(runs, args.data, args.model, args.status, args.tag, args.where), args.sort)
    shown = shown[: args.limit]
    if not shown and args.format == "table":
        what = "runs" if not runs else "runs match these filters"
        print(f"seqexp: no {what} under {args.dir} ({len(runs)} run folder(s) there).", file=sys.stderr)
        return 0
    extra = None if args.sort in ("date", "wall_time") else args.sort
    try:
        sys.stdout.write(runs_text(shown, args.format, extra, terminal=on_terminal()))
        sys.stdout.flush()
    except BrokenPipeError:  # `seqexp runs | head`
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - nothing more is written
    return 0
