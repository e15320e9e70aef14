"""seqexp predict / export under a user's mistakes: nothing they did not make is deleted or
overwritten, every input is predicted, and stdout holds the document alone (issue 24)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from seqexp.serve import predict as predict_module
from seqexp.serve.predict import TABLE_ROWS, predict
from tests.badinput import run_cli
from tests.serve.test_jena import compose_cmd

BOX = set("│┃┏┓┗┛━─┡┩╇╈┼")  # rich's box-drawing characters


def seqexp(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "seqexp.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


# --- export: never delete what export did not write ------------------------------------------


def test_export_refuses_an_existing_folder_of_the_users_and_keeps_it(jena_run, tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("three weeks of work")
    code, err = run_cli(["export", f"run={jena_run}", f"output={folder}"], capsys)
    assert code == 2 and "Traceback" not in err
    assert f"seqexp: error: output={folder} is a folder that holds files seqexp export did not write" in err
    assert (folder / "notes.txt").read_text() == "three weeks of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # no staging folder left either
    # overwrite=true replaces only export's own folders, never this one
    code, err = run_cli(["export", f"run={jena_run}", f"output={folder}", "overwrite=true"], capsys)
    assert code == 2 and (folder / "notes.txt").exists()


def test_export_refuses_the_run_directory_and_its_parents(jena_run, capsys):
    before = sorted(p.relative_to(jena_run) for p in jena_run.rglob("*"))
    for output, words in ((jena_run, "the run directory"), (jena_run.parent, "a folder holding the run")):
        code, err = run_cli(["export", f"run={jena_run}", f"output={output}"], capsys)
        assert code == 2 and f"seqexp: error: output={output} is {words} {jena_run}" in err
    assert sorted(p.relative_to(jena_run) for p in jena_run.rglob("*")) == before
    assert (jena_run / "checkpoints" / "best.keras").exists() and (jena_run / "metrics.json").exists()


def test_export_refuses_an_existing_file_inside_the_run(jena_run, capsys):
    target = jena_run / "metrics.json"
    before = target.read_bytes()
    code, err = run_cli(["export", f"run={jena_run}", f"output={target}", "overwrite=true"], capsys)
    assert code == 2 and f"output={target} exists and is not a folder that seqexp export wrote" in err
    assert target.read_bytes() == before


def test_export_replaces_its_own_earlier_export_only_with_overwrite(jena_run, tmp_path, capsys):
    out = tmp_path / "serving"
    assert run_cli(["export", f"run={jena_run}", f"output={out}"], capsys)[0] == 0
    first = json.loads((out / "export.json").read_text())
    assert first["written_by"] == "seqexp export" and (out / "saved_model" / "saved_model.pb").exists()
    code, err = run_cli(["export", f"run={jena_run}", f"output={out}"], capsys)
    assert code == 2 and "holds an earlier export; pass overwrite=true" in err
    (out / "saved_model" / "saved_model.pb").write_bytes(b"stale")
    assert run_cli(["export", f"run={jena_run}", f"output={out}", "overwrite=true"], capsys)[0] == 0
    assert (out / "saved_model" / "saved_model.pb").read_bytes() != b"stale"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["serving"]  # the old copy is gone


# --- predict: never overwrite the input, never skip one ------------------------------------


def test_predict_refuses_to_write_over_its_input_by_any_name(jena_run, new_rows, tmp_path, capsys):
    rows = tmp_path / "rows.csv"
    rows.write_bytes(new_rows.read_bytes())
    before = rows.read_bytes()
    (tmp_path / "link.csv").symlink_to(rows)
    os.link(rows, tmp_path / "hard.csv")
    for output in (rows, tmp_path / "link.csv", tmp_path / "hard.csv", Path(os.path.relpath(rows))):
        code, err = run_cli(["predict", f"run={jena_run}", f"input={rows}", f"output={output}"], capsys)
        assert code == 2 and f"seqexp: error: output={output} is the input file" in err, err
        assert rows.read_bytes() == before
    code, err = run_cli(["predict", f"run={jena_run}", f"input={tmp_path}", f"output={rows}"], capsys)
    assert code == 2 and "is the input file" in err and rows.read_bytes() == before


def test_predict_forecasts_every_csv_of_a_folder(jena_run, new_rows, tmp_path):
    lines = new_rows.read_text().splitlines()
    folder = tmp_path / "stations"
    folder.mkdir()
    (folder / "a.csv").write_text("\n".join(lines) + "\n")
    (folder / "b.csv").write_text("\n".join([lines[0], *lines[-250:]]) + "\n")  # 250 - 237 = 13 windows
    rows = predict(compose_cmd("predict", f"run={jena_run}", f"input={folder}", "format=csv"))
    assert [r["input"] for r in rows] == ["a.csv"] * 63 + ["b.csv"] * 13
    single = predict(compose_cmd("predict", f"run={jena_run}", f"input={folder / 'b.csv'}", "format=csv"))
    assert [r["T (degC)"] for r in rows[63:]] == pytest.approx([r["T (degC)"] for r in single], abs=1e-5)
    assert list(single[0]) == ["last_row", "forecast_for", "T (degC)"]  # one file: no input column


# --- predict: stdout is the document alone --------------------------------------------------


@pytest.mark.slow
def test_json_to_stdout_is_only_the_document_and_a_pipe_gets_plain_csv(jena_run, new_rows, tmp_path):
    out = seqexp("predict", f"run={jena_run}", f"input={new_rows}", "format=json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    document = json.loads(out.stdout)
    assert len(document) == 63 and set(document[0]) == {"last_row", "forecast_for", "T (degC)"}
    assert "Forecasting T (degC)" in out.stderr  # the log goes to stderr
    table = seqexp("predict", f"run={jena_run}", f"input={new_rows}", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0] == "last_row,forecast_for,T (degC)" and len(lines) == 64
    assert not BOX & set(table.stdout)


def test_a_terminal_gets_a_short_table_that_says_how_to_get_every_row(
    jena_run, new_rows, monkeypatch, capsys
):
    monkeypatch.setattr(predict_module, "on_terminal", lambda: True, raising=False)
    monkeypatch.setenv("COLUMNS", "100")
    predict(compose_cmd("predict", f"run={jena_run}", f"input={new_rows}"))
    shown = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)  # the columns seen, not the styles
    assert max(map(len, shown.splitlines())) <= 100
    data_lines = [line for line in shown.splitlines() if line.startswith("│")]
    assert len(data_lines) == TABLE_ROWS
    left = 63 - TABLE_ROWS
    assert f"... {left} more row(s) not shown (63 in all); output=predictions.csv writes them all" in shown


def test_an_output_whose_folder_cannot_be_made_is_named_before_the_model_runs(
    jena_run, new_rows, tmp_path, capsys
):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder")
    for command in (["predict", f"input={new_rows}"], ["export"]):
        output = blocker / "out"
        code, err = run_cli([command[0], f"run={jena_run}", *command[1:], f"output={output}"], capsys)
        assert code == 2 and "Traceback" not in err
        assert f"seqexp: error: output={output}: its folder {blocker} cannot be made" in err
    assert blocker.read_text() == "a file, not a folder"


def test_an_output_folder_that_cannot_be_written_is_named_not_its_staging_folder(
    jena_run, tmp_path, capsys, monkeypatch
):
    import errno
    import tempfile

    def read_only(prefix=None, dir=None, **kwargs):  # what mkdtemp meets in a read-only folder
        raise PermissionError(errno.EROFS, os.strerror(errno.EROFS), str(Path(dir) / f"{prefix}x1y2"))

    monkeypatch.setattr(tempfile, "mkdtemp", read_only)
    output = tmp_path / "exported"
    code, err = run_cli(["export", f"run={jena_run}", "format=onnx", f"output={output}"], capsys)
    assert code != 0 and "Traceback" not in err
    assert f"({output})" in err and ".partial-" not in err, err
    assert not output.exists()


def test_a_deleted_checkpoint_is_named_as_deleted_not_as_checkpoints_off(
    jena_run, new_rows, tmp_path, capsys
):
    import shutil

    run = tmp_path / "copied"
    shutil.copytree(jena_run, run)
    best = run / json.loads((run / "metrics.json").read_text())["checkpoint"]
    best.unlink()
    for command in (["predict", str(run), f"input={new_rows}"], ["export", str(run), "format=onnx"]):
        code, err = run_cli(command, capsys)
        assert code == 2 and "Traceback" not in err
        assert f"seqexp: error: run={run} kept its best weights at {best}, and that file is gone" in err
        assert "callbacks.checkpoint.enabled=false" not in err
