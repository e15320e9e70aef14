"""Pruning pays: the same 16-trial search on synthetic Jena with pruner=none and pruner=hyperband,
wall time and best value of each (docs/sweeps.md quotes the numbers).

    python -m benchmarks.search_pruning [--out /tmp/pruning] [--trials 16] [--epochs 6]

A tiny LSTM, 8 steps per epoch, one worker: a few minutes on two cores. Same seed, same sampler,
so both searches start from the same random trials; only the pruner differs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from seqexp.data.synthetic import synthetic_weather, write_jena_csv

SETTINGS = ["data.split.train=[0,4000]", "data.split.val=[4000,5000]", "data.split.test=[5000,null]",
            "data.lookback=240", "data.step=6", "data.delay=12", "trainer.batch_size=32",
            "trainer.steps_per_epoch=8", "trainer.validation_steps=4", "trainer.test_steps=4",
            "trainer.verbose=0", "callbacks.tensorboard.enabled=false",
            "callbacks.early_stopping.enabled=false", "trainer.threads=1"]  # fmt: skip


def search(out: Path, csv: Path, pruner: str, trials: int, epochs: int) -> dict:
    root = out / pruner
    command = [str(Path(sys.executable).with_name("seqexp")), "search", "hparams_search=recurrent_tpe",
               "model=lstm_dropout", f"data.path={csv}", *SETTINGS, f"trainer.epochs={epochs}",
               f"hparams_search.pruner={pruner}", f"hparams_search.n_trials={trials}",
               f"hydra.sweep.dir={root}"]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    wall = time.perf_counter() - started
    results = yaml.safe_load((root / "optimization_results.yaml").read_text())
    return {"pruner": pruner, "wall_s": wall, "best_value": results["best_value"],
            "trials": results["trials"]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("outputs/bench_pruning"))
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=6)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    csv = write_jena_csv(args.out / "jena_climate_2009_2016.csv", synthetic_weather(6000, seed=7))
    for pruner in ("none", "hyperband"):
        row = search(args.out, csv, pruner, args.trials, args.epochs)
        print(
            f"pruner={row['pruner']:<10} wall {row['wall_s']:6.1f} s  best val_loss "
            f"{row['best_value']:.4f}  trials {row['trials']}",
            flush=True,
        )


if __name__ == "__main__":
    main()
