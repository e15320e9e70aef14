"""A run's trained model and what it needs to read new input (seqexp.data.serving: declared by
the dataset's own module, written to the run's serving.json): the one pair `seqexp predict`
runs and `seqexp export` writes, so both give the same outputs on the same inputs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from seqexp.data.serving import Serving, load_serving
from seqexp.errors import SeqexpError, disk_failure
from seqexp.run.record import read_record, run_checkpoint


@dataclass
class Run:
    path: Path
    serving: Serving  # serving.json (or an older run's files), read back
    model: object  # the trained keras model, as checkpointed


def check_run_dir(run) -> Path:
    run = Path(str(run)).expanduser()
    if not run.is_dir():
        raise SeqexpError(
            f"run={run} is not a directory; give the run directory of a `seqexp train` "
            f"run (e.g. outputs/<date>/<time>_<data>_<model>)."
        )
    return run


def make_parent(path: Path, key: str = "output") -> None:
    """Create the folder `path` goes into; a path that cannot have one is a user's mistake."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        if disk_failure(err):
            raise  # a full disk or an unwritable folder: the CLI says so in one sentence
        raise SeqexpError(
            f"{key}={path}: its folder {path.parent} cannot be made ({err.strerror or err}); "
            f"give a path in a folder that exists or can be created."
        ) from None


def load_run(run, checkpoint: str | None = None) -> Run:
    """The serving record and the checkpoint of a run directory, or a SeqexpError saying why not."""
    run = check_run_dir(run)
    serving = load_serving(run)
    ckpt = run / (checkpoint or run_checkpoint(run))
    if not ckpt.exists() and checkpoint is None and (record := read_record(run)) and record.checkpoint:
        raise SeqexpError(
            f"run={run} kept its best weights at {ckpt}, and that file is gone (deleted, or moved "
            f"out of the run folder): put it back, or point checkpoint=<path inside the run> at "
            f"another .keras file."
        )
    if not ckpt.exists():
        raise SeqexpError(
            f"run={run} has no checkpoint at {ckpt}: the model has no trainable weights (the naive "
            f"baseline needs no model: it repeats the last value), or the run was trained with "
            f"callbacks.checkpoint.enabled=false. Train with checkpoints on, or point "
            f"checkpoint=<path inside the run> at another .keras file."
        )
    import keras  # only now: the checks above answer without loading TensorFlow

    try:
        model = keras.models.load_model(ckpt, compile=False, safe_mode=True)
    except Exception as err:  # a truncated or foreign file: say which one
        raise SeqexpError(f"Could not load the checkpoint {ckpt}: {type(err).__name__}: {err}") from None
    return Run(run, serving, model)


def serving_model(run: Run, text: bool = True):
    """The trained model with the dataset's preprocessing in front (`text=False`: numbers in)."""
    return run.serving.serving_model(run.model, run.path, text)
