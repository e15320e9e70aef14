"""`seqexp generate <run dir> prompt=...`: continue prompts with a next-word run's model."""

from __future__ import annotations

from seqexp.cli.hydra_app import HydraApp

DESCRIPTION = "continue prompts with the best checkpoint of a next-word run"
ORDER = 1
APP = HydraApp("seqexp.text.generate:generate", "generate", run_dir_first=True)


def run(args: list[str]) -> int:
    return APP.run(args)
