"""The batch pipeline every loader shares: in-memory arrays -> batches of rows (a fresh seeded
permutation every epoch for training) -> an optional per-batch transform.

Two implementations behind one function, `batches`, chosen by the Keras backend of the process:
TensorFlow gets a prefetched `tf.data.Dataset` (its own fastest input path); every other backend
gets `NumpyBatches`, a `keras.utils.PyDataset` of NumPy batches that needs no TensorFlow (on JAX
as fast as in-memory arrays: the batch is gathered while the device runs the step before). Both
say the same things: `len()` batches per pass, `.take(n)`, `.repeat_from(batch)` (an endless
stream, resumed at a batch), iteration over (x, y) batches. A per-batch transform is written once with
`take` and `cast` below, which run NumPy on NumPy batches and tf ops inside tf.data.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np


def batches(
    tensors, batch_size: int, shuffle: bool = False, seed: int = 0, per_batch: Callable | None = None
):
    """Batches of `tensors` (an array or a tuple of arrays of equal length) for the loaded Keras
    backend: `tf_batches` on TensorFlow, `NumpyBatches` elsewhere; the same rows per batch."""
    import keras

    if keras.backend.backend() == "tensorflow":
        return tf_batches(tensors, batch_size, shuffle, seed, per_batch)
    return numpy_batches_class()(tensors, batch_size, shuffle, seed, per_batch)


def length_of(dataset) -> int:
    """Batches in one pass over a finite dataset of either kind (counted if tf.data cannot tell)."""
    if not hasattr(dataset, "cardinality"):
        return len(dataset)
    import tensorflow as tf

    from seqexp.errors import SeqexpError

    count = int(dataset.cardinality())
    if count == tf.data.INFINITE_CARDINALITY:
        raise SeqexpError("This training split never ends; set trainer.steps_per_epoch.")
    if count == tf.data.UNKNOWN_CARDINALITY:
        count = int(dataset.reduce(0, lambda n, _: n + 1))
    return count


def repeat_from(dataset, start: int):
    """One endless stream of batches that starts at batch `start` of it (a resumed run skips the
    batches of the epochs it already trained): every pass reshuffles, as the loader seeded it."""
    if hasattr(dataset, "repeat_from"):
        return dataset.repeat_from(start)
    return dataset.repeat().skip(start)


def take(table, index):
    """table[index] along the first axis, for NumPy or tf batches (the table stays NumPy: tf.data
    makes it a constant of its graph once)."""
    if isinstance(index, np.ndarray):
        return np.take(table, index, axis=0)
    import tensorflow as tf

    return tf.gather(table, index)


def cast(x, dtype: str):
    """x as `dtype` ("float32", "int32"), for NumPy or tf batches."""
    if isinstance(x, np.ndarray):
        return x.astype(dtype)
    import tensorflow as tf

    return tf.cast(x, dtype)


def permutation(length: int, seed: int, epoch: int) -> np.ndarray:
    """The row order of pass `epoch` of a shuffled split: a function of (seed, epoch) only, so a
    resumed run draws the orders an uninterrupted one drew."""
    return np.random.default_rng([seed, epoch]).permutation(length)


@functools.cache
def numpy_batches_class():
    """NumpyBatches, made on first use: subclassing PyDataset imports Keras, which must wait
    until the run's backend is chosen (seqexp.backend)."""
    import keras

    class NumpyBatches(keras.utils.PyDataset):
        """Batches of NumPy arrays, gathered when Keras asks for one (`[i]`).

        A finite dataset (`len()` batches) is one pass in the order of pass 0; `repeat_from(b)`
        is endless, batch i being batch (b + i) % len of pass (b + i) // len, each pass
        in its own `permutation`. The last batch of a pass may be short, as with tf.data.
        """

        def __init__(
            self, tensors, batch_size, shuffle=False, seed=0, per_batch=None, limit=None, start=None
        ):
            super().__init__()  # one worker, no queue: worker threads made the measured steps slower
            self.tensors = (
                tuple(map(np.asarray, tensors)) if isinstance(tensors, tuple) else np.asarray(tensors)
            )
            self.rows = len(self.tensors[0]) if isinstance(tensors, tuple) else len(self.tensors)
            self.batch_size, self.shuffle, self.seed, self.per_batch = batch_size, shuffle, seed, per_batch
            self.per_pass = math.ceil(self.rows / batch_size)
            self.limit, self.start = limit, start
            self._order = (None, None)  # (pass, its permutation): one draw per pass

        def _new(self, **changes):
            options = {"limit": self.limit, "start": self.start, **changes}
            args = (self.tensors, self.batch_size, self.shuffle, self.seed, self.per_batch)
            return type(self)(*args, **options)

        def take(self, count: int):
            return self._new(limit=count if self.limit is None else min(count, self.limit))

        def repeat_from(self, start: int):
            return self._new(start=start, limit=None)

        @property
        def num_batches(self):
            if self.start is not None:
                return None  # endless: Keras asks for batches 0, 1, 2, ... across epochs
            return self.per_pass if self.limit is None else min(self.limit, self.per_pass)

        def __len__(self):
            if self.num_batches is None:
                raise TypeError("an endless stream of batches has no length")
            return self.num_batches

        def __getitem__(self, index):
            if self.num_batches is not None and not 0 <= index < self.num_batches:
                raise IndexError(index)  # ends a `for` loop over a finite dataset
            at = index + (self.start or 0)
            epoch, position = divmod(at, self.per_pass)
            span = slice(position * self.batch_size, (position + 1) * self.batch_size)
            if self.shuffle:
                if self._order[0] != epoch:
                    self._order = (epoch, permutation(self.rows, self.seed, epoch))
                rows = self._order[1][span]
                batch = (
                    tuple(t[rows] for t in self.tensors)
                    if isinstance(self.tensors, tuple)
                    else self.tensors[rows]
                )
            else:
                batch = (
                    tuple(t[span] for t in self.tensors)
                    if isinstance(self.tensors, tuple)
                    else self.tensors[span]
                )
            if self.per_batch is None:
                return batch
            out = self.per_batch(*batch) if isinstance(batch, tuple) else self.per_batch(batch)
            return tuple(np.asarray(part) for part in out)

        def __iter__(self):
            for index in range(len(self)):
                yield self[index]

    return NumpyBatches


