"""Resuming an interrupted run in its own run directory.

Keras' `BackupAndRestore` (callbacks.backup) saves weights, optimizer state and the epoch count
after every epoch and restores them when the same command runs again with
`hydra.run.dir=<that run dir>`. This module puts back what Keras does not: the epochs already
done into history.csv, the curves and the best-checkpoint threshold, so a resumed run ends with
the same files as one that was never interrupted.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path


def epochs_done(backup) -> int:
    """Epochs finished before the interruption, as recorded by BackupAndRestore (0 if none)."""
    meta = Path(backup.backup_dir) / "training_metadata.json"
    return json.loads(meta.read_text())["epoch"] if meta.exists() else 0


def restore_history(history_csv: Path, epochs: int) -> dict[str, list[float]]:
    """The first `epochs` rows of history.csv as {metric: values}; the file is cut to them, since
    an epoch logged after the last backup will run again."""
    if epochs == 0 or not history_csv.exists():
        return {}
    with open(history_csv, newline="") as f:
        rows = list(csv.DictReader(f))[:epochs]
    if len(rows) < epochs:
        return {}
    with open(history_csv, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return {key: [float(row[key]) for row in rows] for key in rows[0] if key != "epoch"}
