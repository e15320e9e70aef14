"""Commands that read run folders or check settings, under mistakes and faults: `seqexp summarize
--out` onto a file, a run folder that cannot be opened in `seqexp runs`, a tracking URI MLflow 3
refuses, a conv1d whose windows are too short for its layers. Each is one `seqexp: error:`
paragraph (or a listed row), decided before any data is loaded or anything is written."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from seqexp.cli import main
from tests.badinput import run_cli


def hand_made_run(folder: Path, status: str = "completed") -> Path:
    (folder / ".hydra").mkdir(parents=True)
    (folder / ".hydra" / "overrides.yaml").write_text("- model=gru\n")
    report = {
        "status": status,
        "data": "jena",
        "model": "gru",
        "monitor": "val_loss",
        "best": {"val_loss": 0.3},
    }
    (folder / "metrics.json").write_text(json.dumps(report))
    return folder


def test_summarize_out_onto_a_file_is_one_paragraph(tmp_path, capsys):
    hand_made_run(tmp_path / "runs" / "a")
    mine = tmp_path / "notes.md"
    mine.write_text("mine")
    for out in (mine, mine / "sub"):
        assert main(["summarize", str(tmp_path / "runs"), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert (
            err.startswith(f"seqexp: error: --output {out} is not a folder ({mine} is a file")
            and "\n" not in err[:-1]
        )
    assert mine.read_text() == "mine"
    assert not (tmp_path / "runs" / "summary.md").exists()


def test_a_run_folder_that_cannot_be_opened_is_listed_by_name(tmp_path, capsys, monkeypatch):
    root = tmp_path / "outputs"
    hand_made_run(root / "mine")
    theirs = hand_made_run(root / "theirs")
    theirs.chmod(0)
    try:
        if os.access(theirs, os.R_OK):  # root reads everything: deny the listing the way the OS would
            real_scandir = os.scandir

            def scandir(path="."):
                if Path(path) == theirs:
                    raise PermissionError(13, "Permission denied", str(path))
                return real_scandir(path)

            monkeypatch.setattr(os, "scandir", scandir)
        assert main(["runs", str(root), "--format", "json"]) == 0
    finally:
        theirs.chmod(0o755)
    rows = {row["run"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["mine"]["status"] == "completed"
    assert rows["theirs"]["status"] == "unreadable folder"
    assert rows["theirs"]["reason"].startswith("cannot be opened (Permission denied)")


@pytest.mark.parametrize("uri", ["file:./mlruns", "file:///tmp/mlruns", "./mlruns"])
def test_an_mlflow_file_store_is_refused_up_front(tmp_path, capsys, uri):
    run = tmp_path / "run"
    args = [
        "train",
        "experiment=smoke",
        "logger=mlflow",
        f"logger.tracking_uri={uri}",
        f"hydra.run.dir={run}",
    ]
    code, err = run_cli(args, capsys)
    assert code == 2
    assert f"seqexp: error: logger.tracking_uri={uri} is an MLflow file store, which MLflow 3 refuses" in err
    assert "logger.tracking_uri=sqlite:///" in err and "mlflow migrate-filestore" in err
    assert not (run / "history.csv").exists()  # refused before training


def test_a_sqlite_store_shared_by_several_machines_is_warned_about():
    from seqexp.run.mlflow_logger import shared_sqlite_warning

    slurm = "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"
    ray = "hydra_plugins.hydra_ray_launcher.ray_launcher.RayLauncher"
    for launcher in (slurm, ray):
        warning = shared_sqlite_warning("sqlite:////shared/mlflow/mlflow.db", launcher)
        assert "SQLite store /shared/mlflow/mlflow.db" in warning and "logger.tracking_uri=http://" in warning
    local = "hydra_plugins.hydra_submitit_launcher.submitit_launcher.LocalLauncher"
    assert shared_sqlite_warning("sqlite:////x/mlflow.db", local) is None
    assert shared_sqlite_warning("http://host:5000", slurm) is None
