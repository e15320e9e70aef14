"""The run record (seqexp.run.record): what each status means, the one writer of metrics.json, and
the readers that name a damaged file or read records of older versions."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from seqexp.readback import DamagedFile
from seqexp.run.record import (
    DEFAULT_CHECKPOINT,
    FINISHED,
    METRICS,
    Recorder,
    RunRecord,
    Status,
    checked_record,
    read_record,
    record_failure,
    run_checkpoint,
    write_record,
)
from seqexp.run.rundir import check_resumable, may_continue, read_metrics

PACKAGE = Path(__file__).resolve().parents[2] / "seqexp"


def test_each_status_knows_what_it_means():
    meaning = {s.value: (s.finished, s.successful, s.resumable) for s in Status}
    assert meaning == {
        "running": (False, False, True),  # killed: continue it
        "completed": (True, True, False),
        "stopped early": (True, True, False),
        "pruned": (True, False, False),  # a search stopped it: finished, ranked, not trained on
        "interrupted": (False, False, True),
        "failed": (False, False, False),  # resumable only when the record says so
    }
    assert "pruned" in FINISHED and "failed" not in FINISHED
    assert f"{Status.STOPPED_EARLY}" == str(Status.STOPPED_EARLY) == "stopped early"
    assert Status.of("pruned") is Status.PRUNED and Status.of("unknown") is None and Status.of(3) is None


@pytest.mark.parametrize(
    ("record", "allowed"),
    [
        (None, True),  # nothing there yet
        ({"status": "running"}, True),
        ({"status": "interrupted"}, True),
        ({"status": "failed", "reason": "OSError: disk full", "resumable": True}, True),
        ({"status": "failed", "reason": "nan loss"}, False),
        ({"status": "completed"}, False),
        ({"status": "pruned"}, False),
    ],
)
def test_which_records_may_be_continued(record, allowed):
    assert may_continue(record) is allowed
    if record is not None:
        assert RunRecord.model_validate(record).may_continue is allowed


def test_the_record_round_trips_keeps_unknown_keys_and_writes_no_nan(tmp_path):
    record = RunRecord(
        status=Status.COMPLETED, best={"val_loss": math.nan, "loss": 0.5}, test={"mae": math.inf}
    )
    write_record(tmp_path, record.but(a_key_of_a_newer_version={"x": 1}))
    text = (tmp_path / METRICS).read_text()
    assert "NaN" not in text and "Infinity" not in text
    on_disk = json.loads(text)
    assert on_disk == {
        "status": "completed",
        "best": {"val_loss": None, "loss": 0.5},
        "test": {"mae": None},
        "a_key_of_a_newer_version": {"x": 1},
    }  # only the fields set: a running record has no empty numbers
    again = read_record(tmp_path)
    assert again.status is Status.COMPLETED and again.finished and again.best["loss"] == 0.5
    assert again.as_dict()["a_key_of_a_newer_version"] == {"x": 1}  # kept when rewritten
    assert read_metrics(tmp_path) == on_disk


def test_a_record_of_an_older_version_reads_and_finds_its_checkpoint(tmp_path):
    older = {"data": "jena", "model": "gru", "status": "stopped early", "best_epoch": 3, "epochs_run": 6}
    (tmp_path / METRICS).write_text(json.dumps(older))
    record = checked_record(tmp_path)
    assert record.status is Status.STOPPED_EARLY and record.best_epoch == 3 and record.checkpoint is None
    assert run_checkpoint(tmp_path) == DEFAULT_CHECKPOINT  # older runs did not record it
    write_record(tmp_path / "new", record.but(checkpoint="weights/top.keras"))
    assert run_checkpoint(tmp_path / "new") == "weights/top.keras"
    assert run_checkpoint(tmp_path / "none") == DEFAULT_CHECKPOINT  # no record at all


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"status": "complet', "it is not valid JSON (cut short)"),
        ("[1, 2]", "it holds a list, not a JSON object"),
        ('{"status": "done"}', "its 'status' is 'done', not one of 'running', 'completed'"),
        ('{"status": 3}', "its 'status' is 3, not text such as 'interrupted'"),
        ('{"status": "completed", "epochs_run": "many"}', "its 'epochs_run' is 'many'"),
    ],
)
def test_a_damaged_record_is_named_by_the_strict_reader_and_skipped_by_the_tolerant_one(
    tmp_path, text, problem
):
    (tmp_path / METRICS).write_text(text)
    with pytest.raises(DamagedFile) as err:
        checked_record(tmp_path)
    assert str(err.value).startswith(f"{tmp_path / METRICS} is damaged or was edited by hand: {problem}")
    assert read_record(tmp_path) is None and read_metrics(tmp_path) is None
    assert checked_record(tmp_path / "elsewhere") is None  # missing: no record, not damaged


def test_settling_keeps_the_reason_training_wrote(tmp_path):
    recorder = Recorder(tmp_path)
    recorder.write(RunRecord(data="jena", status=Status.RUNNING))
    recorder.settle(Status.FAILED, "OSError: disk full", resumable=True)
    assert read_metrics(tmp_path) == {
        "data": "jena",
        "status": "failed",
        "reason": "OSError: disk full",
        "resumable": True,
    }
    recorder.settle(Status.INTERRUPTED, "Ctrl-C")  # already ended: stays as it is
    assert recorder.record.status is Status.FAILED and read_record(tmp_path).reason == "OSError: disk full"
    record_failure(tmp_path, RuntimeError("later"))  # a sweep's own record of the failure: no change
    assert read_record(tmp_path).reason == "OSError: disk full"


def test_a_finished_record_refuses_resume_naming_its_status(tmp_path):
    (tmp_path / ".hydra").mkdir()
    (tmp_path / ".hydra" / "overrides.yaml").write_text("- experiment=smoke\n")
    write_record(tmp_path, RunRecord(status=Status.PRUNED, reason="pruned by Optuna"))
    with pytest.raises(Exception, match=r"nothing to resume: it ended with status 'pruned'"):
        check_resumable(tmp_path)


def test_metrics_json_is_written_by_the_record_module_only():
    """The one writer: a statement that writes a path named metrics.json (or METRICS) appears in
    seqexp/run/record.py and nowhere else in the package."""
    target = r"(METRICS|metrics\.json)"
    write = re.compile(
        rf"(write_text|replacing|open)\([^\n]*{target}|{target}[\"')\]]*\)?\.(write_text|open\([^)]*w)"
    )
    writers = sorted(
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if write.search(path.read_text(encoding="utf-8"))
    )
    assert writers == ["run/record.py"]
