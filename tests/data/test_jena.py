"""The Jena loader against brute-force references, on files in the real format."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from seqexp.data.jena import load_jena, read_jena, split_rows
from seqexp.data.synthetic import JENA_COLUMNS, synthetic_weather, write_jena_csv
from seqexp.errors import SeqexpError
from tests.conftest import option_values


def jena(**values):
    """load_jena with conf/data/jena.yaml's values, `values` on top."""
    return load_jena(**option_values("data", "jena", **values))


T = JENA_COLUMNS.index("T (degC)")


def row_numbered(rows: int) -> np.ndarray:
    """Synthetic weather whose first column holds the row number, so a window names its rows."""
    values = synthetic_weather(rows, seed=3)
    values[:, 0] = np.arange(rows)
    return values


def brute_force(values, start, end, lookback, step, delay, train_rows):
    """DLwP's generator loop, one window at a time, normalised with the training rows' stats."""
    train = values[train_rows[0] : train_rows[1]]
    data = (values - train.mean(axis=0)) / train.std(axis=0)
    end = min(end, len(values) - delay)
    xs = [data[r - lookback : r : step] for r in range(start + lookback, end)]
    ys = [data[r + delay, T] for r in range(start + lookback, end)]
    return np.array(xs), np.array(ys)


def collect(dataset):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in dataset], strict=True)
    return np.concatenate(xs), np.concatenate(ys)


def test_read_jena_parses_quoted_header_and_values(tmp_path):
    values = synthetic_weather(50, seed=1)
    path = write_jena_csv(tmp_path / "jena.csv", values)
    lines = path.read_text().splitlines()
    assert lines[0].startswith('"Date Time","p (mbar)","T (degC)"')
    # the real file's stamps: day.month.year, every 10 minutes from 01.01.2009 00:10:00
    assert [line.split(",")[0] for line in (lines[1], lines[2], lines[50])] == [
        "01.01.2009 00:10:00",
        "01.01.2009 00:20:00",
        "01.01.2009 08:20:00",
    ]
    long = write_jena_csv(tmp_path / "long.csv", synthetic_weather(2000, seed=1))
    assert long.read_text().splitlines()[1 + 13 * 144].startswith("14.01.2009 00:10:00,")
    columns, parsed = read_jena(path)
    assert columns == JENA_COLUMNS
    assert parsed.shape == (50, 14) and parsed.dtype == np.float64  # parsed as DLwP: float()
    np.testing.assert_allclose(parsed, np.round(values, 2), atol=1e-3)


def test_read_jena_reads_the_zip_as_downloaded(tmp_path):
    csv_path = write_jena_csv(tmp_path / "jena_climate_2009_2016.csv", synthetic_weather(30))
    zip_path = tmp_path / "jena_climate_2009_2016.csv.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.write(csv_path, "jena_climate_2009_2016.csv")
    np.testing.assert_array_equal(read_jena(zip_path)[1], read_jena(csv_path)[1])


