"""How long `seqexp runs` takes over 1,000 run directories (issue 16: well under a second).

    python -m benchmarks.runs_table [--runs 1000] [--repeats 5]

Builds the run directories once in a temporary folder, each as `seqexp train` leaves it
(metrics.json, env.json, history.csv, train.log, .hydra/config.yaml and overrides.yaml, an
empty checkpoints/), with the real composed config of `experiment=jena_gru`, then times
`seqexp runs` in a fresh process as a user runs it: the plain table, a metric sort, and a
`--where` filter (which also reads every .hydra/config.yaml). Prints the medians in seconds.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import tempfile
import time
from pathlib import Path

import yaml

from benchmarks.stats import quiet_env, seqexp_command, summary


def composed_config() -> str:
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from seqexp.config import CONF_DIR

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return OmegaConf.to_yaml(compose("train", overrides=["experiment=jena_gru"]))


def make_runs(root: Path, count: int, seed: int = 0) -> None:
    """`count` run directories of a month of sweeps: outputs/<date>/<time>_jena_gru."""
    rng = random.Random(seed)
    config = composed_config()
    for i in range(count):
        run = root / f"2026-01-{1 + i % 28:02d}" / f"{i // 28:02d}-00-00-{i:06d}_jena_gru"
        (run / ".hydra").mkdir(parents=True)
        (run / "checkpoints").mkdir()
        dropout = rng.choice([0.0, 0.1, 0.2, 0.3])
        overrides = ["experiment=jena_gru", f"model.dropout={dropout}"]
        val = [0.5 - 0.01 * e - rng.random() * 0.05 for e in range(20)]
        best_epoch = min(range(20), key=val.__getitem__)
        metrics = {
            "data": "jena", "model": "gru", "tags": ["sweep"], "note": None,
            "reference": {"metric": "val_mae", "value": 0.2644, "source": "DLwP 1st ed. 6.3.5",
                          "ours": val[best_epoch], "difference": val[best_epoch] - 0.2644},
            "env": {"started": f"2026-01-{1 + i % 28:02d}T{i // 28:02d}:00:00+00:00", "git_commit": "0" * 40,
                    "git_dirty": False, "python": "3.11.7", "tensorflow": "2.21.0", "seed": 0},
            "task": "regression", "monitor": "val_loss", "mode": "min", "status": "completed", "reason": None,
            "best_epoch": best_epoch + 1, "epochs_run": 20, "weights": "best checkpoint",
            "best": {"loss": 0.3, "mae": 0.3, "val_loss": val[best_epoch], "val_mae": val[best_epoch]},
            "test": {"loss": val[best_epoch] + 0.01, "mae": val[best_epoch] + 0.01},
            "wall_time_s": 600 + rng.random() * 60,
        }  # fmt: skip
        (run / "metrics.json").write_text(json.dumps(metrics, indent=2))
        (run / "env.json").write_text(json.dumps({"overrides": overrides, "versions": {"python": "3.11.7"}}))
        (run / ".hydra" / "config.yaml").write_text(config.replace("dropout: 0.0", f"dropout: {dropout}"))
        (run / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
        history = "epoch,loss,mae,val_loss,val_mae\n" + "".join(
            f"{e},0.3,0.3,{v},{v}\n" for e, v in enumerate(val)
        )
        (run / "history.csv").write_text(history)
        (run / "train.log").write_text("[...] Composed config: ...\n")


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=quiet_env())
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "outputs"
        make_runs(root, args.runs)
        runs = [*seqexp_command(), "runs", str(root)]
        cases = {
            "help (interpreter + CLI start-up)": [*seqexp_command(), "--help"],
            "runs": runs,
            "runs --sort val_mae --limit 10": [*runs, "--sort", "val_mae", "--limit", "10"],
            "runs --where 'model.dropout>0.1' --format csv": [*runs, "--where", "model.dropout>0.1",
                                                              "--format", "csv"],
        }  # fmt: skip
        timed(runs)  # warm the file cache: a user lists runs that are on disk already
        results = {name: summary(timed(cmd) for _ in range(args.repeats)) for name, cmd in cases.items()}
    print(f"{args.runs} run directories, {args.repeats} repeats, wall time of a fresh process (s):")
    for name, stats in results.items():
        print(f"  {name:<48} median {stats['median']:.3f}  (min {stats['min']:.3f}, max {stats['max']:.3f})")


if __name__ == "__main__":
    main()
