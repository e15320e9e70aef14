"""One look for `seqexp <command> --help` in the argparse commands (runs, diff, summarize,
resume): `usage: seqexp <command> ...`, one paragraph that says what it does, its arguments and
options, then examples: the layout the Hydra commands' help template (conf/<command>.yaml,
conf/hydra/default.yaml), search's own text (it passes its arguments on to Hydra) and
`seqexp --help` have too."""

from __future__ import annotations

import argparse
import shutil
import textwrap

WIDTH = 95  # at most; narrower on a narrower terminal, as argparse wraps its own lines


def command_parser(command: str, description: str, examples: list[str]) -> argparse.ArgumentParser:
    return argparse.ArgumentParser(
        prog=f"seqexp {command}",
        description=textwrap.fill(
            " ".join(description.split()), min(WIDTH, shutil.get_terminal_size().columns - 2)
        ),
        epilog="examples:\n" + "\n".join(f"  {line}" for line in examples),
        formatter_class=argparse.RawDescriptionHelpFormatter,  # the examples keep their lines
    )
