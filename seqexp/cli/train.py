"""`seqexp train [overrides]`: one run directory, or a sweep with -m."""

from __future__ import annotations

from seqexp.cli.hydra_app import HydraApp
from seqexp.run.rundir import check_run_dir

DESCRIPTION = "train one model, or a sweep with -m; writes a run directory"
ORDER = 0
APP = HydraApp("seqexp.run.train:train", "train", check="seqexp.config.checks:check")


def run(args: list[str]) -> int:
    check_run_dir(args)  # before Hydra writes .hydra/ into the folder
    return APP.run(args)
