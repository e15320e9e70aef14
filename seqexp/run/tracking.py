"""What a run reports to the comparison tools: TensorBoard's HParams tab, and MLflow when
`logger=mlflow` (seqexp.run.mlflow_logger).

train.py holds one `Tracking` object per run: `start()` before training, `callback()` (a Keras
callback that hands each epoch's logs on) during it, and `end()` however the run ends, which
reads the run's own metrics.json, so a failed or interrupted run is reported with its status.
A tracker's failure at the end is logged, never raised: it must not hide how the run ended.

TensorBoard: each run writes its hyperparameters (`hparams`) and its best and test metrics
(scalars `best/<metric>`, `test/<metric>`) next to the Keras callback's train/ and validation/
logs, so `tensorboard --logdir outputs` lists every run and sweep in one HParams table. No run
writes an `hparams_config`: TensorBoard uses the first experiment config it finds under the
logdir for all runs (backend_context._find_experiment_tag), so per-run configs would hide each
other's hyperparameters and metrics; without one it builds the table from all runs.

This module imports neither TensorFlow nor MLflow until a run needs them.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from seqexp.errors import SeqexpError
from seqexp.run.rundir import read_metrics

log = logging.getLogger(__name__)

LOGGERS = ("none", "mlflow")  # the options of conf/logger
HPARAM_GROUPS = ("data", "model", "optimizer", "trainer")  # the groups a sweep changes
# Where a file comes from is not a hyperparameter: data.path, data.url, data.sha256, data.size,
# data.cache_dir, data.word_index(_url, _size), data.base_url, data.vocabulary_file, data.files.*.
FILE_KEYS = {"path", "url", "sha256", "size", "cache_dir", "word_index", "word_index_size", "files"}
FILE_SUFFIXES = ("_path", "_url", "_file", "_dir", "_sha256")


def flatten(node, prefix: str = "") -> dict:
    """{"model.units": [16], ...}: every leaf of a (resolved) config, by dotted key."""
    if isinstance(node, DictConfig):
        node = OmegaConf.to_container(node, resolve=True)
    flat = {}
    for key, value in node.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def is_file_fact(key: str) -> bool:
    parts = key.split(".")
    return any(p in FILE_KEYS or p.endswith(FILE_SUFFIXES) for p in parts[1:]) or parts[-1] == "_target_"


def hparams(cfg: DictConfig, data: str, model: str) -> dict[str, bool | float | int | str]:
    """The hyperparameters of a run as TensorBoard takes them: the data and model options, then
    every scalar of data.*, model.*, optimizer.*, trainer.* (a list of numbers, e.g.
    model.units=[16, 16], as its text). Not file facts, not nulls (TensorBoard has no null)."""
    values = {"data": data, "model": model}
    for group in HPARAM_GROUPS:
        for key, value in flatten(cfg[group], f"{group}.").items():
            if value is None or is_file_fact(key):
                continue
            if isinstance(value, list):
                if not all(isinstance(v, int | float) for v in value):
                    continue  # feature names, class names, prompts: not something a sweep varies
                value = str(value)
            values[key] = value
    return values


def check_logger(logger) -> str:
    """The logger option's name; a value conf/logger has no option for is refused."""
    name = "none" if logger is None else logger.get("name")
    if name not in LOGGERS:
        raise SeqexpError(
            f"logger.name={name!r} is not a logger; choose logger=none (the default) "
            f"or logger=mlflow (conf/logger/)."
        )
    return name


class TensorBoardHParams:
    """The run's row in TensorBoard's HParams tab, written into the tensorboard callback's log_dir."""

    def __init__(self, log_dir: Path, session: str, values: dict):
        self.log_dir = Path(log_dir)
        self.session = session  # the row's name (a session group of its own)
        self.values = values
        self.started = time.time()

    def start(self) -> None:
        self.started = time.time()

    def epoch(self, epoch: int, logs: dict) -> None:
        """Per-epoch curves are the Keras TensorBoard callback's."""

    def end(self, report: dict) -> None:
        import tensorflow as tf
        from tensorboard.plugins.hparams import api as hp
        from tensorboard.plugins.hparams import api_pb2
        from tensorboard.plugins.hparams import summary as hp_summary

        success = report.get("status") in ("completed", "stopped early")
        status = api_pb2.STATUS_SUCCESS if success else api_pb2.STATUS_FAILURE
        writer = tf.summary.create_file_writer(str(self.log_dir))
        with writer.as_default():
            hp.hparams(self.values, trial_id=self.session, start_time_secs=self.started)
            for kind in ("best", "test"):
                for name, value in (report.get(kind) or {}).items():
                    if value is not None and math.isfinite(value):
                        tf.summary.scalar(f"{kind}/{name}", value, step=0)
            end_pb = hp_summary.session_end_pb(status)
            tf.summary.experimental.write_raw_pb(end_pb.SerializeToString(), step=0)
        writer.close()


class Tracking:
    """The trackers of one run, called as one: start, each epoch, end."""

    def __init__(self, trackers: list, run_dir: Path):
        self.trackers = trackers
        self.run_dir = Path(run_dir)

    @classmethod
    def for_run(cls, cfg: DictConfig, run_dir: Path, data: str, model: str) -> Tracking:
        """TensorBoard HParams when the tensorboard callback is on; MLflow when logger=mlflow."""
        trackers = []
        board = cfg.callbacks.get("tensorboard")
        if board is not None and board.get("enabled", True):
            trackers.append(
                TensorBoardHParams(Path(board.log_dir), session_name(cfg, run_dir), hparams(cfg, data, model))
            )
        if check_logger(cfg.get("logger")) == "mlflow":
            from seqexp.run.mlflow_logger import MlflowRun

            trackers.append(MlflowRun(cfg, run_dir, data, model))
        return cls(trackers, run_dir)

    def start(self) -> None:
        for tracker in self.trackers:
            tracker.start()

    def callback(self):
        """A Keras callback handing every epoch's logs to the trackers (epochs counted from 1)."""
        import keras

        trackers = self.trackers

        class EpochLogs(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                for tracker in trackers:
                    tracker.epoch(epoch + 1, dict(logs or {}))

        return EpochLogs()

    def end(self) -> None:
        report = read_metrics(self.run_dir) or {"status": "failed"}
        for tracker in self.trackers:
            try:
                tracker.end(report)
            except Exception as err:  # the run's own outcome is already in metrics.json
                log.error(
                    "%s could not record the run's end: %s: %s",
                    type(tracker).__name__,
                    type(err).__name__,
                    err,
                )


def session_name(cfg: DictConfig, run_dir: Path) -> str:
    """The run's path below the outputs folder (unique, unlike a sweep job's `0_jena_gru`)."""
    run_dir = Path(run_dir).resolve()
    try:
        return run_dir.relative_to(Path(cfg.paths.output_dir).resolve()).as_posix()
    except ValueError:
        return run_dir.as_posix()
