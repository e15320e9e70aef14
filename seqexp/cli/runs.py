"""`seqexp runs [DIR]`: one table of every run under outputs/ (or DIR), filtered and sorted; and
`seqexp runs tag|note|archive|unarchive|delete|restore|trash|purge ...`, which change runs after
they ran (seqexp.run.manage)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DESCRIPTION = "list every run under outputs/ (or a folder): status, best, test, tags, the book's figure"
ORDER = 4


def parser() -> argparse.ArgumentParser:
    from seqexp.cli._help import command_parser
    from seqexp.table import FORMATS

    p = command_parser(
        "runs",
        "One table of every run directory under DIR (default outputs/): date, data, "
        "model, status, best epoch, monitored best, test metric, wall time, tags, the "
        "book's figure beside ours, and the overrides. Broken folders are listed with "
        "their state. A table on a terminal, plain text in a pipe. After a run, "
        "`seqexp runs tag|note|archive|unarchive|delete|restore|trash|purge` change runs "
        "(`seqexp runs VERB --help` says more); a run folder named like a verb is listed as ./tag.",
        [
            "seqexp runs",
            "seqexp runs tag outputs/2026-01-31/10-00-00-000000_jena_gru +best -draft",
            "seqexp runs delete outputs/2026-01-31/10-00-00-000000_jena_gru   # restore: seqexp runs restore",
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
        "--plot",
        type=Path,
        metavar="PATH",
        help="also write a figure overlaying the validation curves of the runs shown (.png, .pdf, .svg)",
    )
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table (rich on a terminal, plain text when piped), csv, json or md",
    )
    shown = p.add_mutually_exclusive_group()
    shown.add_argument("--archived", action="store_true", help="only the archived runs (hidden by default)")
    shown.add_argument("--all", action="store_true", help="the archived runs too")
    return p


def run(argv: list[str]) -> int:
    from seqexp.errors import SeqexpError
    from seqexp.summary.runs import order, read_runs, runs_text, select
    from seqexp.table import on_terminal

    if argv and argv[0] in VERBS:
        return manage(argv)
    if argv and argv[0].isidentifier() and not Path(argv[0]).exists():  # a mistyped verb, likely
        raise SeqexpError(
            f"{argv[0]!r} is neither a folder of runs nor a verb of `seqexp runs`: give a folder "
            f"(default outputs) or one of {', '.join(VERBS)}."
        )
    args = parser().parse_args(argv)
    if args.limit is not None and args.limit < 1:
        raise SeqexpError(f"--limit {args.limit}: give a number of runs of at least 1.")
    if args.plot is not None:
        from seqexp.summary.comparison import checked_plot_path

        checked_plot_path(args.plot)  # a bad name is refused before anything is printed
    runs = read_runs(args.dir)
    archived = "only" if args.archived else "all" if args.all else "hide"
    chosen = select(runs, args.data, args.model, args.status, args.tag, args.where, archived)
    shown = order(chosen, args.sort)
    shown = shown[: args.limit]
    if not shown and args.format == "table":
        what = "runs" if not runs else "runs match these filters"
        hidden = sum(r.archived for r in runs) if archived == "hide" else 0
        more = f", {hidden} archived: --all shows them" if hidden else ""
        nothing = "; no figure written" if args.plot is not None else ""
        print(
            f"seqexp: no {what} under {args.dir} ({len(runs)} run folder(s) there{more}){nothing}.",
            file=sys.stderr,
        )
        return 0
    extra = None if args.sort in ("date", "wall_time") else args.sort
    try:
        sys.stdout.write(runs_text(shown, args.format, extra, terminal=on_terminal()))
        sys.stdout.flush()
    except BrokenPipeError:  # `seqexp runs | head`
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - nothing more is written
    if args.plot is not None:
        from seqexp.summary.comparison import plot_runs

        plot, missing = plot_runs(shown, args.plot)
        left_out = f"; left out for want of a history.csv: {', '.join(missing)}" if missing else ""
        said = sys.stdout if args.format in ("table", "md") else sys.stderr  # csv and json stay parseable
        print(f"validation curves of {len(shown) - len(missing)} run(s): {plot}{left_out}", file=said)
    return 0


# ---- changing runs after they ran: seqexp runs VERB ... ---------------------------------------

VERBS = ("tag", "note", "archive", "unarchive", "delete", "restore", "trash", "purge")
ROOT_HELP = "the folder of runs RUN names are under and whose .trash is used (default outputs)"


def manage_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="seqexp runs",
        description="Change runs after they ran. RUN is a run folder's path, or its name as "
        "`seqexp runs` lists it under --root. A run a live process holds (run.lock) is refused.",
    )
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    tag = verbs.add_parser(
        "tag",
        usage="seqexp runs tag [-h] [--root ROOT] RUN [RUN ...] +TAG|-TAG [+TAG|-TAG ...]",
        help="add (+name) and remove (-name) tags",
        description="Add (+name) and remove (-name) tags of runs; `seqexp runs` shows the launch "
        "tags with these changes, and --tag filters on them. labels.json in the run folder keeps them.",
    )
    tag.add_argument("runs", nargs="+", metavar="RUN", help="run folders (their path or listed name)")
    note = verbs.add_parser("note", help="set or replace a run's note ('' clears it)")
    note.add_argument("run", metavar="RUN")
    note.add_argument("text", help="the note; '' clears it (the launch note too)")
    for verb, what in (("archive", "hide runs from `seqexp runs`"), ("unarchive", "list them again")):
        sub = verbs.add_parser(
            verb, help=what, description=f"{what[0].upper()}{what[1:]} (`seqexp runs --archived` lists them)."
        )
        sub.add_argument("runs", nargs="+", metavar="RUN")
    delete = verbs.add_parser(
        "delete",
        help="move runs to the trash (ROOT/.trash)",
        description="Move run folders into ROOT/.trash, whence `seqexp runs restore` puts them back "
        "and `seqexp runs purge` deletes them for good.",
    )
    delete.add_argument("runs", nargs="+", metavar="RUN")
    restore = verbs.add_parser(
        "restore",
        help="put a deleted run back where it was",
        description="Put a deleted run back in its place, refused if a folder is there now.",
    )
    restore.add_argument(
        "entry", metavar="RUN", help="the trash entry (`seqexp runs trash`) or the run's old name"
    )
    verbs.add_parser(
        "trash", help="list the trash", description="List the trash: entry, run, when deleted, size."
    )
    purge = verbs.add_parser(
        "purge",
        help="delete the trash for good",
        description="Delete trash entries for good: all, or those deleted longer ago than --older-than. "
        "Asks on a terminal; elsewhere it needs --yes.",
    )
    purge.add_argument(
        "--older-than", metavar="AGE", help="only entries deleted longer ago: 30m, 12h, 7d, 2w"
    )
    purge.add_argument("--yes", action="store_true", help="do not ask")
    for sub in verbs.choices.values():
        sub.add_argument("--root", type=Path, default=Path("outputs"), help=ROOT_HELP)
    return p


def tag_changes(argv: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(the other arguments, tags to add, tags to remove): +name and -name are not options."""
    rest, add, remove = [], [], []
    for word in argv:
        if len(word) > 1 and word[0] == "+":
            add.append(word[1:])
        elif len(word) > 1 and word[0] == "-" and word[1] != "-" and word != "-h":
            remove.append(word[1:])
        else:
            rest.append(word)
    return rest, add, remove


