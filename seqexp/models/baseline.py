"""The common-sense baseline: tomorrow's target equals its latest observed value (no training)."""

from __future__ import annotations

import keras

from seqexp.data.spec import DataSpec
from seqexp.errors import SeqexpError
from seqexp.models.heads import accepts, model_input


class LatestValue(keras.layers.Layer):
    """Picks the target column at the newest timestep of each window, shape (batch, 1)."""

    def __init__(self, column: int, newest_first: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.column = column
        self.newest_first = newest_first

    def call(self, windows):
        newest = windows[:, 0, :] if self.newest_first else windows[:, -1, :]
        return newest[:, self.column : self.column + 1]

    def get_config(self):
        return {**super().get_config(), "column": self.column, "newest_first": self.newest_first}


@accepts("timeseries")
def build_naive(spec: DataSpec) -> keras.Model:
    if spec.target_index is None:
        raise SeqexpError(
            f"model=naive predicts the latest observed {spec.target_name!r}, so data.features "
            f"must include the target column."
        )
    inputs = model_input(spec)
    outputs = LatestValue(spec.target_index, newest_first=spec.time_reversed)(inputs)
    return keras.Model(inputs, outputs, name="naive")
