"""seqexp.atomic, tested directly: the old file or the new one, never a torn one, across a crash
between the write and the rename, a failing write, and a power loss (fsync order).

The run directory's own writers (metrics.json, history.csv, the backup's epoch record) are
checked the same way: a crash just before their rename leaves the old content.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from seqexp import atomic
from seqexp.atomic import replacing, write_text
from seqexp.run.record import RunRecord, write_record
from seqexp.run.rundir import read_history, read_metrics, write_history


def crash_at_rename(monkeypatch) -> None:
    """The process 'dies' between the write and the rename: os.replace never happens."""

    def die(src, dst):
        raise OSError("killed before the rename")

    monkeypatch.setattr(atomic.os, "replace", die)


def test_write_text_replaces_the_file(tmp_path):
    path = tmp_path / "a.json"
    path.write_text("old")
    assert write_text(path, "new ünïcode") == path
    assert path.read_text(encoding="utf-8") == "new ünïcode"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]  # the temp name is gone


def test_a_write_that_cannot_start_names_the_file_asked_for_not_the_temporary_one(tmp_path):
    """`Could not write (...)` shows the user's path (was tmp.<pid>.x.csv)."""
    (tmp_path / "notes").write_text("mine")
    with pytest.raises(OSError) as raised:  # a file where the folder belongs
        write_text(tmp_path / "notes" / "x.csv", "a,b\n")
    assert raised.value.filename == str(tmp_path / "notes" / "x.csv")
    assert (tmp_path / "notes").read_text() == "mine"


def test_a_crash_between_write_and_rename_leaves_the_old_content(tmp_path, monkeypatch):
    path = tmp_path / "metrics.json"
    path.write_text("old")
    crash_at_rename(monkeypatch)
    with pytest.raises(OSError, match="killed before the rename"):
        write_text(path, "new")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]  # tmp.metrics.json removed


def test_a_write_that_fails_half_way_leaves_the_old_file(tmp_path):
    path = tmp_path / "best.keras"
    path.write_bytes(b"old checkpoint")
    with pytest.raises(RuntimeError, match="disk full"), replacing(path) as tmp:
        tmp.write_bytes(b"half a")
        raise RuntimeError("disk full")
    assert path.read_bytes() == b"old checkpoint" and not list(tmp_path.glob("tmp.*"))


def test_a_failing_fsync_does_not_rename(tmp_path, monkeypatch):
    """An I/O error while flushing (EIO) must not put a possibly torn file in place."""
    path = tmp_path / "history.csv"
    path.write_text("old")

    def eio(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(atomic.os, "fsync", eio)
    with pytest.raises(OSError, match="Input/output error"):
        write_text(path, "new")
    assert path.read_text() == "old" and not list(tmp_path.glob("tmp.*"))


def test_the_file_is_flushed_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    """The power-loss order: fsync(temp file) -> rename -> fsync(folder)."""
    path = tmp_path / "sub" / "metrics.json"
    path.parent.mkdir()
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.fstat(fd).st_ino))
        real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", Path(src).name, Path(dst).name))
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    monkeypatch.setattr(atomic.os, "replace", replace)
    write_text(path, "new")
    file_inode, folder_inode = path.stat().st_ino, path.parent.stat().st_ino
    assert events == [
        ("fsync", file_inode),  # the temp file's data, under its temporary name
        ("replace", f"tmp.{os.getpid()}.metrics.json", "metrics.json"),
        ("fsync", folder_inode),  # the new directory entry
    ]


def test_two_processes_writing_one_file_both_succeed_and_leave_a_whole_file(tmp_path):
    """Search workers that finish together write the same reports; neither may fail, and the
    file left is one writer's whole text."""
    path = tmp_path / "results.yaml"
    writer = (
        "import sys\nfrom seqexp.atomic import write_text\n"
        "for i in range(300): write_text(sys.argv[1], sys.argv[2] * 5000)\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", writer, str(path), mark]) for mark in "ab"]
    assert [p.wait(timeout=600) for p in procs] == [0, 0]
    assert path.read_text() in ("a" * 5000, "b" * 5000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.yaml"]


# ---- the run directory's writers are atomic (each goes through seqexp.atomic) ---------------


def test_metrics_json_keeps_the_old_report_when_a_write_dies(tmp_path, monkeypatch):
    write_record(tmp_path, RunRecord(status="running"))
    crash_at_rename(monkeypatch)
    with pytest.raises(OSError):
        write_record(tmp_path, RunRecord(status="completed", best={"val_loss": 0.1}))
    assert read_metrics(tmp_path) == {"status": "running"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]


def test_history_csv_keeps_the_old_rows_when_a_write_dies(tmp_path, monkeypatch):
    write_history(tmp_path, {"loss": [0.5, 0.4]})
    crash_at_rename(monkeypatch)
    with pytest.raises(OSError):
        write_history(tmp_path, {"loss": [0.5, 0.4, 0.3]})
    assert read_history(tmp_path) == {"loss": [0.5, 0.4]}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.csv"]


def test_the_backup_epoch_record_keeps_the_old_epoch_when_a_write_dies(tmp_path, monkeypatch):
    import keras

    from seqexp.run.keras_callbacks import AtomicBackupAndRestore

    backup = AtomicBackupAndRestore(str(tmp_path / "backup"))
    backup.set_model(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))
    backup.position = (3, 0)
    backup.save()
    record = Path(backup.record_file)
    assert json.loads(record.read_text())["epoch"] == 3
    backup.position = (4, 0)
    real_replace = os.replace

    def die_on_the_record(src, dst):  # the weights land, the epoch record's rename does not
        if Path(dst) == record:
            raise OSError("killed before the rename")
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", die_on_the_record)
    with pytest.raises(OSError):
        backup.save()
    assert json.loads(record.read_text())["epoch"] == 3  # resume repeats epoch 4, never skips it
    assert not list(record.parent.glob("tmp.*"))
