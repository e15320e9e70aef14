"""The one train entrypoint: config -> data -> model -> fit -> run-directory artifacts.

`train(cfg)` returns the best value of the monitored metric, so a sweeper or a search can optimise
it; a search adds its own callbacks (`more_callbacks`, e.g. the pruner's reporter, seqexp.search).
Every file of the run directory (docs/runs.md) is written here or by the callbacks it installs,
each atomically (seqexp.atomic). The run's record (metrics.json, seqexp.run.record) is handed
along as training goes: it says "running" from the start and is rewritten when the run
completes, is interrupted (Ctrl-C, SIGTERM) or fails, with the reason; so a killed run never
claims success.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from hydra.utils import get_method, instantiate
from omegaconf import DictConfig, OmegaConf

from seqexp import backend
from seqexp.atomic import write_text
from seqexp.config.checks import check
from seqexp.data.pipeline import length_of, repeat_from
from seqexp.errors import SeqexpError
from seqexp.interrupt import as_interrupted, stop_on_signals
from seqexp.models.heads import TASK_HEADS
from seqexp.models.metrics import resolve
from seqexp.run.build import build, steps_per_execution, xla_speeds_up
from seqexp.run.callbacks import callback_monitors
from seqexp.run.console import closing, device_line, header
from seqexp.run.environment import capture, keep_patch, key_facts, write_env
from seqexp.run.identity import config_identity, read_identity, write_identity
from seqexp.run.lock import locked
from seqexp.run.monitor import Monitor, logged_names, settle
from seqexp.run.record import Recorder, RunRecord, Status, compare_reference, failure_reason
from seqexp.run.resume import backup_record, check_history, history_so_far
from seqexp.run.rundir import check_run_dir, run_labels
from seqexp.run.runtime import configure_job, deterministic_ops, seed_everything
from seqexp.run.tracking import Tracking

log = logging.getLogger(__name__)


@contextmanager
def run_log(path: Path):
    """Send every log record of the run to train.log as well as the console; yields a function
    that writes a message to train.log only (the composed config: too long for a console)."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("[%(asctime)s][%(name)s][%(levelname)s] %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    try:
        yield lambda msg, *args: handler.handle(
            log.makeRecord(log.name, logging.INFO, __file__, 0, msg, args, None)
        )
    except SeqexpError as err:  # into train.log only: the CLI shows it on the terminal once
        handler.handle(log.makeRecord(log.name, logging.ERROR, __file__, 0, "%s", (err,), None))
        raise
    finally:
        root.removeHandler(handler)
        handler.close()


