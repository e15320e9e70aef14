"""`python -m benchmarks.run --size tiny` runs every measurement of the benchmark end to end and
writes results.json and results.md of the documented shape. No time is asserted: only that
every measured value and ratio is a positive finite number."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT

MODELS = ["jena_lstm", "jena_conv1d", "imdb_lstm", "fashion_cnn", "headlines_text_lstm"]
WAYS = ["seqexp", "floor", "reference"]


def ratios(node, where=""):
    """Every ratio of the results: (where, {value, min, max})."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("ratios", "cpu_ratios"):
                yield from ((f"{where}.{key}.{name}", r) for name, r in value.items())
            else:
                yield from ratios(value, f"{where}.{key}")


def positive(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x > 0


def stats_ok(s: dict) -> bool:
    return all(positive(s[k]) for k in ("median", "q25", "q75", "min", "max")) and s["n"] >= 1


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.run",
        "--size",
        "tiny",
        "--out",
        str(out / "results"),
        "--work",
        str(out / "work"),
    ]
    proc = subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = out / "results"
    return json.loads((results / "results.json").read_text()), (results / "results.md").read_text(), proc


@pytest.mark.slow
def test_every_part_is_measured_with_positive_finite_values(results):
    data, _, _ = results
    assert set(data) >= {"meta", "pipeline", "training", "startup", "memory", "sweep", "targets"}
    assert data["meta"]["size"] == "tiny" and data["meta"]["machine"]
    assert list(data["training"]) == MODELS
    for name, case in data["training"].items():
        assert set(case["ms_per_step"]) == set(WAYS) == set(case["cpu_ms_per_step"]), name
        assert all(stats_ok(s) for s in case["ms_per_step"].values()), name
        assert set(case["ratios"]) == {"seqexp/floor", "seqexp/reference"}, name
        assert case["reference_way"] and case["steps_per_epoch"] >= 1
    pipe = data["pipeline"]
    assert set(pipe["batches_per_s"]) == {"dlwp_generator", "keras_timeseries_dataset", "seqexp"}
    assert all(stats_ok(s) for s in pipe["batches_per_s"].values())
    startup = data["startup"]
    assert all(stats_ok(startup["wall_s"][k]) for k in ("help", "cfg_job", "one_step_run"))
    assert startup["cfg_job_imports_tensorflow"] is False  # a fact, not a time
    memory = data["memory"]
    assert positive(memory["jena_run"]["peak_rss_gb"])
    assert positive(memory["imdb_raw_tokenisation"]["peak_rss_gb"])
    assert positive(memory["imdb_raw_tokenisation"]["seconds"])
    assert memory["imdb_raw_tokenisation"]["reviews"] == 400
    assert all(stats_ok(data["sweep"]["wall_s"][k]) for k in ("basic", "joblib"))
    assert all(isinstance(v, bool) for v in data["targets"].values()) and len(data["targets"]) == 6


@pytest.mark.slow
def test_every_ratio_is_a_positive_finite_number(results):
    data, _, _ = results
    found = dict(ratios(data))
    # 5 models x 2 ratios x (wall, CPU) + 2 pipeline ratios + the sweep ratio
    assert len(found) == 5 * 2 * 2 + 2 + 1, sorted(found)
    for where, r in found.items():
        assert positive(r["value"]) and positive(r["min"]) and positive(r["max"]), where
        assert r["min"] <= r["max"], where


@pytest.mark.slow
def test_markdown_has_a_table_per_measurement_and_the_targets(results):
    data, md, proc = results
    for heading in [
        "## Training step time",
        "## Jena input pipeline",
        "## Start-up",
        "## Memory",
        "## Sweep throughput",
        "## Targets",
    ]:
        assert heading in md, heading
    for model in MODELS:
        row = next(line for line in md.splitlines() if line.startswith(f"| {model} |"))
        assert row.count("|") == 11, row  # 10 columns
    assert data["meta"]["machine"] in md
    assert md in proc.stdout  # the table is also printed
    assert md.count("| met |") + md.count("| **missed** |") == 6
