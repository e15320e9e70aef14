"""Resuming an interrupted run in its own run directory.

Keras' `BackupAndRestore` (the backup callback) saves weights, optimizer state and the epoch
count after every epoch and restores them when the same config runs again in the same folder.
This module puts back what Keras does not: the epochs already done (history.csv), and with them
the curves and the best-checkpoint threshold, so a resumed run ends with the same files as one
that was never interrupted.
"""

from __future__ import annotations

from pathlib import Path

from seqexp.readback import DamagedFile, json_object
from seqexp.run.rundir import read_history

REPAIR = "Delete the backup folder to train this run again from its first epoch."


def epochs_done(backup) -> int:
    """Epochs finished before the interruption, as recorded by BackupAndRestore (0 if none)."""
    meta = Path(backup.backup_dir) / "training_metadata.json"
    if not meta.exists():
        return 0
    epoch = json_object(meta, {"epoch": int}, fix=REPAIR)["epoch"]
    if epoch < 0:
        raise DamagedFile(meta, f"its epoch is {epoch}, not a count of finished epochs", REPAIR)
    return epoch


def history_so_far(run_dir: Path, backup) -> tuple[int, dict[str, list[float]]]:
    """(epochs done, their history). Rows logged after the last backup are dropped: that epoch
    runs again (history.csv is rewritten after it)."""
    done = epochs_done(backup) if backup is not None else 0
    return done, read_history(run_dir, done)
