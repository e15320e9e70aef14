"""What a run reports to the comparison tools: TensorBoard's HParams tab (seqexp.run.hparams,
when the tensorboard callback is on), MLflow (seqexp.run.mlflow_logger, when logger=mlflow) or
Weights & Biases (seqexp.run.wandb_logger, when logger=wandb).

train.py holds one `Tracking` object per run: `start()` before training, `callback()` (a Keras
callback that hands each epoch's logs on) during it, and `end(record)` however the run ends,
with the run's last record (seqexp.run.record) from the training code, so a failed, interrupted
or pruned run is reported with its status.
A tracker's failure at the end is logged, never raised: it must not hide how the run ended.

This module imports neither TensorFlow nor MLflow nor wandb until a run needs them.
"""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig

from seqexp.errors import SeqexpError
from seqexp.run.hparams import TensorBoardHParams, hparams, session_name
from seqexp.run.record import RunRecord

log = logging.getLogger(__name__)

LOGGERS = ("none", "mlflow", "wandb")  # the options of conf/logger


def check_logger(logger) -> str:
    """The logger option's name; a value conf/logger has no option for is refused."""
    name = "none" if logger is None else logger.get("name")
    if name not in LOGGERS:
        raise SeqexpError(
            f"logger.name={name!r} is not a logger; choose logger=none (the default), "
            "logger=mlflow or logger=wandb (conf/logger/)."
        )
    return name


class Tracking:
    """The trackers of one run, called as one: start, each epoch, end."""

    def __init__(self, trackers: list, run_dir: Path):
        self.trackers = trackers
        self.run_dir = Path(run_dir)

    @classmethod
    def for_run(cls, cfg: DictConfig, run_dir: Path, data: str, model: str) -> Tracking:
        """TensorBoard HParams when the tensorboard callback is on; MLflow or W&B as logger= says."""
        trackers = []
        board = cfg.callbacks.get("tensorboard")
        if board is not None and board.get("enabled", True):
            trackers.append(
                TensorBoardHParams(Path(board.log_dir), session_name(cfg, run_dir), hparams(cfg, data, model))
            )
        logger = check_logger(cfg.get("logger"))
        if logger == "mlflow":
            from seqexp.run.mlflow_logger import MlflowRun

            trackers.append(MlflowRun(cfg, run_dir, data, model))
        elif logger == "wandb":
            from seqexp.run.wandb_logger import WandbRun

            trackers.append(WandbRun(cfg, run_dir))
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
                    try:
                        tracker.epoch(epoch + 1, dict(logs or {}))
                    except Exception as err:  # a tracker that went away must not stop training
                        log.error(
                            "%s could not record epoch %d: %s: %s",
                            type(tracker).__name__,
                            epoch + 1,
                            type(err).__name__,
                            err,
                        )

        return EpochLogs()

    def end(self, record: RunRecord) -> None:
        for tracker in self.trackers:
            try:
                tracker.end(record)
            except Exception as err:  # the run's own outcome is already in its record
                log.error(
                    "%s could not record the run's end: %s: %s",
                    type(tracker).__name__,
                    type(err).__name__,
                    err,
                )
