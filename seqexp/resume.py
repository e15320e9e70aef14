"""Resuming an interrupted run in its own run directory.

Keras' `BackupAndRestore` (callbacks.backup) saves weights, optimizer state and the epoch count
after every epoch and restores them when the same command runs again with
`hydra.run.dir=<that run dir>`. This module puts back what Keras does not: the epochs already
done into history.csv, the curves and the best-checkpoint threshold, so a resumed run ends with
the same files as one that was never interrupted. `seqexp resume <run dir>` does that with the
overrides the run started with.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from seqexp.atomic import write_text
from seqexp.errors import SeqexpError

FINISHED = ("completed", "stopped early")  # statuses of a run with nothing left to train


def read_status(run_dir: Path) -> str | None:
    """The status in a run directory's metrics.json (None: no readable metrics.json)."""
    try:
        return json.loads((Path(run_dir) / "metrics.json").read_text()).get("status")
    except (OSError, ValueError, AttributeError):
        return None


def failure_reason(err: BaseException) -> str:
    """How a failure reads in metrics.json: a user error in its own words, else the exception."""
    return str(err) if isinstance(err, SeqexpError) else f"{type(err).__name__}: {err}"


def settle_status(run_dir: Path, status: str, reason: str) -> None:
    """Record how a run ended unless it already did: only a missing or 'running' status is
    replaced, so the reason train wrote, or an earlier finished run, stays as it is."""
    path = Path(run_dir) / "metrics.json"
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError):
        report = {}
    if report.get("status") not in (None, "running"):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps({**report, "status": status, "reason": reason}, indent=2) + "\n")


def refuse_finished(run_dir: Path) -> None:
    """A folder that holds a finished run is never trained over: nothing written is lost."""
    status = read_status(run_dir)
    if status in FINISHED or status == "failed":
        raise SeqexpError(
            f"hydra.run.dir={run_dir} already holds a run that ended with status {status!r} (see "
            f"its metrics.json); training there again would overwrite it. Choose another "
            f"hydra.run.dir, or delete that folder to train it again.")


def epochs_done(backup) -> int:
    """Epochs finished before the interruption, as recorded by BackupAndRestore (0 if none)."""
    meta = Path(backup.backup_dir) / "training_metadata.json"
    return json.loads(meta.read_text())["epoch"] if meta.exists() else 0


def restore_history(history_csv: Path, epochs: int) -> dict[str, list[float]]:
    """The first `epochs` rows of history.csv as {metric: values}. Later rows are dropped: an
    epoch logged after the last backup runs again (the file is rewritten after that epoch)."""
    if epochs == 0 or not history_csv.exists():
        return {}
    with open(history_csv, newline="") as f:
        rows = list(csv.DictReader(f))[:epochs]
    if len(rows) < epochs:
        return {}
    return {key: [float(row[key]) for row in rows] for key in rows[0] if key != "epoch"}


# Flags after which Hydra writes no run directory (or writes sweep directories instead).
NO_RUN_FLAGS = {"--cfg", "-c", "--help", "-h", "--hydra-help", "--info", "-i", "--multirun", "-m",
                "--shell-completion", "-sc"}


def saved_overrides(run_dir: Path) -> list[str] | None:
    """The command-line overrides a run was started with (.hydra/overrides.yaml), or None."""
    import yaml

    path = Path(run_dir) / ".hydra" / "overrides.yaml"
    if not path.exists():
        return None
    return [str(o) for o in yaml.safe_load(path.read_text()) or []]


def task_overrides(args: list[str]) -> list[str]:
    """The overrides of a command line that shape the run (not hydra.*, not flags)."""
    return [a for a in args if not a.startswith(("-", "hydra.", "hydra/", "+hydra", "~hydra"))]


def check_run_dir(args: list[str]) -> None:
    """Before Hydra writes anything: `hydra.run.dir=<dir>` may point at an interrupted run of the
    same overrides (it resumes), but never at a finished run or at another config's run."""
    if {"-m", "--multirun"} & set(args):
        check_sweep_dir(args)
    if NO_RUN_FLAGS & set(args):
        return
    given = [a.split("=", 1)[1] for a in args if a.startswith("hydra.run.dir=")]
    if not given or "${" in given[-1]:
        return
    run_dir = Path(given[-1])
    refuse_finished(run_dir)
    status = read_status(run_dir)
    saved = saved_overrides(run_dir)
    if status is not None and saved is not None and sorted(task_overrides(args)) != sorted(saved):
        raise SeqexpError(
            f"hydra.run.dir={run_dir} holds an {status} run of other overrides "
            f"({' '.join(saved) or 'none'}), not these ({' '.join(task_overrides(args)) or 'none'}). "
            f"Continue it with `seqexp resume {run_dir}`, or choose another hydra.run.dir.")


def check_sweep_dir(args: list[str]) -> None:
    """A sweep never runs into `hydra.sweep.dir=<dir>` that holds finished runs: its jobs would
    land in the same job folders."""
    given = [a.split("=", 1)[1] for a in args if a.startswith("hydra.sweep.dir=")]
    if not given or "${" in given[-1] or "--cfg" in args or "-c" in args:
        return
    finished = sorted(p.parent.name for p in Path(given[-1]).glob("*/metrics.json")
                      if read_status(p.parent) in FINISHED)
    if finished:
        raise SeqexpError(
            f"hydra.sweep.dir={given[-1]} already holds {len(finished)} finished run(s) "
            f"({', '.join(finished[:5])}{', ...' if len(finished) > 5 else ''}); a new sweep there "
            f"would write into the same job folders. Choose another hydra.sweep.dir (the default "
            f"is a new timestamped folder), or delete that one to sweep again.")


def resume_command(argv: list[str]) -> int:
    """`seqexp resume <run dir>`: continue an interrupted run with the overrides it started with."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="seqexp resume",
        description="Continue an interrupted (Ctrl-C, SIGTERM, killed) run in its own directory "
                    "from its last finished epoch, with the config it started with; history.csv, "
                    "the curves and metrics.json continue where they stopped.")
    parser.add_argument("run_dir", type=Path, help="the run directory (it holds .hydra/ and train.log)")
    args = parser.parse_args(argv)
    run_dir = args.run_dir
    overrides = saved_overrides(run_dir)
    if overrides is None:
        raise SeqexpError(f"{run_dir} is not a seqexp run directory: it has no .hydra/overrides.yaml. "
                          "Give the folder of one run (e.g. outputs/<date>/<time>_<data>_<model>).")
    status = read_status(run_dir)
    if status in FINISHED or status == "failed":
        raise SeqexpError(f"{run_dir} has nothing to resume: it ended with status {status!r} (see its "
                          "metrics.json). Start a new run instead.")
    from seqexp.cli import run_hydra_app, sweep_exit_code

    print(f"seqexp: resuming {run_dir} (status {status or 'unknown'}) with: "
          f"{' '.join(overrides) or 'the defaults'}", file=sys.stderr)
    run_hydra_app("seqexp.train:train", "train", [*overrides, f"hydra.run.dir={run_dir}"])
    return sweep_exit_code()
