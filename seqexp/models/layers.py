"""Keras layers of seqexp's own (imported by the builders that use them, with Keras)."""

from __future__ import annotations

import keras


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
