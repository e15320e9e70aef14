"""The benchmark's backends part (benchmarks/backends.py): seqexp on JAX against the same Keras
script on JAX and against seqexp on TensorFlow. Nothing here asserts a time: the report's verdicts
are checked on given numbers, and a toy run (slow) checks that the part runs without TensorFlow,
finds the device itself and compares ways that ran the same work.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT
from tests.test_backends import without_tensorflow

COMMITTED = PROJECT_ROOT / "benchmarks" / "results" / "backends"  # measured on a busy machine
TARGET = "seqexp on JAX: whole epoch <= 1.05x the script on JAX (1.10x on a GPU) for every model"


def stats(median: float) -> dict:
    return {"median": median, "q25": median, "q75": median, "min": median, "max": median, "n": 1}


def case(device: str, epoch_ratio: tuple, jax_tf: tuple | None) -> dict:
    """A backends case with the given (value, min, max) ratios; TensorFlow absent if jax_tf is None."""
    as_ratio = dict(zip(("value", "min", "max"), epoch_ratio, strict=True))
    ways = ["seqexp jax", "script jax", "script jax again"] + (
        [] if jax_tf is None else ["seqexp tensorflow"]
    )
    ratios = {
        "epoch seqexp/script (jax)": as_ratio,
        "step seqexp/script (jax)": as_ratio,
        "A/A epoch script/script again (jax)": {"value": 1.0, "min": 0.9, "max": 1.1},
        "A/A step script/script again (jax)": {"value": 1.0, "min": 0.9, "max": 1.1},
    }
    if jax_tf is not None:
        r = dict(zip(("value", "min", "max"), jax_tf, strict=True))
        ratios |= {"epoch jax/tensorflow (seqexp)": r, "step jax/tensorflow (seqexp)": r}
    return {
        "steps_per_epoch": 8,
        "validation_steps": 4,
        "epochs": 3,
        "repetitions": 2,
        "devices": {way: device if "jax" in way else "cpu" for way in ways},
        "ms_per_step": {way: stats(12.34) for way in ways},
        "epoch_s": {way: stats(1.234) for way in ways},
        "run_s": {way: stats(20.0) for way in ways},
        "ratios": ratios,
    }


def test_the_faster_backend_is_named_only_as_surely_as_the_repetitions_show_it():
    from benchmarks.report import faster

    assert faster({"value": 0.8, "min": 0.7, "max": 0.9}) == "JAX 1.25x"
    assert faster({"value": 1.5, "min": 1.2, "max": 1.6}) == "TensorFlow 1.50x"
    assert faster({"value": 0.8, "min": 0.7, "max": 1.1}) == "JAX 1.25x (by the median; not every repetition)"
    assert faster(None) == "– (no TensorFlow)"


def test_the_jax_target_is_1_05_on_a_cpu_and_1_10_on_a_gpu():
    from benchmarks.report import markdown, targets

    # 1.08 in every repetition: within a GPU's 1.10, not a CPU's 1.05
    on_a_gpu = case("gpu: NVIDIA H200 x1", (1.07, 1.06, 1.08), None)
    on_gpu = targets({"backends": {"cases": {"m": on_a_gpu}}})
    assert on_gpu[TARGET] == {"result": "met", "not_met": {}}
    on_cpu = targets({"backends": {"cases": {"m": case("cpu x1", (1.07, 1.06, 1.08), (0.8, 0.7, 0.9))}}})
    assert on_cpu[TARGET] == {"result": "missed", "not_met": {"m": "missed"}}
    crossing = targets({"backends": {"cases": {"m": case("cpu x1", (1.0, 0.95, 1.08), (0.8, 0.7, 0.9))}}})
    assert crossing[TARGET]["result"] == "not shown"

    results = {
        "meta": {
            "size": "full", "machine": "test machine", "python": "3.11", "tensorflow": "not installed",
            "keras": "3.15", "jax": "0.10", "started": "today", "wall_s": 60.0,
            "load_average_at_start": [0.1, 0.1, 0.1], "load_average_at_end": [0.1, 0.1, 0.1],
            "other_processes_cores": 0.0, "busy": False, "busy_reasons": [],
        },
        "backends": {"tensorflow_installed": False, "cases": {"m": on_a_gpu}},
    }  # fmt: skip
    md = markdown(results)
    assert "JAX 0.10" in md and "TensorFlow is not installed on this machine" in md
    epoch_row = next(line for line in md.splitlines() if line.startswith("| m | gpu"))
    cells = [c.strip() for c in epoch_row.strip("|").split("|")]
    assert cells[1:4] == ["gpu: NVIDIA H200 x1", "–", "8 + 4 val"]
    assert cells[4] == "1.23 [1.23–1.23]" and cells[6] == "–"  # no TensorFlow: no (a, TF) epoch
    assert cells[7] == "1.07 (1.06–1.08)" and cells[-1] == "– (no TensorFlow)"
    assert f"| {TARGET} | met |" in md


def test_the_committed_backends_results_md_is_the_report_of_their_json():
    """Generated, never edited by hand (`python -m benchmarks.report benchmarks/results/backends`);
    kept apart from results.json, whose parts were measured on an idle machine."""
    from benchmarks.report import markdown

    data = json.loads((COMMITTED / "results.json").read_text())
    assert markdown(data) == (COMMITTED / "results.md").read_text()
    assert set(data) == {"meta", "targets", "backends"} and data["backends"]["tensorflow_installed"]
    for name, c in data["backends"]["cases"].items():
        assert set(c["epoch_s"]) == {"seqexp jax", "script jax", "seqexp tensorflow", "script jax again"}, (
            name
        )


def test_docs_performance_shows_the_committed_backend_figures():
    """docs/performance.md's table of the backends part repeats results.json's numbers."""
    data = json.loads((COMMITTED / "results.json").read_text())["backends"]["cases"]
    page = (PROJECT_ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    section = page.split("## Backends: JAX and TensorFlow", 1)[1].split("\n## ", 1)[0]
    rows = {line.split("|")[1].split()[0]: line for line in section.splitlines() if line.startswith("| ")}
    assert set(data) <= set(rows)
    for name, c in data.items():
        cells = [cell.strip() for cell in rows[name].strip("|").split("|")]
        for cell, way in zip(cells[1:4], ("seqexp jax", "seqexp tensorflow", "script jax"), strict=True):
            shown = cell.split()[0]  # "13.5" (s): the JSON's median, rounded as shown
            assert float(shown) == round(c["epoch_s"][way]["median"], len(shown.split(".")[1])), (name, way)
        jax_tf = c["ratios"]["epoch jax/tensorflow (seqexp)"]["value"]
        assert float(cells[4]) == round(jax_tf, 2), name
        assert cells[5].startswith("JAX" if jax_tf < 1 else "TensorFlow"), name
        assert float(cells[6]) == round(c["ratios"]["epoch seqexp/script (jax)"]["value"], 2), name


@pytest.mark.slow  # four runs, each its own process
def test_the_backends_part_runs_without_tensorflow_on_the_device_jax_finds(tmp_path):
    """`python -m benchmarks.run --only backends` on a machine without TensorFlow (simulated):
    seqexp on JAX and the script on JAX only, each run on the device JAX reports (this machine's
    CPU), the same steps in every epoch of every way, positive finite times and ratios."""
    out = tmp_path / "results"
    env = {**without_tensorflow(tmp_path / "no_tf"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--size", "tiny", "--only", "backends",
         "--cases", "jena_gru", "--out", str(out), "--work", str(tmp_path / "work")],
        cwd=PROJECT_ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    data = json.loads((out / "results.json").read_text())
    assert data["meta"]["tensorflow"] == "not installed" and "no GPU used" not in data["meta"]["machine"]
    part = data["backends"]
    assert part["tensorflow_installed"] is False and list(part["cases"]) == ["jena_gru"]
    c = part["cases"]["jena_gru"]
    ways = {"seqexp jax", "script jax", "script jax again"}
    assert set(c["epoch_s"]) == set(c["ms_per_step"]) == set(c["devices"]) == ways
    import jax

    expected = f"{jax.devices()[0].platform}"
    assert all(d.startswith(expected) for d in c["devices"].values()), c["devices"]
    assert c["steps_per_epoch"] == 2 and c["epochs"] == 2
    assert set(c["ratios"]) == {
        "epoch seqexp/script (jax)", "step seqexp/script (jax)",
        "A/A epoch script/script again (jax)", "A/A step script/script again (jax)",
    }  # fmt: skip
    for r in c["ratios"].values():
        assert all(math.isfinite(r[k]) and r[k] > 0 for k in ("value", "min", "max"))
    for s in [*c["epoch_s"].values(), *c["ms_per_step"].values()]:
        assert math.isfinite(s["median"]) and s["median"] > 0 and s["n"] == 1
    md = (out / "results.md").read_text()
    assert "## Backends" in md and "| jena_gru |" in md and TARGET in md
