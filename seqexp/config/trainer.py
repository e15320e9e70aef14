"""trainer: how a run fits (conf/trainer/default.yaml holds the values; this, their types).

The trainer is the run's own settings, not something instantiated, so its schema is this
TypedDict instead of a function signature; seqexp.config.checks reads both the same way.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from typing_extensions import TypedDict

from seqexp.config.types import BatchSize, Mode, NonNegativeNumber, PositiveInt, Seed

Steps = Annotated[int, Field(ge=1, description="null: the whole split")]
Strategy = Literal["mirrored", "multi_worker"]  # tf.distribute strategies; null: one device


# The Keras backend of the run, set as KERAS_BACKEND before Keras loads (seqexp.cli.hydra_app)
Backend = Literal["tensorflow", "jax"]


class Trainer(TypedDict):
    backend: Backend
    epochs: PositiveInt
    batch_size: BatchSize
    steps_per_epoch: Steps | None
    validation_steps: Steps | None
    test_steps: Steps | None
    seed: Seed
    verbose: Literal[0, 1, 2]  # Keras fit: silent, progress bar, one line per epoch
    monitor: Annotated[str, Field(min_length=1, description="a metric the run logs, e.g. val_loss")]
    mode: Mode
    loss: str | None
    metrics: list[str] | None
    threads: Literal["auto"] | PositiveInt | None
    strategy: Strategy | None
    cpu_devices: PositiveInt | None
    mixed_precision: bool
    jit_compile: bool
    fast: bool  # FAST_STEPS_PER_EXECUTION steps per call, XLA where it pays off (seqexp.run.build)
    curves_every_s: Annotated[
        NonNegativeNumber, Field(description="redraw the curve PNGs at most this often; 0: every epoch")
    ]
