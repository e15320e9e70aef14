"""The Jena input pipeline alone: batches/s of shuffled full-size training windows (lookback
1440, step 6, delay 144, batch 128), three ways, interleaved repetitions.

The values do not matter (the pipelines only index rows), so the array is synthetic weather of
the real size, normalised with the training rows as the loader does. Each pipeline is consumed
the way a Python loop consumes it (`next()` on its iterator); the first batch (tracing, buffer
fill) is not timed.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.stats import ratio, summary
from benchmarks.training import dlwp_generator

LOOKBACK, STEP, DELAY, BATCH, TRAIN_END = 1440, 6, 144, 128, 200_000


def rate(batches, n: int) -> float:
    it = iter(batches)
    next(it)  # warm-up: tracing, buffer fill
    start = time.perf_counter()
    for _ in range(n):
        next(it)
    return n / (time.perf_counter() - start)


def pipelines(data: np.ndarray, rows: int, train_end: int, lookback: int):
    """name -> a fresh endless iterable of (window batch, target batch)."""
    import keras

    from seqexp.data.jena import make_windows, window_anchors

    anchors = window_anchors(0, train_end, lookback, DELAY, rows)
    return {
        "dlwp_generator": lambda: dlwp_generator(
            data.astype(np.float64), lookback, DELAY, 0, train_end, shuffle=True, batch_size=BATCH, step=STEP
        ),
        "keras_timeseries_dataset": lambda: keras.utils.timeseries_dataset_from_array(
            data[:-DELAY],
            data[lookback + DELAY :, 1],
            sequence_length=lookback // STEP,
            sampling_rate=STEP,
            batch_size=BATCH,
            shuffle=True,
            seed=0,
            end_index=train_end,
        ).repeat(),
        "seqexp": lambda: make_windows(
            data, data[:, 1], anchors, lookback, STEP, DELAY, BATCH, shuffle=True
        ).repeat(),
    }


def run(size: str) -> dict:
    from seqexp.data.synthetic import synthetic_weather

    full = size == "full"
    rows, train_end, lookback = (420_551, TRAIN_END, LOOKBACK) if full else (6000, 4000, 240)
    n, reps = (300, 5) if full else (20, 2)
    data = synthetic_weather(rows, seed=0).astype(np.float32)
    data = (data - data[:train_end].mean(0)) / data[:train_end].std(0)
    makers = pipelines(data, rows, train_end, lookback)
    rates = {name: [] for name in makers}
    for rep in range(reps):
        names = list(makers)
        for name in names[rep % 3 :] + names[: rep % 3]:
            rates[name].append(rate(makers[name](), n))
    base = rates["dlwp_generator"]
    return {
        "rows": rows,
        "lookback": lookback,
        "step": STEP,
        "delay": DELAY,
        "batch_size": BATCH,
        "batches_per_rep": n,
        "repetitions": reps,
        "batches_per_s": {name: summary(v) for name, v in rates.items()},
        "ratios": {
            f"{name}/dlwp_generator": ratio(v, base) for name, v in rates.items() if name != "dlwp_generator"
        },
    }
