"""A run's record (metrics.json): one typed model of it, its one writer, and the status type that
knows what each status means.

Training hands a `RunRecord` along and writes it through a `Recorder` (the last record written is
what the trackers report at the end); `seqexp runs`, `diff`, the sweep summary, TensorBoard
HParams, MLflow and the search ask the record and its `Status` instead of comparing strings.
Reading is tolerant of records of older versions and of keys this version does not know (they
are kept when a record is rewritten); a torn or hand-edited file is named (DamagedFile).

Plain files and pydantic only: the readers of run directories never import TensorFlow.
"""

from __future__ import annotations

import json
import math
import numbers
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from seqexp.atomic import write_text
from seqexp.errors import NotThisRun, SeqexpError
from seqexp.readback import DamagedFile, json_object

METRICS = "metrics.json"
# Where a run of an older version kept its best weights: it did not record the path.
DEFAULT_CHECKPOINT = "checkpoints/best.keras"
FIX = "Restore it (the run's numbers are also in train.log), or delete the folder to start over."


class Status(str, Enum):
    """How a run stands. `finished`: nothing left to train; `successful`: trained as the config
    asked (a pruned run is finished, with valid numbers, but was stopped by a search's pruner);
    `resumable`: training may continue (a failure is resumable only when its record says so,
    RunRecord.resumable)."""

    RUNNING = "running"  # written at the start: a killed run never claims success
    COMPLETED = "completed"
    STOPPED_EARLY = "stopped early"
    PRUNED = "pruned"  # stopped by a search's pruner (seqexp.search); keeps its history and curves
    INTERRUPTED = "interrupted"  # Ctrl-C, SIGTERM
    FAILED = "failed"

    def __str__(self) -> str:  # "pruned", not "Status.PRUNED", in messages and f-strings
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @classmethod
    def of(cls, text) -> Status | None:
        """The status a text names (None: missing, or not a status, e.g. a row's "unknown")."""
        try:
            return cls(text) if isinstance(text, str) else None
        except ValueError:
            return None

    @property
    def finished(self) -> bool:
        return self in (Status.COMPLETED, Status.STOPPED_EARLY, Status.PRUNED)

    @property
    def successful(self) -> bool:
        return self in (Status.COMPLETED, Status.STOPPED_EARLY)

    @property
    def resumable(self) -> bool:
        return self in (Status.RUNNING, Status.INTERRUPTED)


FINISHED = tuple(s for s in Status if s.finished)  # equal to their text: "pruned" in FINISHED


class RunRecord(BaseModel):
    """metrics.json. Every field is optional: a record grows as the run goes (the "running" one
    has the labels, the finished one the numbers); only the fields set are written."""

    model_config = ConfigDict(extra="allow", frozen=True)

    data: str | None = None
    model: str | None = None
    tags: list[str] = []
    note: str | None = None
    reference: dict[str, Any] | None = None  # the book's figure beside ours (compare_reference)
    env: dict[str, Any] | None = None  # env.json's gist (seqexp.run.environment.key_facts)
    checkpoint: str | None = None  # the best weights, relative to the run dir (null: none kept)
    task: str | None = None
    monitor: str | None = None
    mode: str | None = None
    status: Status | None = None
    reason: str | None = None
    resumable: bool = False  # a failure outside training: continuing is allowed once it is fixed
    data_info: dict[str, Any] | None = None
    resumed_after_epoch: int | None = None
    pruned_epoch: int | None = None
    best_epoch: int | None = None
    epochs_run: int | None = None
    samples_per_second: float | None = None
    weights: str | None = None  # which weights the test split was evaluated with
    extras: dict[str, Any] | None = None
    best: dict[str, float | None] | None = None
    test: dict[str, float | None] | None = None
    wall_time_s: float | None = None

    @field_validator("best", "test", mode="before")
    @classmethod
    def _numbers(cls, values):
        """A metric that is not a number (hand-edited, or a nan an older version wrote as text)
        reads as missing: the rest of the record stays readable."""
        if not isinstance(values, dict):
            return values
        number = lambda v: isinstance(v, numbers.Real) and not isinstance(v, bool)  # noqa: E731
        return {k: v if number(v) else None for k, v in values.items()}

    def but(self, **changes) -> RunRecord:
        """A copy with these fields changed (checked like a record read from disk)."""
        return RunRecord.model_validate({**self.as_dict(), **changes})

    def as_dict(self) -> dict:
        """The record as metrics.json holds it: the fields set, unknown keys included. Values a
        report returned (extras) stay as they are: the writer turns what JSON lacks into text."""
        values = self.model_dump(exclude_unset=True)
        if isinstance(values.get("status"), Status):
            values["status"] = values["status"].value
        return values

    @property
    def finished(self) -> bool:
        return self.status is not None and self.status.finished

    @property
    def successful(self) -> bool:
        return self.status is not None and self.status.successful

    @property
    def may_continue(self) -> bool:
        """Whether training may go on in this folder: running (killed), interrupted, or failed
        outside training (`resumable`). A run that failed in training (a nan loss) would fail
        again: it is done, like the finished ones."""
        return (
            self.status is None or self.status.resumable or (self.status is Status.FAILED and self.resumable)
        )

    def metric(self, name: str) -> float | None:
        """A metric by one name: `test_<m>` is the test split's <m>, any other name the value at
        the best epoch (`val_mae`, `loss`). None when the run has no finite value."""
        return metric_value(self.as_dict(), name)