def run_overrides() -> list[str] | None:
    """The command-line overrides of this run (None outside a Hydra job)."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return None
    return [str(o) for o in HydraConfig.get().overrides.task]


def backup_dir(cfg: DictConfig) -> str | None:
    """The backup folder of the run (None with callbacks.backup.enabled=false)."""
    backup = cfg.callbacks.get("backup")
    return backup.backup_dir if backup is not None and backup.get("enabled", True) else None


def checkpoint_path(cfg: DictConfig) -> Path | None:
    """The file of the best weights (callbacks.checkpoint.filepath; None with the checkpoint off):
    the one place training, the test evaluation and the record learn where it is."""
    saver = cfg.callbacks.get("checkpoint")
    return Path(saver.filepath) if saver is not None and saver.get("enabled", True) else None


def relative_checkpoint(path: Path | None, run_dir: Path) -> str | None:
    """The checkpoint as the record keeps it: relative to the run dir (which may move), or
    absolute when it lies outside."""
    if path is None:
        return None
    try:
        return path.resolve().relative_to(Path(run_dir).resolve()).as_posix()
    except ValueError:
        return str(path.resolve())


def run_names(cfg: DictConfig) -> tuple[str, str]:
    """The data and model options chosen on the command line (or the builder names in-process)."""
    from hydra.core.hydra_config import HydraConfig

    if HydraConfig.initialized():
        choices = HydraConfig.get().runtime.choices
        return choices["data"], choices["model"]
    return cfg.data._target_.rsplit(".", 1)[-1], cfg.model._target_.rsplit(".", 1)[-1]


def in_target_units(metrics: dict, spec) -> dict:
    """Add `<name>_<unit>` for every absolute-error metric of a normalised regression target."""
    if spec.task != "regression" or not spec.target_scale or not spec.target_unit:
        return metrics
    extra = {f"{k}_{spec.target_unit}": v * spec.target_scale for k, v in metrics.items() if "mae" in k}
    return {**metrics, **extra}


def find(callbacks: list, kind: type):
    """The first callback of a kind among the configured ones, or None if it is switched off."""
    return next((c for c in callbacks if isinstance(c, kind)), None)


def limit(dataset, steps):
    """The first `steps` batches (None = all); an infinite or repeated set must be limited."""
    return dataset if dataset is None or steps is None else dataset.take(steps)


def train(cfg: DictConfig, more_callbacks=None) -> float:
    """`more_callbacks(monitor) -> [keras callbacks]`: added to the configured ones. One that sets
    `verdict` (a dict such as {"status": "pruned", "reason": ..., "pruned_epoch": 3}) when it
    stops training says how the run ended, in its record (a verdict ends only a successful fit)."""
    check(cfg)  # every bad value in one message, whoever calls (the CLI checks before TF loads too)
    backend.choose(cfg.trainer.backend)  # refused if Keras already runs another backend here
    run_dir = Path(cfg.paths.run_dir)
    # Nothing is written before these refusals: a finished run, another config's run (its
    # identity.json), a folder in use (run.lock), a backup whose epochs history.csv lacks.
    identity, overrides = config_identity(cfg), run_overrides()
    check_run_dir(run_dir, identity, overrides or [])
    labels = run_labels(cfg)  # a bad tag or reference is refused before anything is written
    with locked(run_dir):
        check_history(run_dir, backup_dir(cfg))
        if read_identity(run_dir) is None:
            write_identity(run_dir, identity, overrides)
        tracking = Tracking.for_run(cfg, run_dir, *run_names(cfg))  # TensorBoard HParams, MLflow
        checkpoint = checkpoint_path(cfg)
        if checkpoint is not None:
            checkpoint.parent.mkdir(parents=True, exist_ok=True)
        recorder = Recorder(run_dir)
        with run_log(run_dir / "train.log") as file_only, stop_on_signals():
            file_only("Composed config:\n%s", OmegaConf.to_yaml(cfg, resolve=True))
            startup = backend.take_startup_messages()  # kept off the console (backend.quiet_start)
            if startup:
                file_only("The backend's start-up messages:\n%s", startup.rstrip())
            for line in header(cfg, run_dir, *run_names(cfg)):
                log.info("%s", line)
            try:
                tracking.start()
                return _train(cfg, recorder, labels, tracking, more_callbacks)
            except KeyboardInterrupt as err:
                stop = as_interrupted(err)
                recorder.settle(Status.INTERRUPTED, stop.reason)
                raise stop from None
            except Exception as err:  # outside training (a nan loss is recorded as it happens)
                recorder.settle(Status.FAILED, failure_reason(err), resumable=True)
                raise
            finally:  # however the run ended, as its record last said
                tracking.end(recorder.record or RunRecord(status=Status.FAILED))


def _train(
    cfg: DictConfig, recorder: Recorder, labels: dict, tracking: Tracking, more_callbacks=None
) -> float:
    started = time.perf_counter()
    run_dir = recorder.run_dir
    data_name, model_name = run_names(cfg)
    checkpoint = checkpoint_path(cfg)
    # tags, note and the book's figure (compared with ours once there is a value)
    record = recorder.write(
        RunRecord(
            data=data_name,
            model=model_name,
            **{**labels, "reference": compare_reference(labels["reference"], RunRecord())},
            checkpoint=relative_checkpoint(checkpoint, run_dir),
            status=Status.RUNNING,
            reason=None,
        )
    )
    trainer = cfg.trainer
    scope = configure_job(trainer)  # thread pools, devices, tf.distribute: before TF's first op
    seed_everything(trainer.seed)
    with scope:  # model and optimizer variables live on the strategy's devices
        data, model = build(cfg, data_name, model_name)
        spec = data.spec
        # JAX without jit runs op by op (~1 s a step): XLA always; TF: as asked, or where it pays off
        xla = trainer.backend == "jax" or trainer.jit_compile or (trainer.fast and xla_speeds_up(model))
        deterministic_ops(xla)

        _, default_loss, default_metrics = TASK_HEADS[spec.task]
        metrics = list(trainer.metrics or default_metrics)  # names, as Keras will log them
        model.compile(
            optimizer=instantiate(cfg.optimizer),
            loss=trainer.loss or default_loss,
            metrics=resolve(metrics),
            jit_compile=xla,
        )
    # env.json in full, its gist in the record
    env = write_env(run_dir, keep_patch(run_dir, capture(cfg, xla)))
    log.info("%s", device_line(env))
    record = recorder.write(record.but(env=key_facts(env)))
    lines = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line), expand_nested=True)
    write_text(run_dir / "model_summary.txt", "\n".join(lines) + "\n")

    has_val = data.val is not None
    monitor = settle(
        trainer.monitor,
        trainer.mode,
        logged_names(metrics, has_val),
        has_val,
        callback_monitors(cfg.callbacks),
        data_name,
    )
    val = limit(data.val, trainer.validation_steps)
    test = limit(data.test, trainer.test_steps)
    # what fit adds (status, epochs) goes on from here; the file says "running" until it ends
    record = record.but(task=spec.task, monitor=monitor.name, mode=monitor.mode, data_info=spec.info)

    if not model.trainable_weights:  # the naive baseline: nothing to fit, evaluate only
        log.info("model=%s has no trainable weights: evaluating without training", model_name)
        best_metrics = {f"val_{k}": v for k, v in model.evaluate(val, verbose=0, return_dict=True).items()}
        record = record.but(status=Status.COMPLETED, best_epoch=None, epochs_run=0, samples_per_second=None)
        return _finish(model, data, test, recorder, record, best_metrics, monitor, started, labels)[0]

    title = f"{data_name} / {model_name}"
    extra = [tracking.callback(), *(more_callbacks(monitor) if more_callbacks else [])]
    fit = _fit(cfg, model, data.train, val, recorder, record, title, monitor, extra)
    record, history = fit.record, fit.reporter.history
    if record.status is Status.INTERRUPTED and not history:
        recorder.write(record.but(epochs_run=0))
        raise fit.stop
    if monitor.name not in history:
        raise SeqexpError(f"trainer.monitor={monitor.name} was never logged; logged: {sorted(history)}.")
    values = history[monitor.name]
    best_index = monitor.best_index(values)
    best_metrics = {k: v[best_index] for k, v in history.items()} if best_index is not None else {}
    record = record.but(
        best_epoch=None if best_index is None else best_index + 1,
        epochs_run=len(values),
        samples_per_second=fit.reporter.samples_per_second,
    )

    if record.status in (Status.INTERRUPTED, Status.FAILED):  # Ctrl-C/SIGTERM, or a nan loss
        record = record.but(
            best=in_target_units(best_metrics, spec), wall_time_s=time.perf_counter() - started
        )
        record = recorder.write(record.but(reference=compare_reference(labels["reference"], record)))
        if fit.stop is not None:
            raise fit.stop
        raise SeqexpError(
            f"Training diverged: {record.reason}. The curves and the best "
            f"checkpoint so far are kept in {run_dir}; try a lower "
            f"optimizer.learning_rate."
        )

    stopper = fit.stopper
    if checkpoint is not None and checkpoint.exists():
        model.load_weights(checkpoint)
        weights = "best checkpoint"
    elif fit.restored_best or (
        stopper is not None and stopper.restore_best_weights and stopper.best_weights is not None
    ):
        weights = "best epoch (early stopping)"
    else:
        weights = "last epoch"
    value, record = _finish(
        model, data, test, recorder, record.but(weights=weights), best_metrics, monitor, started, labels
    )
    if record.finished and backup_dir(cfg) is not None:
        # the record says finished: the backup (kept after fit, for a kill during the test
        # evaluation or the reports) has nothing left to resume
        shutil.rmtree(backup_dir(cfg), ignore_errors=True)
    return value


class Fit(NamedTuple):
    """How fit went: the reporter (the per-epoch history, old epochs included), the early-stopping
    callback (or None), the Interrupted signal that stopped training (or None), the record with
    the fit's status (and `resumed_after_epoch` when resumed), and whether the backup says early
    stopping already restored its best weights (a run killed after fit)."""

    reporter: Any
    stopper: Any
    stop: Any
    record: RunRecord
    restored_best: bool


def _fit(
    cfg,
    model,
    train_ds,
    val,
    recorder: Recorder,
    record: RunRecord,
    title: str,
    monitor: Monitor,
    extra: list = (),
) -> Fit:
    """model.fit with the run's callbacks, resuming from a backup if one is there.

    `extra`: more Keras callbacks (the run's trackers, seqexp.run.tracking; a search's pruner,
    seqexp.search; one that sets `verdict` says how the run ended). A failure inside fit (a
    damaged backup, a full disk) is recorded, resumable, and raised.
    """
    import keras

    from seqexp.run.callbacks import configured_callbacks
    from seqexp.run.keras_callbacks import RunReporter, StopOnNaN, StopOnSignal, epoch_progress

    trainer = cfg.trainer
    run_dir = recorder.run_dir
    reporter = RunReporter(
        run_dir,
        trainer.batch_size,
        title=title,
        monitor=monitor,
        reference=cfg.get("reference"),
        curves_every_s=trainer.curves_every_s,
    )
    switchable = configured_callbacks(cfg.callbacks, monitor)
    backup = find(switchable, keras.callbacks.BackupAndRestore)
    stopper = find(switchable, keras.callbacks.EarlyStopping)
    done, reporter.history = history_so_far(run_dir, backup)
    saved = backup_record(backup.backup_dir) if reporter.history else {}
    if reporter.history:
        log.info("Resuming after epoch %d from %s", done, backup.backup_dir)
        record = record.but(resumed_after_epoch=done)
        saver = find(switchable, keras.callbacks.ModelCheckpoint)
        if saver is not None:  # a resumed epoch must beat the best so far to be saved
            if saver.monitor not in reporter.history:
                raise SeqexpError(
                    f"{run_dir / 'history.csv'} has no {saver.monitor} column, the checkpoint's "
                    f"monitor: resuming could let a worse epoch replace the best checkpoint. Put "
                    f"the run's history.csv back, or delete {backup.backup_dir} to train from epoch 1."
                )
            saver.best = Monitor(saver.monitor, saver.mode).best(reporter.history[saver.monitor])
    else:
        done = 0
    if backup is not None:
        backup.stopper = stopper
    # One endless stream of batches, `steps` per epoch: each pass over the data reshuffles (seeded),
    # and a resumed run skips the batches of the epochs already done, so it sees exactly the
    # batches an uninterrupted run would have seen.
    steps = trainer.steps_per_epoch or length_of(train_ds)
    train_ds = repeat_from(train_ds, done * steps)
    if trainer.fast:  # read by fit when it builds its train function
        model.steps_per_execution = steps_per_execution(steps)
    nan_guard = StopOnNaN()
    verbose, epoch_lines = epoch_progress(trainer.verbose, trainer.epochs)  # no bar redraws in a log file
    stop = None
    record = record.but(status=Status.COMPLETED, reason=None)
    try:
        model.fit(
            train_ds,
            validation_data=val,
            # a backup of a finished fit (killed in the test evaluation or the reports): no epoch
            # is trained again; Keras restores its weights
            epochs=done if saved.get("trained") else trainer.epochs,
            steps_per_epoch=steps,
            callbacks=[StopOnSignal(), nan_guard, reporter, *switchable, *extra, epoch_lines],
            verbose=verbose,
            shuffle=False,
        )  # the loader shuffles the training data itself
    except KeyboardInterrupt as err:
        stop = as_interrupted(err)
        record = record.but(status=Status.INTERRUPTED, reason=stop.reason)
    except Exception as err:  # a damaged backup, a full disk: resumable once the cause is gone
        failed = record.but(status=Status.FAILED, reason=f"{type(err).__name__}: {err}", resumable=True)
        recorder.write(failed.but(epochs_run=reporter.epochs_run))
        raise
    finally:
        reporter.draw()  # the curves of every logged epoch, however fit ended
    if nan_guard.where is not None:
        record = record.but(
            status=Status.FAILED, reason=f"nan loss: the loss became {nan_guard.loss} at {nan_guard.where}"
        )
    stopped = stopper is not None and stopper.stopped_epoch > 0 or saved.get("stopped_early")
    if record.status is Status.COMPLETED and stopped:
        record = record.but(status=Status.STOPPED_EARLY)
    verdict = next((c.verdict for c in extra if getattr(c, "verdict", None)), None)
    if verdict and record.successful:
        record = record.but(**verdict)  # e.g. pruned by a search, after epoch N
    return Fit(reporter, stopper, stop, record, bool(saved.get("restored_best")))


def _finish(
    model, data, test, recorder: Recorder, record: RunRecord, best_metrics, monitor, started, labels
) -> tuple[float, RunRecord]:
    """Evaluate the restored model on the test split, run the task's reports, write the record;
    returns the best monitored value and the record."""
    spec = data.spec
    test_metrics = model.evaluate(test, verbose=0, return_dict=True)
    tested = dataclasses.replace(data, test=test)  # the reports see the batches evaluate saw
    extras = {
        r.name: get_method(r.target)(model, tested, recorder.run_dir, **r.options) for r in spec.reports
    }
    if extras:
        record = record.but(extras=extras)
    record = record.but(
        best=in_target_units(best_metrics, spec),
        test=in_target_units({k: float(v) for k, v in test_metrics.items()}, spec),
        wall_time_s=time.perf_counter() - started,
    )
    reference = compare_reference(labels["reference"], record)
    record = recorder.write(record.but(reference=reference))
    for line in closing(record, monitor.name, recorder.run_dir):
        log.info("%s", line)
    return float(best_metrics[monitor.name]), record
