"""`seqexp export <run dir> format=saved_model|onnx|litert`: a run's model for serving."""

from __future__ import annotations

from seqexp.cli.hydra_app import HydraApp

DESCRIPTION = "export a run's model with its preprocessing (saved_model, onnx, litert)"
ORDER = 5
APP = HydraApp("seqexp.serve.export:export", "export", run_dir_first=True)


def run(args: list[str]) -> int:
    return APP.run(args)
