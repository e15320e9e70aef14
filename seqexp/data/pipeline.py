"""The tf.data pipeline every loader shares: in-memory arrays -> shuffled (seeded, again every
epoch) for training -> batched -> an optional per-batch transform -> prefetched."""

from __future__ import annotations

from collections.abc import Callable


def batches(tensors, batch_size: int, shuffle: bool = False, seed: int = 0,
            per_batch: Callable | None = None):
    """Batched `tf.data.Dataset` of `tensors` (an array or a tuple of arrays of equal length).

    `per_batch` runs on whole batches (cheaper than per sample): gathering Jena windows from
    row indices, scaling uint8 images to floats.
    """
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices(tensors)
    if shuffle:
        length = len(tensors[0]) if isinstance(tensors, tuple) else len(tensors)
        ds = ds.shuffle(length, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if per_batch is not None:
        ds = ds.map(per_batch, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