def tf_batches(
    tensors, batch_size: int, shuffle: bool = False, seed: int = 0, per_batch: Callable | None = None
):
    """Batched `tf.data.Dataset` of `tensors`, prefetched.

    Each batch is one slice (in order) or one gather (shuffled) of the arrays, so an epoch costs
    a few ops per batch and one permutation, never a pass of per-row elements through a shuffle
    buffer (which took ~0.2 s at the start of every epoch of full-size Jena or Fashion-MNIST).
    The permutation is drawn from `seed` and the epoch's draw of `Dataset.random`: the same seed
    gives the same epochs, and every epoch (every iteration, also under `.repeat()`) is new.

    `per_batch` runs on whole batches (cheaper than per sample): gathering Jena windows from
    row indices, scaling uint8 images to floats.
    """
    import tensorflow as tf

    data = tuple(map(tf.constant, tensors)) if isinstance(tensors, tuple) else tf.constant(tensors)
    length = len(tensors[0]) if isinstance(tensors, tuple) else len(tensors)
    starts = tf.data.Dataset.range(0, length, batch_size)

    def rows(index):
        return tf.nest.map_structure(lambda t: tf.gather(t, index), data)

    if shuffle:

        def epoch(draw):
            order = tf.random.experimental.stateless_shuffle(
                tf.range(length, dtype=tf.int64), seed=tf.stack([tf.constant(seed, tf.int64), draw])
            )
            return starts.map(lambda start: rows(order[start : start + batch_size]))

        ds = (
            tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
            .take(1)
            .flat_map(epoch)
            .apply(tf.data.experimental.assert_cardinality(len(starts)))
        )
    else:
        ds = starts.map(lambda start: tf.nest.map_structure(lambda t: t[start : start + batch_size], data))
    if per_batch is not None:
        ds = ds.map(per_batch, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
