"""Medians and spreads of repeated measurements, and the process helpers every benchmark uses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np


def summary(values) -> dict:
    """Median, interquartile range, min, max and count of repeated measurements."""
    v = np.asarray(list(values), dtype=float)
    q25, median, q75 = np.percentile(v, [25, 50, 75])
    return {
        "median": float(median),
        "q25": float(q25),
        "q75": float(q75),
        "min": float(v.min()),
        "max": float(v.max()),
        "n": int(v.size),
    }


def ratio(numerators, denominators) -> dict:
    """median(a) / median(b), with the min and max of the per-repetition ratios a_i / b_i (the
    repetitions are interleaved, so a pair shares the machine's load)."""
    a, b = np.asarray(numerators, dtype=float), np.asarray(denominators, dtype=float)
    pairs = a / b
    return {"value": float(np.median(a) / np.median(b)), "min": float(pairs.min()), "max": float(pairs.max())}


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


# Runs the command given as argv[2:] and writes its wall time, exit status and rusage to the JSON
# file argv[1]. This small helper is the command's parent, not the benchmark: a child's
# ru_maxrss starts from its parent's RSS at fork time, and the benchmark's own process holds
# TensorFlow and the training data (several GB), which would be counted for every command.
HELPER = """
import json, os, subprocess, sys, time
started = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as f:
    json.dump({"wall_s": time.perf_counter() - started,
               "returncode": os.waitstatus_to_exitcode(status),
               "peak_rss_bytes": usage.ru_maxrss * 1024}, f)  # ru_maxrss is in KiB on Linux
"""


def run_measured(cmd: list[str], cwd: Path | None = None, env: dict | None = None) -> dict:
    """Run `cmd` to the end: its wall time, exit code, output and peak RSS (bytes); `env`: more
    environment variables for it."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        out, err = Path(tmp) / "out", Path(tmp) / "err"
        with open(out, "w") as stdout, open(err, "w") as stderr:
            subprocess.run(
                [sys.executable, "-c", HELPER, str(report), *cmd],
                cwd=cwd,
                env={**quiet_env(), **(env or {})},
                stdout=stdout,
                stderr=stderr,
                check=False,
            )
        if not report.exists():
            raise RuntimeError(f"could not run {cmd}: {err.read_text()[-3000:]}")
        result = json.loads(report.read_text())
        return {**result, "stdout": out.read_text(), "stderr": err.read_text()[-3000:]}
