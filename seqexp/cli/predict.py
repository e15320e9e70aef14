"""`seqexp predict <run dir> input=<path>`: a trained run's model on new inputs."""

from __future__ import annotations

from seqexp.cli.hydra_app import HydraApp

DESCRIPTION = "predict on new inputs (csv, text, images) with a run's best checkpoint"
ORDER = 4
APP = HydraApp("seqexp.serve.predict:predict", "predict", run_dir_first=True)


def run(args: list[str]) -> int:
    return APP.run(args)
