"""`seqexp <command> [arguments]`: one module of this package per command.

A command module defines DESCRIPTION (one line for `seqexp --help`), ORDER (its place in that
list) and `run(args) -> exit code`; Hydra commands (train, predict, export, generate) also define
APP (seqexp.cli.hydra_app.HydraApp) for shell completion; hydra_app runs them, __main__ is
`python -m seqexp.cli`; _help gives the argparse commands the one help layout. Commands are
found by listing this package (modules without a leading _), so adding one is adding a module.
Nothing here imports TensorFlow: `seqexp --help`, `seqexp train --help` and `seqexp train --cfg job`
answer in a fraction of a second.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys

from seqexp.errors import SeqexpError

USAGE = """usage: seqexp <command> [run or sweep dir] [key=value ...] [flags]

Train, search, resume and compare deep-learning runs on sequences, text and images. A command
that reads a run or sweep directory takes it as its first argument (`seqexp predict RUN
input=x.csv`, `seqexp diff RUN_A RUN_B`); every setting is key=value (Hydra commands: train,
predict, export, generate) or --option (the others). Every command takes --help.

commands:
{commands}

examples:
  seqexp train experiment=smoke
  seqexp train -m model=lstm_dropout model.dropout=0.1,0.2,0.3 data.step=3,6
  seqexp search hparams_search=recurrent_tpe model=lstm_dropout hparams_search.n_trials=30
  seqexp resume outputs/2026-01-31/12-00-00-000000_jena_gru
  seqexp runs --data jena --sort val_mae --limit 5
  seqexp predict outputs/2026-01-31/12-00-00-000000_jena_gru input=new_rows.csv
"""


def commands() -> dict:
    """{name: module} of every command module of this package, in their ORDER."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):  # __main__ runs `seqexp` when imported
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "run") and hasattr(module, "DESCRIPTION"):
            found.append(module)
    found.sort(key=lambda m: (getattr(m, "ORDER", 99), m.__name__))
    return {m.__name__.rsplit(".", 1)[-1]: m for m in found}


def command(name: str):
    """The module of one command, or None: only that module is imported, so a command that reads
    run directories (`seqexp runs`) does not pay for Hydra's import."""
    names = {info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")}
    if name not in names:
        return None
    module = importlib.import_module(f"{__name__}.{name}")
    return module if hasattr(module, "run") and hasattr(module, "DESCRIPTION") else None


def usage() -> str:
    lines = [f"  {name:<10} {m.DESCRIPTION}" for name, m in commands().items()]
    return USAGE.format(commands="\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        try:
            print(usage())
        except BrokenPipeError:  # `seqexp --help | head`
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - nothing more is written
        return 0 if argv else 2
    if argv[0] in ("-sc", "--shell-completion"):
        return complete(argv)
    name, rest = argv[0], argv[1:]
    module = command(name)
    if module is None:
        print(
            f"seqexp: error: unknown command {name!r}; choose one of {sorted(commands())}.\n", file=sys.stderr
        )
        print(usage(), file=sys.stderr)
        return 2
    try:
        return module.run(rest)
    except BrokenPipeError:  # `seqexp train --help | head`: the reader has all it wanted
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - nothing more is written
        return 0
    except SeqexpError as err:  # a user error before any job ran (jobs report their own)
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise  # the user asked for the whole story
        print(f"seqexp: error: {err}", file=sys.stderr)
        return 2


def complete(argv: list[str]) -> int:
    """Shell completion; `eval "$(seqexp train -sc install=bash)"` installs it.

    The installed shell function runs `seqexp -sc query=bash` with the typed line in COMP_LINE.
    The command word is completed here; after it, the line minus the command word goes to the
    command's Hydra app, which completes config groups, options and keys.
    """
    line = os.environ.get("COMP_LINE", "")
    words = line.split()
    command = words[1] if len(words) > 1 else ""
    table = commands()
    if command in table and (len(words) > 2 or line.endswith(" ")):
        app = getattr(table[command], "APP", None)
        if app is not None:
            os.environ["COMP_LINE"] = line.replace(f" {command}", "", 1)
            app.run(argv)
        return 0
    print(" ".join(name for name in table if name.startswith(command)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
