"""One trial: the train config composed with the trial's overrides, trained into an ordinary run
directory, and the Keras callback that feeds the pruner after every epoch.

The run directory is what `seqexp train <overrides> hydra.run.dir=<dir>` would write (.hydra/
included), so `seqexp resume`, `seqexp summarize` and every reader of run directories work on a
trial unchanged. A trial that runs again (its worker died) trains into the same folder and
resumes from its backup; a folder whose run already finished is not trained again.
"""

from __future__ import annotations

import logging
from pathlib import Path

import keras

from seqexp.atomic import write_text
from seqexp.config.checks import check
from seqexp.errors import SeqexpError
from seqexp.run.record import RunRecord, Status, read_record, record_failure

log = logging.getLogger(__name__)


class Pruned(Exception):
    """The trial's run was stopped by the pruner (its run directory says so)."""


class ReportToTrial(keras.callbacks.Callback):
    """After every epoch: the monitored value goes to the trial; if the pruner says so, training
    stops and `verdict` tells train to record the run as pruned after this epoch."""

    def __init__(self, trial, monitor: str, pruner: str):
        super().__init__()
        self.trial = trial
        self.monitor = monitor
        self.pruner = pruner
        self.verdict: dict | None = None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            return
        self.trial.report(float(value), step=epoch + 1)  # step = epochs trained (resume-safe)
        if self.trial.should_prune():
            self.model.stop_training = True
            self.verdict = {
                "status": Status.PRUNED,
                "pruned_epoch": epoch + 1,
                "reason": f"pruned by Optuna's {self.pruner} pruner after epoch "
                f"{epoch + 1} ({self.monitor} = {float(value):.4g})",
            }


def compose(overrides: list[str], number: int, root: Path):
    """(config without its hydra node, hydra node, run dir) for trial `number`, exactly as
    `seqexp train` composes it; the run dir is hydra.sweep.subdir under the search root."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import open_dict, read_write

    from seqexp.config import CONF_DIR

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = hydra_compose(
            "train", overrides=[*overrides, f"hydra.job.num={number}"], return_hydra_config=True
        )
    HydraConfig.instance().set_config(cfg)  # resolves ${hydra:runtime.choices.data} in the subdir
    run_dir = root / str(cfg.hydra.sweep.subdir)
    with read_write(cfg.hydra), open_dict(cfg.hydra):
        cfg.hydra.runtime.output_dir = str(run_dir)  # paths.run_dir = ${hydra:runtime.output_dir}
    HydraConfig.instance().set_config(cfg)
    hydra_cfg = HydraConfig.get()
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg, hydra_cfg, run_dir


def write_hydra_dir(run_dir: Path, cfg, hydra_cfg, overrides: list[str]) -> None:
    """.hydra/config.yaml, hydra.yaml and overrides.yaml, as Hydra writes them for a job."""
    from omegaconf import OmegaConf

    folder = run_dir / ".hydra"
    folder.mkdir(parents=True, exist_ok=True)
    write_text(folder / "config.yaml", OmegaConf.to_yaml(cfg))
    write_text(folder / "hydra.yaml", OmegaConf.to_yaml(OmegaConf.create({"hydra": hydra_cfg})))
    write_text(folder / "overrides.yaml", OmegaConf.to_yaml(OmegaConf.create(list(overrides))))


def run_trial(trial, overrides: list[str], root: Path, pruner: str, threads: int | None) -> float:
    """Train trial `trial` with `overrides`; returns the best monitored value, raises Pruned."""
    from omegaconf import open_dict

    cfg, hydra_cfg, run_dir = compose(overrides, trial.number, root)
    trial.set_user_attr("run_dir", run_dir.name)
    done = read_record(run_dir)
    if done is not None and not done.may_continue:  # ended before its worker died: not run again
        # (a full disk's failure is resumable and trains on from its backup)
        log.info("Trial %d: %s already finished (%s)", trial.number, run_dir.name, done.status)
        return finished_value(done)
    if threads is not None and cfg.trainer.threads == "auto":
        with open_dict(cfg):  # the share of this worker (trainer.threads=auto, seqexp.run.runtime)
            cfg.trainer.threads = threads
    write_hydra_dir(run_dir, cfg, hydra_cfg, overrides)
    try:
        check(cfg)  # every bad value of this trial in one message, as `seqexp train` does
    except SeqexpError as err:
        record_failure(run_dir, err)
        raise
    log.info("Trial %d: %s with %s", trial.number, run_dir.name, " ".join(overrides))

    from seqexp.run.train import train

    callbacks: list[ReportToTrial] = []

    def reporter(monitor):
        callbacks.append(ReportToTrial(trial, monitor.name, pruner))
        return callbacks

    try:
        value = train(cfg, more_callbacks=reporter)
    finally:
        keras.backend.clear_session()  # the next trial of this worker starts from a clean graph
    if callbacks and callbacks[0].verdict:
        raise Pruned(callbacks[0].verdict["reason"])
    return value


def finished_value(record: RunRecord) -> float:
    """The value of a run that already ended (Pruned for a pruned one, its error for a failed one)."""
    if record.status is Status.FAILED:
        raise SeqexpError(record.reason or "failed")
    if record.status is Status.PRUNED:
        raise Pruned(record.reason or "pruned")
    return float(record.best[record.monitor])
