"""The switchable callbacks of a run (conf/callbacks/default.yaml): one factory each, whose
signature is its schema, and the function that builds the enabled ones with the run's monitor.

TensorFlow-free: the factories import the Keras classes (seqexp.run.keras_callbacks) only when
they build, so the CLI can check callbacks.* before TensorFlow loads.
"""

from __future__ import annotations

from typing import Annotated

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pydantic import Field

from seqexp.config.checks import SWITCH, checked
from seqexp.config.types import Mode
from seqexp.run.monitor import Monitor, best_mode

Monitored = Annotated[str, Field(min_length=1, description="a metric the run logs; null: trainer.monitor")]


@checked("callbacks.checkpoint")
def checkpoint(*, filepath: str, monitor: Monitored | None, mode: Mode | None, save_best_only: bool):
    """The best weights by the monitor, written atomically to `filepath` (the one place the run,
    and through its record predict, export and generate, learn where they are)."""
    from seqexp.run.keras_callbacks import AtomicModelCheckpoint

    # One file that the run reloads, not a Keras name template: braces in a folder name (a run dir
    # such as `run {a}`) are literal, where Keras would format them with the epoch's logs.
    literal = filepath.replace("{", "{{").replace("}", "}}")
    return AtomicModelCheckpoint(literal, monitor=monitor, mode=mode, save_best_only=save_best_only)


@checked("callbacks.early_stopping")
def early_stopping(
    *,
    monitor: Monitored | None,
    mode: Mode | None,
    patience: Annotated[int, Field(ge=0, description="epochs without improvement before stop")],
    restore_best_weights: bool,
):
    import keras

    return keras.callbacks.EarlyStopping(
        monitor=monitor, mode=mode, patience=patience, restore_best_weights=restore_best_weights
    )


@checked("callbacks.tensorboard")
def tensorboard(*, log_dir: str):
    """Keras' TensorBoard logs, written per epoch (train/ and validation/ scalars, the model
    summary), without Keras' per-batch work (seqexp.run.keras_callbacks.EpochTensorBoard)."""
    import keras

    from seqexp.run.keras_callbacks import EpochEvents, EpochTensorBoard

    if keras.backend.backend() != "tensorflow":  # Keras' callback writes with tf.summary only
        return EpochEvents(log_dir=log_dir)
    return EpochTensorBoard(log_dir=log_dir)


@checked("callbacks.backup")
def backup(
    *,
    backup_dir: str,
    every_s: Annotated[float, Field(ge=0, description="seconds between backups; 0: every epoch")],
):
    """Weights, optimizer state and epoch after the first epoch, then at most every `every_s`
    seconds, and when training ends: an interrupted run resumes after the last backed-up epoch
    (exactly: the epochs after it run again on the same batches)."""
    from seqexp.run.keras_callbacks import AtomicBackupAndRestore

    return AtomicBackupAndRestore(backup_dir=backup_dir, every_s=every_s)


def callback_monitors(callbacks_cfg: DictConfig) -> dict[str, str | None]:
    """{"callbacks.<name>.monitor": its value} of every enabled callback that has a monitor;
    None means "the run's monitor" (trainer.monitor, settled once by seqexp.run.monitor)."""
    return {
        f"callbacks.{name}.monitor": node.get("monitor")
        for name, node in callbacks_cfg.items()
        if node.get(SWITCH, True) and "monitor" in node
    }


def configured_callbacks(callbacks_cfg: DictConfig, monitor: Monitor) -> list:
    """Build every callback of cfg.callbacks whose `enabled` flag is true; a monitor or mode left
    null is the run's own."""
    built = []
    for node in callbacks_cfg.values():
        kwargs = OmegaConf.to_container(node, resolve=True)
        if not kwargs.pop(SWITCH, True):
            continue
        if "monitor" in kwargs:
            own = kwargs["monitor"] is not None and kwargs["monitor"] != monitor.name
            kwargs["monitor"] = kwargs["monitor"] or monitor.name
            if "mode" in kwargs:
                kwargs["mode"] = (
                    best_mode(kwargs["monitor"], kwargs["mode"])
                    if own
                    else (kwargs["mode"] if kwargs["mode"] in ("min", "max") else monitor.mode)
                )
        built.append(instantiate(kwargs))
    return built