def metric_value(report: dict, name: str) -> float | None:
    """metric() of a record as a dict (a row that may hold anything a hand could write)."""
    best, test = report.get("best"), report.get("test")
    if name.startswith("test_") and isinstance(test, dict) and name[5:] in test:
        value = test[name[5:]]
    else:
        value = best.get(name) if isinstance(best, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def compare_reference(reference: dict | None, record: RunRecord) -> dict | None:
    """The book's figure beside ours: {metric, value, source, ours, difference = ours - value}."""
    if not reference:
        return None
    ours = record.metric(reference["metric"])
    difference = None if ours is None else ours - reference["value"]
    return {**reference, "ours": ours, "difference": difference}


# ---- reading --------------------------------------------------------------------------------


def checked_record(run_dir: Path) -> RunRecord | None:
    """The record of a run directory; None without metrics.json, a DamagedFile naming what is
    wrong for a torn or hand-edited one (for refusals: the run it describes may be finished)."""
    path = Path(run_dir) / METRICS
    if not path.exists():
        return None
    raw = json_object(path, fix=FIX)
    try:
        return RunRecord.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "record"
        value = raw.get(first["loc"][0]) if first["loc"] else raw
        if key == "status" and not isinstance(value, str):
            problem = f"its 'status' is {value!r}, not text such as 'interrupted'"
        elif key == "status":
            problem = f"its 'status' is {value!r}, not one of {', '.join(repr(s.value) for s in Status)}"
        else:
            problem = f"its {key!r} is {value!r} ({first['msg'].lower()})"
        raise DamagedFile(path, problem, FIX) from None


def read_record(run_dir: Path) -> RunRecord | None:
    """The record of a run directory, or None when there is none or it cannot be read (use
    checked_record to learn why)."""
    try:
        return checked_record(run_dir)
    except DamagedFile:
        return None


def read_status(run_dir: Path) -> Status | None:
    record = read_record(run_dir)
    return None if record is None else record.status


# ---- writing --------------------------------------------------------------------------------


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no nan
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def write_record(run_dir: Path, record: RunRecord) -> None:
    """Replace metrics.json atomically (seqexp.atomic); non-finite numbers become null. The one
    place metrics.json is written."""
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    text = json.dumps(_finite(record.as_dict()), indent=2, default=str) + "\n"
    write_text(Path(run_dir) / METRICS, text)


def failure_reason(err: BaseException) -> str:
    """How a failure reads in the record: a user error in its own words, else the exception."""
    return str(err) if isinstance(err, SeqexpError) else f"{type(err).__name__}: {err}"


class Recorder:
    """The writer of one run's record, holding the last record written: training hands it each
    new record, and the trackers and the last word on how the run ended (`settle`) read it here,
    not back from disk. Starts from the record already in the folder (a resumed run)."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self.record: RunRecord | None = read_record(self.run_dir)

    def write(self, record: RunRecord) -> RunRecord:
        write_record(self.run_dir, record)
        self.record = record
        return record

    def settle(self, status: Status, reason: str, resumable: bool = False) -> None:
        """Record how the run ended unless it already did: only a missing or running status is
        replaced, so the reason training wrote, or an earlier finished run, stays as it is."""
        record = self.record or RunRecord()
        if record.status not in (None, Status.RUNNING):
            return
        changes = {"status": status, "reason": reason, **({"resumable": True} if resumable else {})}
        self.write(record.but(**changes))


def settle_status(run_dir: Path, status: Status, reason: str, resumable: bool = False) -> None:
    """Recorder.settle for a run directory whose trainer is gone (a failed sweep job or trial)."""
    Recorder(run_dir).settle(status, reason, resumable)


def record_failure(run_dir: Path, err: BaseException) -> None:
    """A failed sweep job's record says failed and why (the summary reads it); a failure outside
    training leaves it resumable. A folder refused as another run's is left as it is."""
    if not isinstance(err, NotThisRun):
        settle_status(run_dir, Status.FAILED, failure_reason(err), resumable=True)


def run_checkpoint(run_dir: Path) -> str:
    """Where a finished run keeps its best weights, relative to its folder: the record says
    (`checkpoint`); a run of an older version, or one without a readable record, used the default."""
    record = read_record(run_dir)
    if record is None or "checkpoint" not in record.model_fields_set or record.checkpoint is None:
        return DEFAULT_CHECKPOINT
    return record.checkpoint
