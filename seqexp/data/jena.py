"""Jena climate 2009-2016: predict a column (default temperature) `delay` rows ahead.

Windows follow DLwP 1st ed. exactly: for an anchor row r of a split [start, end), the input is
rows r-lookback, r-lookback+step, ..., r-step and the target is row r+delay, for every r in
[start+lookback, end); an open end means "as far as a target exists". Windows are gathered from
the normalised array per batch inside `tf.data` (never all materialised: full Jena trains in
well under 2 GB), training anchors shuffled, validation and test anchors in order.
"""

from __future__ import annotations

import csv
import io
import logging
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from seqexp.data.download import fetch
from seqexp.data.pipeline import batches
from seqexp.data.spec import DataBundle, DataSpec, provides
from seqexp.errors import SeqexpError

log = logging.getLogger(__name__)

FNAME = "jena_climate_2009_2016.csv.zip"
SPLITS = ("train", "val", "test")


def read_jena(path: str | Path) -> tuple[list[str], np.ndarray]:
    """Column names (without `Date Time`) and a float32 (rows, columns) array from a csv or zip."""
    path = Path(path).expanduser()
    if not path.exists():
        raise SeqexpError(f"data.path={path} does not exist; give the Jena csv or its zip.")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = [n for n in archive.namelist() if n.endswith(".csv")]
            if not members:
                raise SeqexpError(f"{path} is a zip file without a .csv inside.")
            with archive.open(members[0]) as raw:
                return _parse(io.TextIOWrapper(raw, encoding="utf-8"), f"{path}:{members[0]}")
    with open(path, encoding="utf-8") as f:
        return _parse(f, str(path))


def _parse(f, where: str) -> tuple[list[str], np.ndarray]:
    header = next(csv.reader([f.readline()]), [])
    if not header or header[0] != "Date Time" or len(header) < 2:
        raise SeqexpError(
            f"{where} is not a Jena climate CSV: its header should start with \"Date Time\" "
            f"followed by the value columns, found {header[:3]}."
        )
    try:
        values = np.loadtxt(f, delimiter=",", usecols=range(1, len(header)), dtype=np.float32, ndmin=2)
    except ValueError as err:
        raise SeqexpError(f"{where} has a malformed row: {err}.") from None
    return header[1:], values


def split_rows(split: dict, n_rows: int) -> dict[str, tuple[int, int]]:
    """[start, end) rows of each split; an int bound is a row index, a float a fraction of rows."""
    rows = {}
    for name in SPLITS:
        bounds = split.get(name)
        if bounds is None or len(bounds) != 2:
            raise SeqexpError(f"data.split.{name} must be [start, end], got {bounds}.")
        start, end = (
            n_rows if b is None else int(round(b * n_rows)) if isinstance(b, float) else int(b)
            for b in bounds
        )
        if not 0 <= start < end <= n_rows:
            raise SeqexpError(
                f"data.split.{name}={list(bounds)} gives rows [{start}, {end}), which is empty or "
                f"outside the file's {n_rows} rows."
            )
        rows[name] = (start, end)
    return rows


def window_anchors(start: int, end: int, lookback: int, delay: int, n_rows: int) -> np.ndarray:
    """Every anchor row of a split whose window and target both exist."""
    return np.arange(start + lookback, min(end, n_rows - delay), dtype=np.int64)


def make_windows(features, target, anchors, lookback, step, delay, batch_size,
                 shuffle=False, seed=0, reverse=False):
    """Batched (window, target) pairs for `anchors`, gathered per batch from the arrays."""
    import tensorflow as tf

    features = tf.constant(features)
    target = tf.constant(target)
    offsets = tf.range(-lookback, 0, step, dtype=tf.int64)

    def gather(rows):
        x = tf.gather(features, rows[:, None] + offsets[None, :])
        if reverse:
            x = tf.reverse(x, axis=[1])
        return x, tf.gather(target, rows + delay)

    return batches(anchors, batch_size, shuffle=shuffle, seed=seed, per_batch=gather)


@provides("timeseries")
def load_jena(
    path: str | None = None,
    url: str = "",
    sha256: str | None = None,
    size: int | None = None,
    cache_dir: str | None = None,
    target: str = "T (degC)",
    features: Sequence[str] | None = None,
    split: dict | None = None,
    lookback: int = 1440,
    step: int = 6,
    delay: int = 144,
    batch_size: int = 128,
    reverse: bool = False,
    seed: int = 0,
) -> DataBundle:
    if step < 1 or lookback < step or delay < 0 or batch_size < 1:
        raise SeqexpError(
            f"Jena windows need step >= 1, lookback >= step, delay >= 0 and batch_size >= 1; got "
            f"lookback={lookback}, step={step}, delay={delay}, batch_size={batch_size}."
        )
    if path is None:
        path = fetch(url, FNAME, sha256=sha256, size=size, cache_dir=cache_dir,
                     how_to_provide=f"pass data.path=/path/to/{FNAME} (the zip or its csv)")
    columns, values = read_jena(path)
    log.info("Read %d rows x %d columns from %s", len(values), len(columns), path)

    chosen = list(features) if features else columns
    unknown = [name for name in [*chosen, target] if name not in columns]
    if unknown:
        raise SeqexpError(
            f"Unknown Jena column(s) {unknown} in data.features/data.target; the file has {columns}."
        )
    rows = split_rows(split or {}, len(values))
    train_start, train_end = rows["train"]

    # Statistics of the training rows only: nothing from validation or test leaks in.
    mean = values[train_start:train_end].mean(axis=0)
    std = values[train_start:train_end].std(axis=0)
    std[std == 0] = 1.0
    normalised = (values - mean) / std
    feature_idx = [columns.index(name) for name in chosen]
    target_idx = columns.index(target)

    datasets, counts = {}, {}
    for name, (start, end) in rows.items():
        anchors = window_anchors(start, end, lookback, delay, len(values))
        if len(anchors) == 0:
            raise SeqexpError(
                f"The {name} rows [{start}, {end}) hold no window with data.lookback={lookback} and "
                f"data.delay={delay}; shorten them or widen data.split.{name}."
            )
        counts[name] = len(anchors)
        datasets[name] = make_windows(
            normalised[:, feature_idx], normalised[:, target_idx], anchors, lookback, step, delay,
            batch_size, shuffle=name == "train", seed=seed, reverse=reverse,
        )

    spec = DataSpec(
        task="regression",
        input_kind="timeseries",
        input_shape=(len(range(-lookback, 0, step)), len(feature_idx)),
        target_name=target,
        target_index=chosen.index(target) if target in chosen else None,
        target_scale=float(std[target_idx]),
        target_unit=target.split("(")[-1].rstrip(")") if "(" in target else None,
        time_reversed=reverse,
        info={
            "rows": len(values),
            "split_rows": {name: list(bounds) for name, bounds in rows.items()},
            "windows": counts,
            "target_mean": float(mean[target_idx]),
            "target_std": float(std[target_idx]),
        },
    )
    log.info(
        "Jena windows: %s; target %r, 1 normalised unit = %.3f %s",
        counts, target, spec.target_scale, spec.target_unit or "",
    )
    return DataBundle(datasets["train"], datasets["val"], datasets["test"], spec)
