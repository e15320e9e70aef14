"""A backup is resumed only with the history of every epoch it holds (seqexp.run.resume): from
the first backup on, a missing or short history.csv is refused before anything is written."""

from __future__ import annotations

import json

import pytest

from seqexp.errors import SeqexpError
from seqexp.run.resume import check_history, history_so_far


def backup_after(tmp_path, epochs: int):
    backup = tmp_path / "backup"
    backup.mkdir()
    (backup / "training_metadata.json").write_text(json.dumps({"epoch": epochs}))
    return backup


@pytest.mark.parametrize("epochs", [1, 2])
def test_a_backup_without_its_history_is_refused(tmp_path, epochs):
    backup = backup_after(tmp_path, epochs)
    with pytest.raises(SeqexpError, match=rf"a backup after epoch {epochs}, but history.csv is missing"):
        check_history(tmp_path, backup)
    (tmp_path / "history.csv").write_text(
        "epoch,loss\n" + "".join(f"{e},0.{9 - e}\n" for e in range(epochs - 1))
    )
    with pytest.raises(SeqexpError, match=r"history.csv holds fewer rows"):
        check_history(tmp_path, backup)
    with open(tmp_path / "history.csv", "a") as f:
        f.write(f"{epochs - 1},0.5\n")
    check_history(tmp_path, backup)  # every epoch the backup holds: resumable
    with pytest.raises(SeqexpError, match=r"history.csv lacks \['val_loss'\]"):
        check_history(tmp_path, backup, monitors=("loss", "val_loss"))


def test_rows_after_the_last_backup_are_dropped(tmp_path):
    backup = backup_after(tmp_path, 2)
    (tmp_path / "history.csv").write_text("epoch,loss\n0,0.9\n1,0.8\n2,0.7\n")

    class Backup:
        backup_dir = backup

    assert history_so_far(tmp_path, Backup()) == (2, {"loss": [0.9, 0.8]})
    assert check_history(tmp_path, None) is None  # no backup: nothing to check
