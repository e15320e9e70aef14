"""The data contract: what a dataset hands to the rest of the run.

A loader returns a `DataBundle`; models, training and reports read only the bundle and its
`DataSpec`, never the loader's internals. Loaders declare the input kind they produce with
`@provides(...)` so that an incompatible model is refused before any data is read.

`serving` is the serving side of the contract (seqexp/data/serving.py): what a trained model
needs to read new input and how. A spec that has one writes it to the run directory's
serving.json after training (the `save_serving` report is added here, once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TASKS = ("binary", "multiclass", "regression", "next_token")
INPUT_KINDS = ("tokens", "timeseries", "image")
SAVE_SERVING = "seqexp.data.serving.save_serving"


@dataclass(frozen=True)
class Report:
    """A task extra named by its function, so a data module never imports the reports:
    `target(model, bundle, run_dir, **options)` writes its files (plots, samples.txt, a
    vocabulary) and returns a dict stored under `name` in metrics.json["extras"]."""

    target: str  # "package.module.function"
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.target.rsplit(".", 1)[-1]


@dataclass
class DataSpec:
    """What a model and the reports need to know about a dataset."""

    task: str
    input_kind: str
    input_shape: tuple  # one sample's shape, without the batch axis
    num_classes: int | None = None
    vocab_size: int | None = None  # tokens: embedding input size, padding index 0 included
    target_name: str | None = None
    target_index: int | None = None  # timeseries: column of the target among the input features
    target_scale: float | None = None  # normalised error x scale = error in target_unit
    target_unit: str | None = None
    time_reversed: bool = False  # timeseries windows are fed newest-first
    class_names: list[str] | None = None
    vocabulary: list[str] | None = None
    info: dict[str, Any] = field(default_factory=dict)  # facts for the log and metrics.json
    # Task extras, run after the best weights are restored and the test split is evaluated.
    reports: list[Report] = field(default_factory=list)
    serving: Any = None  # a seqexp.data.serving.Serving: `seqexp predict` / `seqexp export`

    def __post_init__(self) -> None:
        if self.serving is not None and SAVE_SERVING not in [r.target for r in self.reports]:
            self.reports.append(Report(SAVE_SERVING))
        if self.task not in TASKS:
            raise ValueError(f"task {self.task!r} is not one of {TASKS}")
        if self.input_kind not in INPUT_KINDS:
            raise ValueError(f"input_kind {self.input_kind!r} is not one of {INPUT_KINDS}")


@dataclass
class DataBundle:
    """Batches of (input, target) pairs (seqexp.data.pipeline: tf.data on TensorFlow, a NumPy
    PyDataset on JAX), plus their spec.

    `train` may be infinite only if the loader says so in the spec; `val` may be None when the
    protocol has no validation split (the run then monitors training metrics).
    """

    train: Any
    val: Any
    test: Any
    spec: DataSpec


def provides(input_kind: str, sequence_length=None):
    """Mark a loader with the input kind it produces and, when its config decides it, a function
    of the data config giving the timesteps of one sample (both read before the loader runs)."""
    if input_kind not in INPUT_KINDS:
        raise ValueError(f"input kind {input_kind!r} is not one of {INPUT_KINDS}")

    def mark(loader):
        loader.input_kind = input_kind
        loader.sequence_length = sequence_length
        return loader

    return mark
