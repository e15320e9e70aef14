"""Side-by-side throughput of three ways to feed Jena windows (full size, shuffled training).

    python scripts/bench_jena_pipeline.py [--batches 300]

Uses synthetic weather of the real size (420,551 rows x 14) so it runs offline; the pipelines
only index rows, so the numbers do not depend on the values. Prints batches/s and ratios to the
DLwP generator, measured on this machine.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from seqexp.data.jena import make_windows, window_anchors  # noqa: E402
from seqexp.data.synthetic import synthetic_weather  # noqa: E402

ROWS, LOOKBACK, STEP, DELAY, BATCH = 420_551, 1440, 6, 144, 128


def dlwp_generator(data, lookback, delay, min_index, max_index, batch_size, step):
    """DLwP 1st ed.'s generator (shuffle=True branch), as the book writes it."""
    while True:
        rows = np.random.randint(min_index + lookback, max_index, size=batch_size)
        samples = np.zeros((len(rows), lookback // step, data.shape[-1]))
        targets = np.zeros((len(rows),))
        for j, _ in enumerate(rows):
            indices = range(rows[j] - lookback, rows[j], step)
            samples[j] = data[indices]
            targets[j] = data[rows[j] + delay][1]
        yield samples, targets


def rate(batches, n: int) -> float:
    it = iter(batches)
    next(it)  # warm-up: graph tracing, buffer fill
    start = time.perf_counter()
    for _ in range(n):
        next(it)
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=300)
    n = parser.parse_args().batches
    import keras

    data = synthetic_weather(ROWS, seed=0).astype(np.float32)
    data = (data - data[:200000].mean(0)) / data[:200000].std(0)
    results = {
        "DLwP Python generator": rate(dlwp_generator(data, LOOKBACK, DELAY, 0, 200000, BATCH, STEP), n),
        "keras timeseries_dataset_from_array": rate(keras.utils.timeseries_dataset_from_array(
            data[:-DELAY], data[LOOKBACK + DELAY:, 1], sequence_length=LOOKBACK // STEP,
            sampling_rate=STEP, batch_size=BATCH, shuffle=True, seed=0, end_index=200000,
        ).repeat(), n),
        "seqexp gather in tf.data (ours)": rate(make_windows(
            data, data[:, 1], window_anchors(0, 200000, LOOKBACK, DELAY, ROWS), LOOKBACK, STEP,
            DELAY, BATCH, shuffle=True).repeat(), n),
    }
    base = results["DLwP Python generator"]
    for name, value in results.items():
        print(f"{name:38s} {value:8.1f} batches/s  {value / base:5.2f}x")


if __name__ == "__main__":
    main()
