"""Every command that reads a run or sweep directory takes it as its first argument, and every
listing draws a table on a terminal and plain text (no box-drawing characters) in a pipe; on one
real (tiny) Jena run."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sys

import pytest
from omegaconf import OmegaConf

from seqexp.serve.predict import TABLE_ROWS
from seqexp.summary.sweep import SweepSummary
from tests.badinput import run_cli, run_cli_output
from tests.conftest import BOX


@pytest.fixture(scope="module")
def sweep_dir(jena_run, tmp_path_factory):
    """A folder of two runs, as a sweep leaves them."""
    root = tmp_path_factory.mktemp("sweep")
    for name in ("0_jena_gru", "1_jena_gru"):
        shutil.copytree(jena_run, root / name)
    return root


def stdout_of(args: list[str], capsys) -> str:
    """stdout of `seqexp <args>` run in this process (exit code 0)."""
    code, out, err = run_cli_output(args, capsys)
    assert code == 0, err[-2000:]
    return out


def test_every_directory_taking_command_takes_its_directory_first(
    jena_run, sweep_dir, new_rows, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)  # diff's figure lands in the working folder
    listed = json.loads(stdout_of(["runs", str(sweep_dir), "--format", "json"], capsys))
    assert sorted(row["run"] for row in listed) == ["0_jena_gru", "1_jena_gru"]
    compared = json.loads(
        stdout_of(["diff", str(jena_run), str(sweep_dir / "0_jena_gru"), "--format", "json"], capsys)
    )
    assert compared["a"] == str(jena_run) and compared["config"] == []
    summary = stdout_of(["summarize", str(sweep_dir), "--output", str(tmp_path / "summary")], capsys)
    assert "2 jobs: 2 completed." in summary and (tmp_path / "summary" / "summary.csv").is_file()

    code, _ = run_cli(["predict", str(jena_run), f"input={new_rows}", f"output={tmp_path / 'p.csv'}"], capsys)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "p.csv").read_text())))
    assert len(rows) == 63 and set(rows[0]) == {"last_row", "forecast_for", "T (degC)"}
    md = stdout_of(["predict", str(jena_run), f"input={new_rows}", "format=md"], capsys).splitlines()
    assert md[0] == "| last_row | forecast_for | T (degC) |" and md[1] == "|---|---|---|" and len(md) == 65
    assert md[2].split(" | ")[-1].rstrip(" |") == rows[0]["T (degC)"]  # every digit, as csv has it
    code, _ = run_cli(
        ["export", str(jena_run), "format=saved_model", f"output={tmp_path / 'export'}"], capsys
    )
    assert (
        code == 0 and json.loads((tmp_path / "export" / "export.json").read_text())["format"] == "saved_model"
    )
    # a Jena run is not a next-word run: generate read the run directory it was given first
    code, err = run_cli(["generate", str(jena_run), "prompt=how"], capsys)
    assert code == 2 and str(jena_run) in err and "Traceback" not in err
    # resume reads it too: a finished run is not continued
    code, err = run_cli(["resume", str(jena_run)], capsys)
    assert code == 2 and str(jena_run) in err and "Traceback" not in err


def as_terminal(monkeypatch, on: bool) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: on)
    monkeypatch.setenv("COLUMNS", "200")


LISTINGS = {
    "runs": lambda run, sweep, rows: ["runs", str(sweep)],
    "diff": lambda run, sweep, rows: ["diff", str(run), str(sweep / "1_jena_gru")],
    "summarize": lambda run, sweep, rows: ["summarize", str(sweep)],
    "predict": lambda run, sweep, rows: ["predict", str(run), f"input={rows}"],
}


@pytest.mark.parametrize("name", LISTINGS)
def test_a_listing_is_plain_text_in_a_pipe_and_a_table_on_a_terminal(
    name, jena_run, sweep_dir, new_rows, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)  # diff's figure lands in the working folder
    args = LISTINGS[name](jena_run, sweep_dir, new_rows)
    as_terminal(monkeypatch, False)
    piped = stdout_of(args, capsys)
    assert piped.strip() and not BOX.search(piped), piped[:500]
    as_terminal(monkeypatch, True)
    drawn = re.sub(r"\x1b\[[0-9;]*m", "", stdout_of(args, capsys))  # what is seen, not its styles
    assert BOX.search(drawn) and "┃" in drawn, drawn[:500]  # rich's table, its header row
    if name == "predict":  # a bounded table and how to get every row; csv into a pipe
        assert piped.splitlines()[0] == "last_row,forecast_for,T (degC)" and len(piped.splitlines()) == 64
        assert sum(line.startswith("│") for line in drawn.splitlines()) == TABLE_ROWS
        assert f"... {63 - TABLE_ROWS} more row(s) not shown (63 in all); output=predictions.csv" in drawn


def test_the_end_of_a_sweep_prints_the_summary_as_a_table_or_plain_text(sweep_dir, monkeypatch, capsys):
    config = OmegaConf.create({"hydra": {"sweep": {"dir": str(sweep_dir)}}})
    for terminal in (False, True):
        as_terminal(monkeypatch, terminal)
        capsys.readouterr()
        SweepSummary().on_multirun_end(config)
        out = capsys.readouterr().out
        assert "2 jobs: 2 completed." in out and "0_jena_gru" in out and "|---|" not in out
        assert bool(BOX.search(out)) == terminal