def manage(argv: list[str]) -> int:
    from seqexp.errors import SeqexpError
    from seqexp.run import manage

    add, remove = [], []
    if argv[0] == "tag":
        argv, add, remove = tag_changes(argv)
    args = manage_parser().parse_args(argv)
    root = args.root
    if args.verb in ("tag", "note", "archive", "unarchive", "delete"):
        named = [manage.find_run(r, root) for r in getattr(args, "runs", None) or [args.run]]
        run_dirs = list({d.resolve(): d for d in named}.values())  # a run named twice: once
        manage.refuse_running(run_dirs, args.verb)
    if args.verb == "tag":
        if not add and not remove:
            raise SeqexpError("runs tag: give tags to add (+name) or remove (-name), e.g. +best -draft.")
        for run_dir in run_dirs:
            print(f"{run_dir}: tags {','.join(manage.tag(run_dir, add, remove)) or '(none)'}")
    elif args.verb == "note":
        run_dir = run_dirs[0]
        manage.note(run_dir, args.text)
        print(f"{run_dir}: note {args.text!r}" if args.text else f"{run_dir}: note cleared")
    elif args.verb in ("archive", "unarchive"):
        for run_dir in run_dirs:
            manage.archive(run_dir, args.verb == "archive")
            print(f"{run_dir}: {args.verb}d")
    elif args.verb == "delete":
        for run_dir in run_dirs:
            entry = manage.delete(run_dir, root)
            print(f"{run_dir}: moved to {entry.path} (`seqexp runs restore {entry.name}` puts it back)")
    elif args.verb == "restore":
        print(f"restored {manage.restore(args.entry, root)}")
    elif args.verb == "trash":
        return list_trash(root)
    else:
        return purge(root, args.older_than, args.yes)
    return 0


def list_trash(root: Path) -> int:
    from seqexp.run.trash import entries
    from seqexp.table import on_terminal, render

    found = entries(root)
    if not found:
        print(f"seqexp: the trash of {root} is empty.", file=sys.stderr)
        return 0
    lines = [
        [
            e.name,
            e.original or "?",
            e.deleted.isoformat(" ", "seconds") if e.deleted else "?",
            f"{e.size():,}",
        ]
        for e in found
    ]
    sys.stdout.write(render(["entry", "run", "deleted", "bytes"], lines, "table", terminal=on_terminal()))
    return 0


def purge(root: Path, older_than: str | None, yes: bool) -> int:
    from seqexp.errors import SeqexpError
    from seqexp.run import manage
    from seqexp.run.trash import purge as purge_entry

    age = manage.older_than(older_than) if older_than else None
    doomed = manage.purgeable(root, age)
    what = f"{len(doomed)} trash entr{'y' if len(doomed) == 1 else 'ies'} ({manage.disk_use(doomed)})"
    if not doomed:
        print(f"seqexp: nothing to purge in {root}/.trash.", file=sys.stderr)
        return 0
    if not yes:
        if not sys.stdin.isatty():
            raise SeqexpError(
                f"purge would delete {what} for good; give --yes to do it (there is no terminal to ask)."
            )
        answer = input(f"Delete {what} under {root}/.trash for good? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing deleted.")
            return 1
    for entry in doomed:
        purge_entry(entry)
    print(f"purged {what}")
    return 0
