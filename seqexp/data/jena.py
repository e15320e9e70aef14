"""Jena climate 2009-2016: predict a column (default temperature) `delay` rows ahead.

For an anchor row r the input is rows r-lookback, r-lookback+step, ..., r-step and the target is
row r+delay. Which anchors a split [start, end) holds is the book's rule, `data.windows`:

- dlwp1 (DLwP 1st ed. listing 6.33's `generator`): every r in [start+lookback, end) whose target
  row exists; fraction bounds are rounded (`round(f * rows)`).
- dlwp2 (DLwP 2nd ed. 10.2: `timeseries_dataset_from_array(raw_data[:-delay'], targets=
  temperature[delay':], sampling_rate=step, sequence_length=lookback // step, start_index=start,
  end_index=end)`, delay' = lookback + delay): every window whose rows lie in [start, end) and in
  the file's first rows - delay' rows, i.e. r in [start+lookback, min(end, rows-delay') + step);
  fraction bounds are the book's int() sizes (`int(0.5 * n)`, then `+ int(0.25 * n)`).

Values are parsed and normalised in float64 (as DLwP, which parses with float()); the normalised
array is float32. Windows are gathered from it per batch by the pipeline (never all
materialised: full Jena trains in well under 2 GB), training anchors shuffled, validation and test
anchors in order.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import warnings
import zipfile
import zlib
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import ConfigDict, Field
from typing_extensions import TypedDict

from seqexp.config.checks import checked, show
from seqexp.config.types import BatchSize, PositiveInt, Seed
from seqexp.data.download import fetch
from seqexp.data.encoding import first_non_utf8_line
from seqexp.data.pipeline import batches, take
from seqexp.data.serving import Options, Serving, input_files, legacy_facts
from seqexp.data.spec import DataBundle, DataSpec, provides
from seqexp.errors import SeqexpError

log = logging.getLogger(__name__)

FNAME = "jena_climate_2009_2016.csv.zip"
# dlwp1: DLwP 1st ed.'s generator (listing 6.33); dlwp2: the 2nd edition's
# timeseries_dataset_from_array windows and int() split boundaries
WindowRule = Literal["dlwp1", "dlwp2"]
TIME_FORMAT = "%d.%m.%Y %H:%M:%S"  # the `Date Time` column: 01.01.2009 00:10:00
ROW_MINUTES = 10  # the station records one row every 10 minutes


def read_jena(path: str | Path) -> tuple[list[str], np.ndarray]:
    """Column names (without `Date Time`) and a float64 (rows, columns) array from a csv or zip."""
    path = Path(path).expanduser()
    if not path.exists():
        raise SeqexpError(f"data.path={path} does not exist; give the Jena csv or its zip.")
    if path.is_dir():
        raise SeqexpError(
            f"data.path={path} is a folder; give the file jena_climate_2009_2016.csv or its zip."
        )
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                members = [n for n in archive.namelist() if n.endswith(".csv")]
                if not members:
                    raise SeqexpError(
                        f"{path} is a zip file without a .csv inside (it holds "
                        f"{archive.namelist()[:5]}); the Jena zip holds "
                        f"jena_climate_2009_2016.csv."
                    )
                where = f"{path}:{members[0]}"

                def open_member(binary: bool = False):
                    raw = archive.open(members[0])
                    return raw if binary else io.TextIOWrapper(raw, encoding="utf-8-sig")

                return _parse(open_member, where)
        except (zipfile.BadZipFile, zlib.error, EOFError) as err:
            raise SeqexpError(
                f"{path} is a damaged zip file ({err}); replace it with an intact copy of "
                f"jena_climate_2009_2016.csv.zip (or its csv)."
            ) from None

    with open(path, "rb") as f:
        if f.read(4) == b"PK\x03\x04":  # a zip's first bytes, but no readable zip directory
            raise SeqexpError(
                f"{path} is a damaged or truncated zip file (it starts like a zip but its "
                f"directory at the end is missing); replace it with an intact copy of "
                f"jena_climate_2009_2016.csv.zip (or its csv)."
            )

    def open_file(binary: bool = False):
        # utf-8-sig: a byte-order mark (Excel, Notepad) is not part of "Date Time"; CRLF line
        # ends are read as newlines by text mode
        return open(path, "rb") if binary else open(path, encoding="utf-8-sig")

    return _parse(open_file, str(path))


def _parse(open_text, where: str) -> tuple[list[str], np.ndarray]:
    """Header and values of the csv that `open_text()` opens; a malformed line is named."""
    header: list[str] = []
    try:
        with open_text() as f:
            header = next(csv.reader([f.readline()]), [])
            if not header or header[0] != "Date Time" or len(header) < 2:
                raise SeqexpError(
                    f'{where} is not a Jena climate CSV: line 1 should be the header "Date Time" '
                    f'followed by the value columns ("p (mbar)", "T (degC)", ...), found '
                    f"{header[:3]}."
                )
            with warnings.catch_warnings():  # "input contained no data": said below, clearer
                warnings.simplefilter("ignore", UserWarning)
                values = np.loadtxt(
                    f, delimiter=",", usecols=range(1, len(header)), dtype=np.float64, ndmin=2
                )
    except UnicodeDecodeError:
        raise SeqexpError(_not_text(open_text, where)) from None
    except ValueError as err:
        raise SeqexpError(
            _bad_line(open_text, where, header) or f"{where} has a malformed row: {err}."
        ) from None
    if len(values) == 0:
        raise SeqexpError(f"{where} has a header but no data rows; the Jena file has 420,551.")
    bad = np.argwhere(~np.isfinite(values))
    if len(bad):
        row, column = (int(i) for i in bad[0])
        raise SeqexpError(
            f"{where} line {row + 2}, column {header[column + 1]!r}: the value is "
            f"{values[row, column]}; every Jena value must be a finite number "
            f"({len(bad):,} such value(s) in the file)."
        )
    return header[1:], values


def _bad_line(open_text, where: str, header: list[str]) -> str | None:
    """The first data line that is not a timestamp plus one number per column, described."""
    with open_text() as f:
        rows = csv.reader(f)
        try:
            for number, row in enumerate(rows, start=1):
                if number == 1 or not row:  # the header; blank lines are skipped as np.loadtxt does
                    continue
                if len(row) != len(header):
                    return (
                        f"{where} line {number} has {len(row)} fields, expected {len(header)} "
                        f'("Date Time" and {len(header) - 1} values, as in the header).'
                    )
                for name, cell in zip(header[1:], row[1:], strict=True):
                    try:
                        float(cell)
                    except ValueError:
                        return (
                            f"{where} line {number}, column {name!r}: {cell!r} is not a number; "
                            f'every column but "Date Time" must hold numbers.'
                        )
        except csv.Error as err:  # a quote never closed, a field over csv's 128 KiB limit
            return (
                f"{where} line {rows.line_num} is not a CSV row ({err}); every line is a "
                f'"Date Time" and one number per column.'
            )
    return None


def _not_text(open_text, where: str) -> str:
    """Where a file that should be a UTF-8 csv first stops being one."""
    with open_text(binary=True) as f:
        bad_line = first_non_utf8_line(f)
    return (
        f"{where} is not a text CSV: {bad_line or 'it is not UTF-8'}; give the Jena csv or its zip "
        "(a file saved by another program in another encoding, such as latin-1 or Windows-1252, "
        "must be re-saved as UTF-8)."
    )


def split_rows(
    split: dict, n_rows: int, source: str | Path | None = None, windows: WindowRule = "dlwp1"
) -> dict[str, tuple[int, int]]:
    """[start, end) rows of each split; an int bound is a row index, a float a fraction of rows."""
    of_file = f"the {n_rows:,} rows of {source}" if source else f"the file's {n_rows} rows"
    fraction_row = fraction_rows(split, n_rows, windows)
    rows = {}
    for name in SPLITS:
        bounds = split.get(name)
        if bounds is None or len(bounds) != 2:
            raise SeqexpError(f"data.split.{name} must be [start, end], got {bounds}.")
        start, end = (
            n_rows if b is None else fraction_row[b] if isinstance(b, float) else int(b) for b in bounds
        )
        if not 0 <= start < end <= n_rows:
            raise SeqexpError(
                f"data.split.{name}={list(bounds)} gives rows [{start}, {end}), which is empty or "
                f"outside {of_file}."
            )
        rows[name] = (start, end)
    # Mixed bounds (train=[0, 0.8], val=[1000, 5000]) can only be compared once the file's row
    # count turns the fractions into rows: split_rules checks bounds of one kind before loading.
    for first, second in pairwise(SPLITS):
        if rows[first][1] > rows[second][0]:
            raise SeqexpError(
                f"data.split.{first}={list(split[first])} gives rows {list(rows[first])} and "
                f"data.split.{second}={list(split[second])} rows {list(rows[second])} of {of_file}: "
                f"they overlap, so {second} would see {rows[first][1] - rows[second][0]:,} {first} "
                f"row(s). The splits must come in order train, val, test without overlapping."
            )
    return rows


def fraction_rows(split: dict, n_rows: int, windows: WindowRule = "dlwp1") -> dict[float, int]:
    """The row of every fraction bound in `split`.

    dlwp1: round(f * rows). dlwp2: the book's arithmetic, where each stretch between consecutive
    fractions holds int(width * rows) rows (num_train_samples = int(0.5 * n), the validation split
    ends at num_train_samples + int(0.25 * n)) and 1.0 is the end of the file (the test split is
    "the rest").
    """
    fractions = sorted({b for bounds in split.values() if bounds for b in bounds if isinstance(b, float)})
    if windows == "dlwp1":
        return {f: int(round(f * n_rows)) for f in fractions}
    rows, row = {0.0: 0}, 0
    for low, high in pairwise([0.0, *fractions]):
        row += int((high - low) * n_rows)
        rows[high] = row
    rows[1.0] = n_rows
    return rows


def window_anchors(
    start: int, end: int, lookback: int, delay: int, n_rows: int, step: int = 1, windows: WindowRule = "dlwp1"
) -> np.ndarray:
    """Every anchor row of a split [start, end) under the book's window rule (module docstring)."""
    if windows == "dlwp1":
        return np.arange(start + lookback, min(end, n_rows - delay), dtype=np.int64)
    # timeseries_dataset_from_array: the first row i of a window is in [start, end_index -
    # (sequence_length - 1) * step), end_index capped by data = raw_data[:-(lookback + delay)].
    return np.arange(start + lookback, min(end, n_rows - lookback - delay) + step, dtype=np.int64)


