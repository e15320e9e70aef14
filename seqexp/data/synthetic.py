"""Synthetic weather in the exact Jena climate CSV format (labelled synthetic, never real data).

Used for the bundled smoke-test sample (`scripts/make_jena_sample.py`) and by the tests, which
write files with it and read them back through the real loader.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

JENA_COLUMNS = [
    "p (mbar)", "T (degC)", "Tpot (K)", "Tdew (degC)", "rh (%)", "VPmax (mbar)",
    "VPact (mbar)", "VPdef (mbar)", "sh (g/kg)", "H2OC (mmol/mol)", "rho (g/m**3)",
    "wv (m/s)", "max. wv (m/s)", "wd (deg)",
]  # fmt: skip
ROWS_PER_DAY = 144  # one row every 10 minutes


def synthetic_weather(rows: int, seed: int = 0) -> np.ndarray:
    """(rows, 14) plausible weather: daily and yearly temperature cycles plus AR(1) noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(rows) / ROWS_PER_DAY  # days since start
    weather = np.zeros(rows)
    for i in range(1, rows):  # slow weather fronts: AR(1) with a ~2 day memory
        weather[i] = 0.993 * weather[i - 1] + rng.normal(0, 0.35)
    temp = 9 - 9 * np.cos(2 * np.pi * t / 365.25) - 4 * np.cos(2 * np.pi * t) + weather
    temp += rng.normal(0, 0.2, rows)
    pressure = 989 + 8 * np.sin(2 * np.pi * t / 5.3) - 0.3 * weather + rng.normal(0, 0.3, rows)
    rh = np.clip(80 - 2.5 * (temp - temp.mean()) + rng.normal(0, 4, rows), 15, 100)
    vp_max = 6.1078 * np.exp(17.27 * temp / (temp + 237.3))
    vp_act = vp_max * rh / 100
    dew = 237.3 * np.log(vp_act / 6.1078) / (17.27 - np.log(vp_act / 6.1078))
    sh = 622 * vp_act / (pressure - 0.378 * vp_act)
    wind = np.abs(2 + 1.5 * np.sin(2 * np.pi * t / 3.1) + rng.normal(0, 0.8, rows))
    columns = [
        pressure, temp, temp + 273.15 + 0.0083 * (1000 - pressure), dew, rh, vp_max, vp_act,
        vp_max - vp_act, sh, sh * 1.6, 100 * pressure / (0.28705 * (temp + 273.15)),
        wind, wind * 1.7, rng.uniform(0, 360, rows),
    ]  # fmt: skip
    return np.stack(columns, axis=1)


def write_jena_csv(path: str | Path, values: np.ndarray, columns: list[str] | None = None) -> Path:
    """Write `values` (rows, len(columns)) as the real file does: quoted header, `Date Time` first."""
    columns = columns or JENA_COLUMNS
    if values.ndim != 2 or values.shape[1] != len(columns):
        raise ValueError(f"values must have shape (rows, {len(columns)}), got {values.shape}")
    path = Path(path)
    start = dt.datetime(2009, 1, 1, 0, 10)
    step = dt.timedelta(minutes=10)
    with open(path, "w", newline="") as f:
        f.write(",".join(f'"{name}"' for name in ["Date Time", *columns]) + "\n")
        for i, row in enumerate(values):
            stamp = (start + i * step).strftime("%d.%m.%Y %H:%M:%S")
            f.write(stamp + "," + ",".join(f"{v:.2f}" for v in row) + "\n")
    return path
