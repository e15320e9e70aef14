"""`seqexp <command> [overrides]`: each command is a Hydra app over conf/<command>.yaml.

This module imports neither TensorFlow nor Keras, so `seqexp --help`, `seqexp train --help`
and `seqexp train --cfg job` answer in a fraction of a second; the command's own module (and
TensorFlow with it) is imported only when a job actually runs.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from seqexp.errors import SeqexpError

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"

# command -> (module and function run per job, config name, one-line description)
COMMANDS = {
    "train": ("seqexp.train:train", "train", "train one model, or a sweep with -m; writes a run directory"),
    "generate": ("seqexp.generate:generate", "generate",
                 "continue prompts with the best checkpoint of a next-word run"),
}

USAGE = """usage: seqexp <command> [hydra overrides and flags]

commands:
{commands}

Each command is a Hydra app: `seqexp <command> --help` lists its config groups and options;
-m/--multirun, --cfg job, --info, hydra.run.dir=... and hydra/launcher=... all work.
examples:
  seqexp train experiment=smoke
  seqexp train model=lstm_dropout data=jena
  seqexp train -m model=lstm_dropout model.dropout=0.1,0.2,0.3 data.step=3,6
"""

log = logging.getLogger("seqexp")


def usage() -> str:
    lines = [f"  {name:<10} {description}" for name, (_, _, description) in COMMANDS.items()]
    return USAGE.format(commands="\n".join(lines))


def job_runner(target: str):
    """The Hydra task function: import the command lazily, turn user errors into exit code 2."""
    module_name, function_name = target.split(":")

    def run(cfg: DictConfig):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TF's C++ info and warning chatter
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        function = getattr(importlib.import_module(module_name), function_name)
        try:
            return function(cfg)
        except SeqexpError as err:
            log.error("%s", err)
            if HydraConfig.get().mode == RunMode.MULTIRUN:
                raise  # the sweep records this job as failed and goes on
            print(f"seqexp: error: {err}", file=sys.stderr)
            raise SystemExit(2) from None

    return run


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"seqexp: error: unknown command {command!r}; choose one of {sorted(COMMANDS)}.\n",
              file=sys.stderr)
        print(usage(), file=sys.stderr)
        return 2
    target, config_name, _ = COMMANDS[command]
    sys.argv = [f"seqexp-{command}", *rest]  # Hydra parses sys.argv
    app = hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name=config_name)
    app(job_runner(target))()
    return 0


if __name__ == "__main__":
    sys.exit(main())
