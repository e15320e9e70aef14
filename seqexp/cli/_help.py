"""One look for `seqexp <command> --help` in the argparse commands (runs, diff, summarize,
resume, search): `usage: seqexp <command> ...`, one paragraph that says what it does, its
arguments and options, then examples — the layout the Hydra commands' help template
(conf/<command>.yaml, conf/hydra/default.yaml) and `seqexp --help` have too."""

from __future__ import annotations

import argparse
import textwrap

WIDTH = 95


def command_parser(command: str, description: str, examples: list[str]) -> argparse.ArgumentParser:
    return argparse.ArgumentParser(
        prog=f"seqexp {command}",
        description=textwrap.fill(" ".join(description.split()), WIDTH),
        epilog="examples:\n" + "\n".join(f"  {line}" for line in examples),
        formatter_class=argparse.RawDescriptionHelpFormatter,  # the examples keep their lines
    )
