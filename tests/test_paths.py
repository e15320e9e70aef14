"""Paths with spaces, unicode and the characters Hydra's override grammar gives a meaning to
(=, commas, brackets, braces, parentheses, quotes), through the real CLI: data.path, hydra.run.dir,
hydra.sweep.dir, and `seqexp resume`, which replays a run's overrides with its own folder.

On a command line such a value is quoted for Hydra (`'data.path="/my data/a=b.csv"'`); unquoted,
Hydra's refusal is one paragraph that says to quote it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal

import pytest
import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser

from seqexp.run.rundir import quoted_override
from tests.badinput import run_cli, run_status
from tests.conftest import TINY_JENA

# One folder name with every kind of character a path may hold that Hydra's grammar reads
SPECIAL = 'my runs é 日本 a=b,c [x] {y} (z) it\'s "q"'

NAMES = [
    SPECIAL,
    "/tmp/with space/file.csv",
    "ünïcödé/ñ",
    "a=b",
    "x,y,z",
    "[1,2]",
    "it's",
    'say "hi"',
    "back\\slash",
    "ends with a backslash\\",
    "quote after backslash\\'",
]


@pytest.mark.parametrize("value", NAMES)
def test_a_quoted_override_reads_back_as_the_same_value(value):
    override = OverridesParser.create().parse_override(quoted_override("data.path", value))
    assert override.key_or_group == "data.path" and override.value() == value
    assert not override.is_sweep_override()


@pytest.fixture
def special(tmp_path, jena_csv):
    """A folder with SPECIAL in its name holding a copy of the tiny Jena csv."""
    folder = tmp_path / SPECIAL
    folder.mkdir()
    return shutil.copy(jena_csv, folder / "jena é.csv"), folder


def test_train_reads_data_and_writes_its_run_under_special_paths(special, capsys):
    csv, folder = special
    run = folder / "run=1,[2]"
    code, err = run_cli(
        [
            "train",
            quoted_override("data.path", str(csv)),
            *TINY_JENA,
            quoted_override("hydra.run.dir", str(run)),
        ],
        capsys,
    )
    assert code == 0, err
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["epochs_run"] == 1
    assert str(csv) in (run / "train.log").read_text(encoding="utf-8")  # the file it read
    saved = yaml.safe_load((run / ".hydra" / "overrides.yaml").read_text(encoding="utf-8"))
    assert quoted_override("data.path", str(csv)) in saved  # replayable as typed


def ctrl_c_once_logged(monkeypatch, epochs: int) -> None:
    """Ctrl-C this process right after history.csv holds `epochs` epochs: at that point of the run,
    whatever the machine's load (a watcher thread could come too late for a 6-epoch tiny run)."""
    import seqexp.run.keras_callbacks as keras_callbacks

    write, fired = keras_callbacks.write_history, []

    def write_then_interrupt(run_dir, history):
        write(run_dir, history)
        if len(history["loss"]) == epochs and not fired:  # once: the resumed run goes on
            fired.append(True)
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(keras_callbacks, "write_history", write_then_interrupt)


def test_resume_replays_the_overrides_of_a_run_under_special_paths(special, capsys, monkeypatch):
    csv, folder = special
    run = folder / "run é=1,[2] 'x'"
    overrides = [quoted_override("data.path", str(csv)), *TINY_JENA, "trainer.epochs=6"]
    overrides += ["callbacks.early_stopping.enabled=false"]
    ctrl_c_once_logged(monkeypatch, epochs=2)  # the backup of epoch 1 is written by then
    code, err = run_cli(["train", *overrides, quoted_override("hydra.run.dir", str(run))], capsys)
    assert code == 130 and run_status(run) == "interrupted", err
    code, err = run_cli(["resume", str(run)], capsys)
    assert code == 0, err
    assert f"seqexp: resuming {run}" in err and "Traceback" not in err
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["epochs_run"] == 6
    assert metrics["resumed_after_epoch"] >= 1
    assert sorted(p.name for p in folder.iterdir()) == sorted(["jena é.csv", run.name])  # no stray folder


