"""`seqexp train [overrides]`: one run directory, or a sweep with -m."""

from __future__ import annotations

from seqexp.cli.hydra_app import HydraApp
from seqexp.errors import SeqexpError

DESCRIPTION = "train one model, or a sweep with -m; writes a run directory"
ORDER = 0
# train() checks its config itself; the CLI runs the same check first, before TensorFlow is imported
APP = HydraApp("seqexp.run.train:train", "train", check="seqexp.config.checks:check")


def run(args: list[str]) -> int:
    search = [a for a in args if a.startswith("hparams_search=") and a != "hparams_search=null"]
    if search:
        raise SeqexpError(
            f"{search[0]} is a search: run it with `seqexp search {' '.join(args)}` "
            "(Optuna, with pruning, resume and parallel workers; docs/sweeps.md)."
        )
    # hydra.run.dir / hydra.sweep.dir are checked by seqexp.run.guard, resolved, before Hydra writes
    return APP.run(args)
