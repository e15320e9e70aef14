"""Every file seqexp reads back may be missing, torn or edited by hand: the reader names the file
and what is wrong in it (seqexp.readback.DamagedFile, one paragraph, exit 2 through the CLI), and a
folder whose metrics.json cannot be read is neither trained over nor resumed.

The table damages one file of a run directory written in seqexp's own format and calls the
reader that reads it; the CLI cases run `seqexp resume`, `seqexp train hydra.run.dir=` and
`seqexp summarize` in this process (tests/badinput.py).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from seqexp.data.serving import load_preprocessing
from seqexp.readback import DamagedFile
from seqexp.run.resume import backup_record
from seqexp.run.rundir import check_resumable, read_history, refuse_finished, saved_overrides, write_history
from seqexp.text.vocabulary import load_vocabulary, save_vocabulary
from tests.badinput import run_cli

HISTORY = {"loss": [0.5, 0.4, 0.3], "val_loss": [0.6, 0.5, 0.45]}


def run_dir(tmp_path: Path) -> Path:
    """An interrupted run as seqexp leaves it: overrides, metrics, history, backup record."""
    run = tmp_path / "run"
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "overrides.yaml").write_text("- experiment=smoke\n- model.units=8\n")
    (run / "metrics.json").write_text(json.dumps({"status": "interrupted", "epochs_run": 3}))
    write_history(run, HISTORY)
    (run / "backup").mkdir()
    (run / "backup" / "training_metadata.json").write_text(json.dumps({"epoch": 3, "batch": 0}))
    save_vocabulary(run / "vocabulary.json", ["", "cats", "dogs"], {"lowercase": True}, input_length=4)
    (run / "preprocessing.json").write_text(json.dumps({"kind": "jena", "task": "regression"}))
    return run


def cut(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))


@dataclass
class Case:
    id: str
    file: str  # inside the run dir
    damage: Callable[[Path], None]
    read: Callable[[Path], object]  # the reader, given the run dir
    words: tuple[str, ...]


def _epochs(run: Path) -> int:
    return backup_record(run / "backup").get("epoch", 0)


CASES = [
    # .hydra/overrides.yaml: replayed by `seqexp resume`, compared by the hydra.run.dir guard
    Case("overrides-torn", ".hydra/overrides.yaml", lambda p: p.write_text("- experiment=smoke\n- [model"),
         saved_overrides, ("not valid YAML at line 2, column 9", "top of train.log")),
    Case("overrides-a-mapping", ".hydra/overrides.yaml", lambda p: p.write_text("model: gru\n"),
         saved_overrides, ("holds an object, not a list of overrides",)),
    Case("overrides-not-utf8", ".hydra/overrides.yaml", lambda p: p.write_bytes(b"- data.path=caf\xe9\n"),
         saved_overrides, ("byte 15 is not UTF-8 text",)),
    # metrics.json: the status decides what may be done with the folder
    Case("metrics-torn-resume", "metrics.json", cut, check_resumable,
         ("metrics.json is damaged or was edited by hand", "not valid JSON (cut short)", "train.log")),
    Case("metrics-torn-train", "metrics.json", cut, refuse_finished, ("not valid JSON (cut short)",)),
    Case("metrics-a-list", "metrics.json", lambda p: p.write_text("[1, 2]"), check_resumable,
         ("holds a list, not a JSON object",)),
    Case("metrics-status-a-number", "metrics.json", lambda p: p.write_text('{"status": 5}'), refuse_finished,
         ("its 'status' is 5, not text",)),
    Case("metrics-empty", "metrics.json", lambda p: p.write_text(""), check_resumable,
         ("not valid JSON (cut short)",)),
    # history.csv: the epochs a resumed run continues from
    Case("history-half-a-row", "history.csv", lambda p: p.write_text(p.read_text()[:-6]), read_history,
         ("history.csv is damaged", "line 4 has 2 fields, the header 3")),
    Case("history-text-cell", "history.csv", lambda p: edit(p, "0.45", "abc"), read_history,
         ("line 4, column 'val_loss': 'abc' is not a number",)),
    Case("history-empty-cell", "history.csv", lambda p: edit(p, "0.4,", ","), read_history,
         ("line 3, column 'loss': '' is not a number",)),
    Case("history-binary", "history.csv", lambda p: p.write_bytes(b"\x89PNG\r\n\xff\xfe"), read_history,
         ("is not UTF-8 text",)),
    # the backup's epoch record: how many epochs a resume skips
    Case("backup-record-torn", "backup/training_metadata.json", cut, _epochs,
         ("training_metadata.json is damaged", "not valid JSON", "Delete the backup folder")),
    Case("backup-record-epoch-text", "backup/training_metadata.json",
         lambda p: p.write_text('{"epoch": "3"}'), _epochs, ("its 'epoch' is text, not an integer",)),
    Case("backup-record-no-epoch", "backup/training_metadata.json",
         lambda p: p.write_text('{"batch": 0}'), _epochs, ("it has no 'epoch' entry",)),
    Case("backup-record-negative", "backup/training_metadata.json",
         lambda p: p.write_text('{"epoch": -2}'), _epochs, ("its epoch is -2",)),
    Case("backup-record-epoch-bool", "backup/training_metadata.json",
         lambda p: p.write_text('{"epoch": true}'), _epochs, ("its 'epoch' is true/false, not an integer",)),
    # vocabulary.json and preprocessing.json: read by seqexp generate / predict / export
    Case("vocabulary-torn", "vocabulary.json", cut, lambda r: load_vocabulary(r / "vocabulary.json"),
         ("vocabulary.json is damaged", "not valid JSON", "train the run again")),
    Case("vocabulary-no-tokens", "vocabulary.json", lambda p: edit(p, '"tokens"', '"words"'),
         lambda r: load_vocabulary(r / "vocabulary.json"), ("it has no 'tokens' entry",)),
    Case("vocabulary-tokens-numbers", "vocabulary.json", lambda p: edit(p, '"cats"', "7"),
         lambda r: load_vocabulary(r / "vocabulary.json"), ("its 'tokens' are not all text",)),
    Case("preprocessing-torn", "preprocessing.json", cut, load_preprocessing,
         ("preprocessing.json is damaged", "not valid JSON", "Train the run again")),
    Case("preprocessing-no-kind", "preprocessing.json", lambda p: p.write_text('{"task": "regression"}'),
         load_preprocessing, ("it has no 'kind' entry",)),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_damaged_file_is_named_with_what_is_wrong(tmp_path, case):
    run = run_dir(tmp_path)
    path = run / case.file
    case.damage(path)
    with pytest.raises(DamagedFile) as err:
        case.read(run)
    message = str(err.value)
    assert message.startswith(f"{path} is damaged or was edited by hand: ") and "\n" not in message
    for word in case.words:
        assert word in message, f"{word!r} not in {message!r}"


def test_the_undamaged_files_read_back_whole(tmp_path):
    run = run_dir(tmp_path)
    assert saved_overrides(run) == ["experiment=smoke", "model.units=8"]
    assert check_resumable(run) == (["experiment=smoke", "model.units=8"], "interrupted")
    assert read_history(run) == HISTORY and read_history(run, 2) == {k: v[:2] for k, v in HISTORY.items()}
    assert _epochs(run) == 3
    assert load_vocabulary(run / "vocabulary.json")["tokens"] == ["", "cats", "dogs"]
    assert load_preprocessing(run)["kind"] == "jena"
    refuse_finished(run)  # interrupted: may be trained into


def test_a_nan_epoch_in_history_is_read_as_nan(tmp_path):
    """A diverged run's history holds nan: a number, not damage."""
    write_history(tmp_path, {"loss": [0.5, float("nan")]})
    loss = read_history(tmp_path)["loss"]
    assert loss[0] == 0.5 and loss[1] != loss[1]


