"""`seqexp diff RUN_A RUN_B`: the composed-config keys that differ, metrics and environment side by side."""

from __future__ import annotations

import os
import sys
from pathlib import Path

DESCRIPTION = "compare two run directories: config keys that differ, metrics and versions side by side"
ORDER = 5


def run(argv: list[str]) -> int:
    from seqexp.cli._help import command_parser
    from seqexp.summary.comparison import plot_diff
    from seqexp.summary.diff import diff_text, open_run
    from seqexp.table import FORMATS, on_terminal

    p = command_parser(
        "diff",
        "Compare two run directories: the keys of their composed configs (.hydra/config.yaml) "
        "that differ, then their metrics and their environment (git commit, package versions, "
        "devices, seed) side by side. A table on a terminal, plain text in a pipe.",
        [
            "seqexp diff outputs/2026-01-31/10-00-00-000000_jena_gru outputs/2026-02-01/jena_lstm",
            "seqexp diff RUN_A RUN_B --format json | jq .config",
        ],
    )
    p.add_argument("run_a", type=Path, help="a run directory (as `seqexp runs` lists them)")
    p.add_argument("run_b", type=Path, help="the run directory to compare it with")
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table (rich on a terminal, plain text when piped), csv (section,key,a,b), json or md",
    )
    p.add_argument(
        "--plot",
        type=Path,
        metavar="PATH",
        help="where to write the figure of both runs' training and validation curves "
        "(default: diff_<A>_<B>.png in the current folder, named by the run folders)",
    )
    args = p.parse_args(argv)
    a, b = open_run(args.run_a), open_run(args.run_b)
    plot, notes = plot_diff(a, b, args.plot)
    for note in notes:
        print(f"seqexp: {note}", file=sys.stderr)
    try:
        sys.stdout.write(diff_text(a, b, args.format, terminal=on_terminal(), plot=plot))
        sys.stdout.flush()
    except BrokenPipeError:  # `seqexp diff | head`
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - nothing more is written
    return 0
