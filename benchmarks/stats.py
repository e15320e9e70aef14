"""Medians and spreads of repeated measurements, and the process helpers every benchmark uses."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def summary(values) -> dict:
    """Median, interquartile range, min, max and count of repeated measurements."""
    v = np.asarray(list(values), dtype=float)
    q25, median, q75 = np.percentile(v, [25, 50, 75])
    return {"median": float(median), "q25": float(q25), "q75": float(q75),
            "min": float(v.min()), "max": float(v.max()), "n": int(v.size)}


def ratio(numerators, denominators) -> dict:
    """median(a) / median(b), with the min and max of the per-repetition ratios a_i / b_i (the
    repetitions are interleaved, so a pair shares the machine's load)."""
    a, b = np.asarray(numerators, dtype=float), np.asarray(denominators, dtype=float)
    pairs = a / b
    return {"value": float(np.median(a) / np.median(b)),
            "min": float(pairs.min()), "max": float(pairs.max())}


def seqexp_command() -> list[str]:
    """The installed `seqexp` console script of this interpreter's environment."""
    beside = Path(sys.executable).parent / "seqexp"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("seqexp")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from seqexp.cli import main; sys.exit(main())"]


def quiet_env() -> dict:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}


def run_measured(cmd: list[str], cwd: Path | None = None) -> dict:
    """Run `cmd` to the end: its wall time, exit code, output and peak RSS (bytes).

    The peak RSS is that of `cmd` alone: os.wait4 reports the rusage of the one child it reaps.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=quiet_env(), stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {"wall_s": wall, "returncode": proc.returncode, "stdout": out.read(),
                "stderr": err.read()[-3000:],
                "peak_rss_bytes": usage.ru_maxrss * 1024}  # ru_maxrss is in KiB on Linux