def test_resume_names_the_damaged_overrides_and_writes_nothing(tmp_path, capsys):
    run = run_dir(tmp_path)
    (run / ".hydra" / "overrides.yaml").write_text("- experiment=smoke\n- [model")
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    code, err = run_cli(["resume", str(run)], capsys)
    assert code == 2 and "Traceback" not in err
    (line,) = err.splitlines()
    assert line.startswith(f"seqexp: error: {run / '.hydra' / 'overrides.yaml'} is damaged")
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


def test_a_folder_with_a_torn_metrics_json_is_not_trained_over(tmp_path, capsys):
    """It may describe a finished run: the guard refuses before Hydra writes .hydra/ there."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.json").write_text('{"status": "completed", "best": {"val_lo')
    code, err = run_cli(["train", "experiment=smoke", f"hydra.run.dir={run}"], capsys)
    assert code == 2 and "Traceback" not in err
    assert f"{run / 'metrics.json'} is damaged or was edited by hand: it is not valid JSON (cut short)" in err
    assert sorted(p.name for p in run.iterdir()) == ["metrics.json"]


def test_the_sweep_summary_lists_a_damaged_job_and_summarises_the_others(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    for number, (units, loss) in enumerate([(8, 0.4), (16, 0.3), (32, 0.2)]):
        job = sweep / f"{number}_jena_gru"
        (job / ".hydra").mkdir(parents=True)
        (job / ".hydra" / "overrides.yaml").write_text(f"- model.units={units}\n")
        report = {"status": "completed", "monitor": "val_loss", "mode": "min", "best": {"val_loss": loss}}
        (job / "metrics.json").write_text(json.dumps(report))
        write_history(job, {"loss": [loss + 0.1, loss], "val_loss": [loss + 0.2, loss]})
    cut(sweep / "0_jena_gru" / "metrics.json")
    (sweep / "1_jena_gru" / "history.csv").write_text("epoch,loss,val_loss\n0,0.4\n")  # half a row
    (sweep / "2_jena_gru" / ".hydra" / "config.yaml").write_text("model: [unclosed\n")
    code, err = run_cli(["summarize", str(sweep)], capsys)
    assert code == 0, err
    rows = {row["job"]: row for row in csv.DictReader((sweep / "summary.csv").open())}
    assert rows["0_jena_gru"]["status"] == "failed"
    assert "metrics.json: it is not valid JSON (cut short)" in rows["0_jena_gru"]["reason"]
    assert rows["1_jena_gru"]["status"] == rows["2_jena_gru"]["status"] == "completed"
    assert rows["0_jena_gru"]["model.units"] == "8"  # its overrides are still read
    assert float(rows["2_jena_gru"]["best.val_loss"]) == 0.2  # ranked first, despite its torn config.yaml
    assert rows["2_jena_gru"]["rank"] == "1"
    assert (sweep / "comparison.png").exists()


def test_a_torn_backup_weights_file_is_named(tmp_path):
    import keras

    from seqexp.run.keras_callbacks import AtomicBackupAndRestore

    backup = AtomicBackupAndRestore(str(tmp_path / "backup"))
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    backup.set_model(model)
    backup.position = (2, 0)
    backup.save()
    weights = Path(backup.weights_file)
    cut(weights)
    with pytest.raises(DamagedFile) as err:
        backup.on_train_begin()
    message = str(err.value)
    assert message.startswith(f"{weights} is damaged or was edited by hand: its weights cannot be loaded (")
    assert "Delete the backup folder" in message