@pytest.mark.parametrize(
    ("lookback", "step", "delay", "batch_size"),
    [(24, 6, 6, 16), (30, 3, 12, 7), (12, 1, 0, 64), (60, 6, 96, 5)],
)
def test_windows_match_brute_force_including_last_window(tmp_path, lookback, step, delay, batch_size):
    values = row_numbered(700)
    path = write_jena_csv(tmp_path / "jena.csv", values)
    values = read_jena(path)[1].astype(np.float64)
    split = {"train": [0, 300], "val": [301, 500], "test": [501, None]}
    bundle = jena(
        path=str(path), split=split, lookback=lookback, step=step, delay=delay, batch_size=batch_size
    )
    for name, dataset, (start, end) in [("val", bundle.val, (301, 500)), ("test", bundle.test, (501, 700))]:
        x, y = collect(dataset)
        ref_x, ref_y = brute_force(values, start, end, lookback, step, delay, (0, 300))
        assert x.shape == ref_x.shape == (len(ref_y), lookback // step + (lookback % step > 0), 14)
        np.testing.assert_allclose(x, ref_x, atol=1e-4, err_msg=name)  # in order, last included
        np.testing.assert_allclose(y, ref_y, atol=1e-4, err_msg=name)
        assert bundle.spec.info["windows"][name] == len(ref_y)

    # Training windows: the same set, shuffled. Column 0 names each window's rows.
    x, y = collect(bundle.train)
    ref_x, ref_y = brute_force(values, 0, 300, lookback, step, delay, (0, 300))
    order, ref_order = np.argsort(x[:, -1, 0]), np.argsort(ref_x[:, -1, 0])
    assert not np.array_equal(order, np.arange(len(order))), "training windows are not shuffled"
    np.testing.assert_allclose(x[order], ref_x[ref_order], atol=1e-4)
    np.testing.assert_allclose(y[order], ref_y[ref_order], atol=1e-4)


def test_reverse_feeds_windows_newest_first(tmp_path):
    path = write_jena_csv(tmp_path / "jena.csv", row_numbered(400))
    split = {"train": [0, 200], "val": [200, 300], "test": [300, None]}
    forward = collect(jena(path=str(path), split=split, lookback=24, step=6, delay=6).val)[0]
    backward = jena(path=str(path), split=split, lookback=24, step=6, delay=6, reverse=True)
    np.testing.assert_array_equal(collect(backward.val)[0], forward[:, ::-1, :])
    assert backward.spec.time_reversed


def test_normalisation_uses_training_rows_only(tmp_path):
    values = synthetic_weather(600, seed=5)
    values[400:] += 1000.0  # validation and test rows far away: any leak would move the stats
    path = write_jena_csv(tmp_path / "jena.csv", values)
    values = read_jena(path)[1].astype(np.float64)
    split = {"train": [0, 400], "val": [400, 500], "test": [500, None]}
    bundle = jena(path=str(path), split=split, lookback=24, step=6, delay=6)
    assert bundle.spec.info["target_mean"] == pytest.approx(values[:400, T].mean(), rel=1e-5)
    assert bundle.spec.target_scale == pytest.approx(values[:400, T].std(), rel=1e-5)
    x, _ = collect(bundle.train)
    assert abs(x.mean()) < 1.0  # training windows are centred


def test_fraction_split_as_in_dlwp_second_edition():
    assert split_rows({"train": [0, 0.5], "val": [0.5, 0.75], "test": [0.75, 1.0]}, 1000) == {
        "train": (0, 500),
        "val": (500, 750),
        "test": (750, 1000),
    }


def test_features_and_target_selection(tmp_path, jena_csv):
    split = {"train": [0, 1000], "val": [1000, 1400], "test": [1400, None]}
    bundle = jena(
        path=str(jena_csv),
        split=split,
        lookback=24,
        step=6,
        delay=6,
        features=["p (mbar)", "T (degC)"],
        target="T (degC)",
    )
    assert bundle.spec.input_shape == (4, 2) and bundle.spec.target_index == 1
    assert bundle.spec.target_unit == "degC"
    with pytest.raises(SeqexpError, match=r"Unknown Jena column\(s\) \['Temp'\].*T \(degC\)"):
        jena(path=str(jena_csv), split=split, lookback=24, step=6, delay=6, target="Temp")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"split": {"train": [0, 1000], "val": [1000, 1100], "test": [1400, None]}, "lookback": 240},
            r"data.split.val=\[1000, 1100\] spans 100 rows, no more than data.lookback=240",
        ),
        (
            {"split": {"train": [0, 1000], "val": [1000, 1400], "test": [1400, 5000]}, "lookback": 240},
            r"data.split.test=\[1400, 5000\].*1,800 rows of .*jena_climate_2009_2016.csv",
        ),
        ({"step": 0}, r"data.step=0 must be an integer of at least 1"),
    ],
)
def test_bad_settings_are_clear_errors(jena_csv, kwargs, message):
    kwargs = {"split": {"train": [0, 1000], "val": [1000, 1400], "test": [1400, None]}, **kwargs}
    with pytest.raises(SeqexpError, match=message):
        jena(path=str(jena_csv), **kwargs)


def test_not_a_jena_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "other.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(SeqexpError, match=r"not a Jena climate CSV.*Date Time"):
        read_jena(bad)
    with pytest.raises(SeqexpError, match=r"data.path=.*missing.csv does not exist"):
        read_jena(tmp_path / "missing.csv")


def test_a_line_csv_cannot_read_is_named(tmp_path):
    """A field over csv's 128 KiB limit (a pasted blob): named by its line, not _csv.Error."""
    path = write_jena_csv(tmp_path / "jena.csv", synthetic_weather(3, seed=1))
    path.write_text(path.read_text() + '"' + "x" * 200_000 + '"\n')
    with pytest.raises(SeqexpError, match=r"jena.csv line 5 is not a CSV row \(.*\); every line is a"):
        read_jena(path)