def test_a_sweep_writes_its_jobs_and_summary_under_a_special_sweep_dir(special, capsys):
    csv, folder = special
    sweep = folder / "sweep [a=b], c"
    code, err = run_cli(
        [
            "train",
            "-m",
            "model=naive",
            quoted_override("data.path", str(csv)),
            *TINY_JENA,
            "data.delay=6,12",
            quoted_override("hydra.sweep.dir", str(sweep)),
        ],
        capsys,
    )
    assert code == 0, err
    jobs = sorted(p.name for p in sweep.iterdir() if p.is_dir())
    assert jobs == ["0_jena_naive", "1_jena_naive"]
    assert all(run_status(sweep / job) == "completed" for job in jobs)
    assert (sweep / "summary.csv").read_text().count("\n") == 3  # header + two jobs


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("/data/a=b.csv", "mismatched input '='"),
        ("/data/[old]/jena.csv", "mismatched input '['"),
        ("/data/é/jena.csv", "the character 'é' (at position 17) cannot appear unquoted"),
        ("/data/run(1)/jena.csv", "mismatched input '('"),
    ],
)
def test_an_unquoted_special_path_is_refused_with_how_to_quote_it(tmp_path, capsys, value, words):
    code, err = run_cli(["train", f"data.path={value}", f"hydra.run.dir={tmp_path / 'run'}"], capsys)
    assert code == 2 and "Traceback" not in err
    (line,) = err.splitlines()
    assert line.startswith(f"seqexp: error: Cannot read the override 'data.path={value}': {words}")
    assert "Quote a value" in line and not (tmp_path / "run").exists()


def test_a_finished_run_under_a_quoted_special_run_dir_is_refused(tmp_path, capsys):
    """The guard reads hydra.run.dir as Hydra does: the quotes are not part of the folder."""
    run = tmp_path / SPECIAL / "run=1,[2]"
    run.mkdir(parents=True)
    finished = json.dumps({"status": "completed"})
    (run / "metrics.json").write_text(finished)
    code, err = run_cli(["train", "experiment=smoke", quoted_override("hydra.run.dir", str(run))], capsys)
    assert code == 2 and "already holds a run that ended with status 'completed'" in err
    assert sorted(p.name for p in run.iterdir()) == ["metrics.json"]  # .hydra/ not rewritten


@pytest.mark.slow
def test_a_sweep_never_runs_into_a_quoted_special_sweep_dir_with_finished_runs(tmp_path, capsys):
    sweep = tmp_path / SPECIAL
    (sweep / "0_jena_gru").mkdir(parents=True)
    (sweep / "0_jena_gru" / "metrics.json").write_text(json.dumps({"status": "completed"}))
    code, err = run_cli(
        [
            "train",
            "-m",
            "experiment=smoke",
            "model.units=8,16",
            quoted_override("hydra.sweep.dir", str(sweep)),
        ],
        capsys,
    )
    assert code == 2 and f"{sweep / '0_jena_gru'} holds a run without identity.json" in err
    assert sorted(p.name for p in sweep.iterdir()) == ["0_jena_gru"]


def test_a_file_as_run_dir_is_one_paragraph(tmp_path, capsys):
    afile = tmp_path / "notes.txt"
    afile.write_text("mine")
    for run_dir, words in ((afile, "it is a file"), (afile / "run", f"({afile} is a file)")):
        code, err = run_cli(["train", "experiment=smoke", f"hydra.run.dir={run_dir}"], capsys)
        assert code == 2 and "Traceback" not in err, err
        assert (
            err.startswith(f"seqexp: error: hydra.run.dir={run_dir} cannot be a run folder") and words in err
        )
    assert afile.read_text() == "mine"


@pytest.mark.parametrize("marker", ["search.yaml", "multirun.yaml"])
def test_a_search_or_sweep_root_is_not_a_run_dir(tmp_path, capsys, marker):
    root = tmp_path / "s"
    root.mkdir()
    (root / marker).write_text("kept: true\n")
    code, err = run_cli(["train", "experiment=smoke", f"hydra.run.dir={root}"], capsys)
    assert code == 2 and f"hydra.run.dir={root} holds a " in err and "not a run" in err
    assert sorted(p.name for p in root.iterdir()) == [marker]  # nothing written at its root
