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

from seqexp import schema
from seqexp.errors import SeqexpError

schema.register()  # the structured-config schemas the conf/ options name in their defaults

# seqexp/conf links to the top-level conf/ in a checkout and is a real folder inside the wheel.
CONF_DIR = Path(__file__).resolve().parent / "conf"

# command -> (module and function run per job, config name, one-line description)
COMMANDS = {
    "train": ("seqexp.train:train", "train", "train one model, or a sweep with -m; writes a run directory"),
    "generate": ("seqexp.generate:generate", "generate",
                 "continue prompts with the best checkpoint of a next-word run"),
    "resume": ("seqexp.resume:resume_command", None,
               "continue an interrupted run in its own directory, from its last finished epoch"),
    # config name None: a plain argparse command, no Hydra app (and no TensorFlow import)
    "summarize": ("seqexp.sweep:summarize_command", None,
                  "rebuild summary.csv/.md and comparison.png of a sweep or a folder of runs"),
}

USAGE = """usage: seqexp <command> [hydra overrides and flags]

commands:
{commands}

train and generate are Hydra apps: `seqexp <command> --help` lists its config groups and
options; -m/--multirun, --cfg job, --info, hydra.run.dir=... and hydra/launcher=... all work.
`seqexp resume <run dir>` continues an interrupted run; `seqexp summarize <dir>` rebuilds a
sweep's summary (each takes --help).
examples:
  seqexp train experiment=smoke
  seqexp train model=lstm_dropout data=jena
  seqexp train -m model=lstm_dropout model.dropout=0.1,0.2,0.3 data.step=3,6
  seqexp resume outputs/2026-01-31/12-00-00-000000_jena_gru
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

        multirun = HydraConfig.get().mode == RunMode.MULTIRUN
        try:
            if module_name == "seqexp.train":
                schema.check(cfg)  # every bad value in one message, before TensorFlow loads
            function = getattr(importlib.import_module(module_name), function_name)
            return function(cfg)
        except KeyboardInterrupt as err:
            from seqexp.interrupt import as_interrupted

            stop = as_interrupted(err)
            print(f"seqexp: interrupted ({stop.reason}); the run directory keeps its history, "
                  "curves, best checkpoint and a metrics.json with status 'interrupted'. "
                  "`seqexp resume <run dir>` continues it.", file=sys.stderr)
            raise SystemExit(stop.exit_code) from None
        except Exception as err:
            if not multirun:
                if not isinstance(err, SeqexpError) or os.environ.get("HYDRA_FULL_ERROR") == "1":
                    raise  # a bug (or a user who asked for the whole story): keep the traceback
                print(f"seqexp: error: {err}", file=sys.stderr)
                raise SystemExit(2) from None
            # In a sweep a failed job must not stop the others: Hydra's sweepers raise after the
            # batch for a job that raised, and skip on_multirun_end (no summary). So the failure
            # goes to the job's metrics.json and the job returns None, which the basic sweeper
            # ignores and the Optuna sweeper records as a FAILED trial. `seqexp` exits 1 after
            # the sweep when any job failed (seqexp.sweep).
            from seqexp.sweep import record_failure

            log.error("Job failed: %s", err, exc_info=not isinstance(err, SeqexpError))
            record_failure(HydraConfig.get().runtime.output_dir, err)
            return None

    return run


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
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"seqexp: error: unknown command {command!r}; choose one of {sorted(COMMANDS)}.\n",
              file=sys.stderr)
        print(usage(), file=sys.stderr)
        return 2
    target, config_name, _ = COMMANDS[command]
    try:
        if config_name is None:  # a plain command: it parses its own arguments
            module_name, function_name = target.split(":")
            return getattr(importlib.import_module(module_name), function_name)(rest)
        if command == "train":
            from seqexp.resume import check_run_dir

            check_run_dir(rest)  # before Hydra writes .hydra/ into the folder
    except SeqexpError as err:
        print(f"seqexp: error: {err}", file=sys.stderr)
        return 2
    run_hydra_app(target, config_name, rest)
    return sweep_exit_code()


def run_hydra_app(target: str, config_name: str, args: list[str]) -> None:
    sys.argv = ["seqexp", *args]  # Hydra parses sys.argv; its completion installs for argv[0]
    app = hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name=config_name)
    app(job_runner(target))()


def complete(argv: list[str]) -> int:
    """Shell completion; `eval "$(seqexp train -sc install=bash)"` installs it.

    The installed shell function runs `seqexp -sc query=bash` with the typed line in COMP_LINE.
    The command word is completed here; after it, the line minus the command word goes to the
    command's Hydra app, which completes config groups, options and keys.
    """
    line = os.environ.get("COMP_LINE", "")
    words = line.split()
    command = words[1] if len(words) > 1 else ""
    if command in COMMANDS and (len(words) > 2 or line.endswith(" ")):
        target, config_name, _ = COMMANDS[command]
        if config_name is not None:
            os.environ["COMP_LINE"] = line.replace(f" {command}", "", 1)
            run_hydra_app(target, config_name, argv)
        return 0
    print(" ".join(name for name in COMMANDS if name.startswith(command)))
    return 0


def sweep_exit_code() -> int:
    """1 when the sweep that just ended in this process had failed jobs (they are listed)."""
    summary = getattr(sys.modules.get("seqexp.sweep"), "LAST_SUMMARY", None)
    if summary is None or not summary.failed:
        return 0
    print(f"seqexp: {len(summary.failed)} of {len(summary.jobs)} jobs failed: "
          + "; ".join(f"{job.name} ({job.status_text})" for job in summary.failed)
          + f". See {summary.root / 'summary.md'}.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