def make_windows(
    features, target, anchors, lookback, step, delay, batch_size, shuffle=False, seed=0, reverse=False
):
    """Batched (window, target) pairs for `anchors`, gathered per batch from the arrays.

    The rows a split reads are laid out phase by phase (row i at [i % step, i // step]), so every
    window is one contiguous run of that table: the gather reads memory in order, ~1.5x the
    batches/s of picking every step-th row of the original array (benchmarks/pipeline.py).
    """
    anchors = np.asarray(anchors, dtype=np.int64)
    first = int(anchors.min()) - lookback if len(anchors) else 0  # first row any window reads
    rows_read = np.asarray(features)[first : int(anchors.max()) if len(anchors) else 0]
    per_phase = -(-len(rows_read) // step)
    table = np.zeros((per_phase * step, rows_read.shape[1]), dtype=rows_read.dtype)
    table[: len(rows_read)] = rows_read
    table = table.reshape(per_phase, step, -1).transpose(1, 0, 2).reshape(per_phase * step, -1)
    target = np.asarray(target)
    length = len(range(-lookback, 0, step))
    # Timesteps oldest first, or newest first for data.reverse (folded into the indices).
    offsets = np.arange(length - 1, -1, -1) if reverse else np.arange(length)

    def gather(rows):  # NumPy or tf rows (seqexp.data.pipeline)
        start = rows - lookback - first  # the window's first row, in rows_read
        x = take(table, ((start % step) * per_phase + start // step)[:, None] + offsets[None, :])
        return x, take(target, rows + delay)

    return batches(anchors, batch_size, shuffle=shuffle, seed=seed, per_batch=gather)


Bound = int | float | None  # a row index, a fraction of the rows, or null (the end of the file)
Bounds = Annotated[
    list[Bound],
    Field(
        min_length=2,
        max_length=2,
        description=(
            "[start, end]: row indices (ints) or fractions of the rows (floats), "
            "end null for the end of the file"
        ),
    ),
]


class Split(TypedDict):
    """[start, end) of each split: ints are row indices, floats fractions of the rows."""

    __pydantic_config__ = ConfigDict(extra="forbid")
    train: Bounds
    val: Bounds
    test: Bounds


SPLITS = tuple(Split.__annotations__)  # train, val, test: in file order


def window_rules(values: dict):
    """A window needs at least one row: step must not exceed lookback; the 2nd edition's windows
    are lookback / step timesteps long."""
    lookback, step = values["lookback"], values["step"]
    if step > lookback:
        yield "step", step, f"must not exceed data.lookback={lookback} (a window needs at least one row)"
    elif values["windows"] == "dlwp2" and lookback % step:
        yield (
            "lookback",
            lookback,
            f"must be a multiple of data.step={step} with data.windows=dlwp2 "
            "(sequence_length = lookback / step timesteps), e.g. 720 and 6",
        )


def split_rules(values: dict):
    """Each split is [start, end) in order, not overlapping, and wide enough for one window.

    Bounds of different kinds (a fraction and a row index) are compared by split_rows, at load
    time, when the file's row count is known."""
    split, lookback = values["split"], values["lookback"]
    bounds = {}
    for name in SPLITS:
        value = split[name]
        start, end = value
        if start is None:
            yield f"split.{name}", value, "must start at a row or a fraction (only the end may be null)"
            continue
        if any(isinstance(b, float) and not 0 <= b <= 1 for b in value):
            yield f"split.{name}", value, "has fractions outside [0, 1]; floats are fractions of the rows"
            continue
        if any(isinstance(b, int) and b < 0 for b in value):
            yield f"split.{name}", value, "has a negative row index; rows count from 0"
            continue
        if end is not None and type(start) is type(end) and start >= end:
            yield f"split.{name}", value, "is empty: start must be below end"
            continue
        if isinstance(start, int) and isinstance(end, int) and end - start <= lookback:
            yield (
                f"split.{name}",
                value,
                f"spans {end - start} rows, no more than data.lookback="
                f"{lookback}: no window fits; widen it or shorten the lookback",
            )
            continue
        bounds[name] = (start, end)
    for first, second in zip(SPLITS, SPLITS[1:], strict=False):
        if first in bounds and second in bounds:
            end, start = bounds[first][1], bounds[second][0]
            if end is None or (type(end) is type(start) and end > start):
                yield (
                    f"split.{second}",
                    split[second],
                    f"starts before data.split.{first}="
                    f"{show(split[first])} ends; the splits must come in order train, val, test "
                    "without overlapping",
                )


def timesteps(data: dict) -> int:
    """Timesteps of one window: rows lookback before the anchor, every step-th."""
    return len(range(-data["lookback"], 0, data["step"]))


@provides("timeseries", sequence_length=timesteps)
@checked("data", window_rules, split_rules)
def load_jena(
    *,
    path: str | None,
    url: str,
    sha256: str | None,
    size: PositiveInt | None,
    cache_dir: str | None,
    target: str,
    features: Annotated[list[str], Field(min_length=1)] | None,
    split: Split,
    lookback: Annotated[int, Field(ge=1, description="rows of history per window")],
    step: Annotated[int, Field(ge=1, description="keep one row in step")],
    delay: Annotated[int, Field(ge=0, description="rows between the window's end and the target")],
    batch_size: BatchSize,
    reverse: bool,
    windows: WindowRule,
    seed: Seed,
) -> DataBundle:
    if path is None:
        path = fetch(
            url,
            FNAME,
            sha256=sha256,
            size=size,
            cache_dir=cache_dir,
            how_to_provide=f"pass data.path=/path/to/{FNAME} (the zip or its csv)",
        )
    columns, values = read_jena(path)
    n_rows = len(values)
    log.info("Read %d rows x %d columns from %s", n_rows, len(columns), path)

    chosen = list(features) if features else columns
    unknown = [name for name in [*chosen, target] if name not in columns]
    if unknown:
        raise SeqexpError(
            f"Unknown Jena column(s) {unknown} in data.features/data.target; the file has {columns}."
        )
    rows = split_rows(split or {}, n_rows, path, windows)
    train_start, train_end = rows["train"]

    # Statistics of the training rows only (nothing from validation or test leaks in), in float64
    # as DLwP: a float32 sum over 200,000 rows moves the pressure mean by 0.3 mbar.
    mean = values[train_start:train_end].mean(axis=0)
    std = values[train_start:train_end].std(axis=0)
    std[std == 0] = 1.0
    normalised = ((values - mean) / std).astype(np.float32)
    del values
    feature_idx = [columns.index(name) for name in chosen]
    target_idx = columns.index(target)

    datasets, counts = {}, {}
    for name, (start, end) in rows.items():
        anchors = window_anchors(start, end, lookback, delay, n_rows, step, windows)
        if len(anchors) == 0:
            needs = (
                f"lookback + 1 = {lookback + 1:,} rows of the split and its target row delay rows "
                f"after them, inside the file"
                if windows == "dlwp1"
                else f"lookback - step + 1 = {lookback - step + 1:,} rows of the split, all among the "
                f"file's first rows - lookback - delay = {n_rows - lookback - delay:,} rows (the "
                f"book's raw_data[:-delay])"
            )
            raise SeqexpError(
                f"The {name} rows [{start}, {end}) hold no window with data.lookback={lookback} and "
                f"data.delay={delay} in {path} ({n_rows:,} rows, data.windows={windows}): a window "
                f"needs {needs}. Shorten data.lookback / data.delay, widen data.split.{name}, or "
                f"give a longer file."
            )
        counts[name] = len(anchors)
        datasets[name] = make_windows(
            normalised[:, feature_idx],
            normalised[:, target_idx],
            anchors,
            lookback,
            step,
            delay,
            batch_size,
            shuffle=name == "train",
            seed=seed,
            reverse=reverse,
        )

    spec = DataSpec(
        task="regression",
        input_kind="timeseries",
        input_shape=(timesteps({"lookback": lookback, "step": step}), len(feature_idx)),
        target_name=target,
        target_index=chosen.index(target) if target in chosen else None,
        target_scale=float(std[target_idx]),
        target_unit=target.split("(")[-1].rstrip(")") if "(" in target else None,
        time_reversed=reverse,
        info={
            "rows": n_rows,
            "window_rule": windows,
            "split_rows": {name: list(bounds) for name, bounds in rows.items()},
            "windows": counts,
            "target_mean": float(mean[target_idx]),
            "target_std": float(std[target_idx]),
        },
        # What `seqexp predict` / `seqexp export` need to window and normalise a new csv.
        serving=JenaServing(
            columns=columns,
            features=chosen,
            target=target,
            mean=[float(m) for m in mean],
            std=[float(s) for s in std],
            lookback=lookback,
            step=step,
            delay=delay,
            reverse=reverse,
            # rows from a window's last row to its target: anchor r reads up to r - lookback +
            # (timesteps - 1) * step and targets r + delay
            horizon_rows=delay + lookback - (len(range(-lookback, 0, step)) - 1) * step,
        ),
    )
    log.info(
        "Jena windows: %s; target %r, 1 normalised unit = %.3f %s",
        counts,
        target,
        spec.target_scale,
        spec.target_unit or "",
    )
    return DataBundle(datasets["train"], datasets["val"], datasets["test"], spec)


# --- serving: a trained model on a new Jena-format CSV ----------------------------------------


class JenaServing(Serving):
    """Every column's training mean and std and the window: a new CSV is windowed as training
    windowed the file (one window ending at every row that has `lookback` rows before it) and
    the forecast comes back in the target's unit, timed `horizon_rows` x 10 minutes ahead."""

    columns: list[str]
    features: list[str]
    target: str
    mean: list[float]
    std: list[float]
    lookback: int
    step: int
    delay: int
    reverse: bool
    horizon_rows: int

    @classmethod
    def from_legacy(cls, saved: dict, run_dir: Path) -> JenaServing:
        return cls.model_validate({**legacy_facts(cls, saved), "target_name": saved.get("target")})

    def stats(self) -> tuple[np.ndarray, np.ndarray, float, float]:
        """(feature means, feature stds, target mean, target std) of the training rows."""
        mean, std = np.asarray(self.mean, np.float64), np.asarray(self.std, np.float64)
        features = [self.columns.index(name) for name in self.features]
        target = self.columns.index(self.target)
        return mean[features], std[features], float(mean[target]), float(std[target])

    def batches(self, inputs, options: Options, run_dir: Path, batch: int = 1024):
        """(names, windows) batches of every CSV named, file after file: the names are each
        window's last row (`Date Time`), windows raw values, oldest row first."""
        for path in input_files(inputs, (".csv",), "a Jena climate CSV"):
            yield from self.windows(path, batch)

    def windows(self, path: Path, batch: int):
        columns, values = read_jena(path)
        missing = [name for name in self.features if name not in columns]
        if missing:
            raise SeqexpError(
                f"input={path} lacks the column(s) {missing} the model was trained on; "
                f"expected a Jena climate CSV with {self.features}."
            )
        # the serving model's input dtype (read_jena keeps float64 for the training statistics)
        values = values[:, [columns.index(name) for name in self.features]].astype(np.float32)
        timesteps, step = self.input_shape[0], self.step
        span = (timesteps - 1) * step + 1  # rows one window reads, first to last
        if len(values) < span:
            raise SeqexpError(
                f"input={path} holds {len(values)} rows; a window of the run (lookback "
                f"{self.lookback}, step {step}) needs at least {span} consecutive rows."
            )
        times = row_times(path, len(values))
        ends = np.arange(span - 1, len(values))
        offsets = np.arange(-(timesteps - 1) * step, 1, step)
        log.info(
            "Forecasting %s %d rows ahead for %d window(s) of %s",
            self.target,
            self.horizon_rows,
            len(ends),
            path,
        )
        for start in range(0, len(ends), batch):
            chunk = ends[start : start + batch]
            yield [(path, times[e]) for e in chunk], values[chunk[:, None] + offsets[None, :]]

    def predict(self, model, inputs, options: Options, run_dir: Path) -> list[dict]:
        """Every CSV named, each windowed on its own; with more than one, an `input` column first
        says which file a forecast is from."""
        files = input_files(inputs, (".csv",), "a Jena climate CSV")
        rows = super().predict(model, files, options, run_dir)
        return rows if len(files) > 1 else [{k: v for k, v in row.items() if k != "input"} for row in rows]

    def rows(self, names, outputs, options: Options) -> list[dict]:
        ahead = dt.timedelta(minutes=ROW_MINUTES * self.horizon_rows)
        return [
            {
                "input": path.name,
                "last_row": time.strftime(TIME_FORMAT),
                "forecast_for": (time + ahead).strftime(TIME_FORMAT),
                self.target: float(value),
            }
            for (path, time), value in zip(names, outputs[:, 0], strict=True)
        ]

    def serving_model(self, model, run_dir: Path, text: bool = True):
        """Raw measurements -> (x - mean) / std of the training rows -> the trained model ->
        x * std + mean of the target: a forecast in the target's unit (e.g. degC)."""
        import keras

        mean, std, target_mean, target_std = self.stats()
        # Rescaling, not Normalization: its constants are part of the graph, which tf2onnx needs
        # (Normalization's mean/variance tensors become extra ONNX inputs).
        inputs = keras.Input(tuple(self.input_shape), dtype="float32", name="window")
        x = keras.layers.Rescaling(1.0, offset=list(-mean), name="minus_mean")(inputs)
        x = keras.layers.Rescaling(list(1.0 / std), name="over_std")(x)
        if self.reverse:  # trained on newest-first windows; the input is oldest first
            x = keras.layers.Lambda(lambda t: keras.ops.flip(t, axis=1), name="newest_first")(x)
        x = keras.layers.Rescaling(target_std, offset=target_mean, name="to_target_unit")(model(x))
        return keras.Model(inputs, x, name="forecast")

    def describe(self, text: bool) -> dict:
        return {
            "input": f"{self.input_shape[0]} rows of {self.features} in their own units, every "
            f"{self.step}th row of the Jena CSV, oldest first",
            "inside": [
                "(x - training mean) / training std per column",
                *(["window reversed (newest first)"] if self.reverse else []),
                "the model",
                "x * std + mean of the target",
            ],
            "output": {
                "target": self.target,
                "unit": self.target.split("(")[-1].rstrip(")"),
                "meaning": f"{self.target} {self.horizon_rows} rows ({ROW_MINUTES} min each) after "
                f"the window's last row",
            },
        }


def row_times(path: Path, rows: int) -> list[dt.datetime]:
    """The `Date Time` of every row (read_jena has checked the file's layout and numbers)."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        stamps = [row[0] for row in reader if row]
    try:
        return [dt.datetime.strptime(stamp, TIME_FORMAT) for stamp in stamps[:rows]]
    except ValueError as err:
        raise SeqexpError(
            f"input={path}: a Date Time is not day.month.year hour:minute:second "
            f"like 01.01.2009 00:10:00 ({err})."
        ) from None
