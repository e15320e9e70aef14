"""Resuming an interrupted run in its own run directory.

Keras' `BackupAndRestore` (the backup callback) saves weights, optimizer state and the epoch
count after every epoch and restores them when the same config runs again in the same folder.
This module puts back what Keras does not: the epochs already done (history.csv), and with them
the curves and the best-checkpoint threshold, so a resumed run ends with the same files as one
that was never interrupted. A backup whose epochs history.csv does not hold is refused: resuming
from it would number the epochs wrongly and let a worse epoch replace the best checkpoint.
"""

from __future__ import annotations

from pathlib import Path

from seqexp.errors import SeqexpError
from seqexp.readback import DamagedFile, json_object
from seqexp.run.rundir import HISTORY, read_history

METADATA = "training_metadata.json"  # Keras' name, in the backup folder

REPAIR = "Delete the backup folder to train this run again from its first epoch."


def backup_record(backup_dir: str | Path | None) -> dict:
    """The backup's record: {"epoch": epochs finished, "trained": true once fit returned, ...};
    {} when there is no backup."""
    if backup_dir is None:
        return {}
    path = Path(backup_dir) / METADATA
    if not path.exists():
        return {}
    record = json_object(path, {"epoch": int}, fix=REPAIR)
    if record["epoch"] < 0:
        raise DamagedFile(path, f"its epoch is {record['epoch']}, not a count of finished epochs", REPAIR)
    return record


def check_history(run_dir: Path, backup_dir: str | Path | None, monitors=("loss",)) -> None:
    """Before anything is written: the history of every epoch the backup holds is there, with
    the columns `monitors` (the checkpoint's threshold is the best of its column)."""
    done = backup_record(backup_dir).get("epoch", 0)
    if not done:
        return
    history = read_history(run_dir, done)
    missing = [m for m in monitors if m not in history]
    if history and not missing:
        return
    path = Path(run_dir) / HISTORY
    has = "is missing" if not path.exists() else f"lacks {missing}" if history else "holds fewer rows"
    raise SeqexpError(
        f"{run_dir} has a backup after epoch {done}, but {path.name} {has}: resuming would number "
        f"the epochs wrongly and let a worse epoch replace the best checkpoint. Put {path.name} "
        f"back, or delete {backup_dir} to train the run again from epoch 1."
    )


def history_so_far(run_dir: Path, backup) -> tuple[int, dict[str, list[float]]]:
    """(epochs done, their history). Rows logged after the last backup are dropped: that epoch
    runs again (history.csv is rewritten after it)."""
    done = backup_record(backup.backup_dir).get("epoch", 0) if backup is not None else 0
    return done, read_history(run_dir, done)
