"""`python -m benchmarks.run --size tiny` runs every measurement of the benchmark end to end and
writes results.json and results.md of the documented shape. No time is asserted: only that
every measured value and ratio is a positive finite number, that the ways compared ran the same
work, that the markdown shows the JSON's numbers and that a target is met only by its whole range."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT

MODELS = ["jena_lstm", "jena_conv1d", "imdb_lstm", "fashion_cnn", "headlines_text_lstm"]
WAYS = ["seqexp", "floor", "reference", "floor again"]  # the floor twice: the A/A pair
WHOLE_WAYS = ["seqexp", "fast", "script", "reference", "script again"]


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
    assert set(data) >= {"meta", "pipeline", "training", "whole", "callbacks", "startup", "memory", "sweep"}
    assert data["meta"]["size"] == "tiny" and data["meta"]["machine"]
    assert list(data["training"]) == MODELS
    for name, case in data["training"].items():
        assert set(case["ms_per_step"]) == set(WAYS) == set(case["cpu_ms_per_step"]), name
        assert all(stats_ok(s) for s in case["ms_per_step"].values()), name
        assert set(case["ratios"]) == {"seqexp/floor", "seqexp/reference", "A/A floor/floor again"}, name
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
    sweep = data["sweep"]
    assert all(
        stats_ok(sweep[m][k]) for m in ("wall_s", "jobs_per_minute") for k in ("basic", "joblib", "search")
    )
    assert len(data["targets"]) == 11
    for target in data["targets"].values():
        assert target["result"] in ("met", "missed", "not shown")
        assert (target["result"] == "met") == (not target["not_met"])
    for name, case in data["whole"].items():
        for clock in ("epoch_s", "run_s", "first_step_s"):
            assert set(case[clock]) == set(WHOLE_WAYS) and all(map(stats_ok, case[clock].values())), name
        assert all(len(v) == case["epochs"] for v in case["learning_curves"]["seqexp"].values()), name
        # fit's validation pass, timed apart, on every model with a validation split
        with_val = set(WHOLE_WAYS) if name != "headlines_text_lstm" else set()
        assert set(case["validation_s"]) == with_val and all(map(stats_ok, case["validation_s"].values()))
    meta = data["meta"]
    assert len(meta["load_average_at_start"]) == 3 == len(meta["load_average_at_end"])
    assert isinstance(meta["busy"], bool) and meta["other_processes_cores"] >= 0


@pytest.mark.slow
def test_the_ways_compared_ran_the_same_steps_batch_and_epochs(results):
    data, _, _ = results
    for name, case in data["training"].items():
        # every run of every way timed its epochs: one median per repetition, epochs-1 per run
        assert all(len(v) == case["repetitions"] for v in case["ms_per_step_per_rep"].values()), name
        assert {s["n"] for s in case["ms_per_step"].values()} == {
            case["repetitions"] * case["timed_epochs_per_run"]
        }, name
        assert case["steps_per_epoch"] == 2 and case["batch_size"] in (32, 128), name
        assert case["steps_run"] == {way: [case["steps_per_epoch"]] * case["epochs"] for way in WAYS}, name
        assert case["batch_sizes_run"] == dict.fromkeys(WAYS, case["batch_size"]), name
    for name, case in data["whole"].items():
        # each way of the whole-run part ran the same epochs (early stopping never stopped one)
        assert case["epochs_run"] == {way: [case["epochs"]] * case["repetitions"] for way in WHOLE_WAYS}, name


@pytest.mark.slow
def test_every_ratio_is_a_positive_finite_number(results):
    data, _, _ = results
    found = dict(ratios(data))
    # 5 models x (2 step ratios x (wall, CPU) + the step A/A + 5 whole ratios + 2 whole A/A)
    # + a validation ratio and its A/A on the 4 models with a validation split + 2 pipeline
    # ratios + 2 sweep ratios
    assert len(found) == 5 * (2 * 2 + 1 + 5 + 2) + 4 * 2 + 2 + 2, sorted(found)
    for where, r in found.items():
        assert positive(r["value"]) and positive(r["min"]) and positive(r["max"]), where
        assert r["min"] <= r["max"], where


@pytest.mark.slow
def test_markdown_has_a_table_per_measurement_and_the_targets(results):
    data, md, proc = results
    for heading in [
        "## Training step time",
        "## Whole epochs and whole runs",
        "## The validation pass of an epoch",
        "## Start to the first finished training step",
        "## What trainer.fast trades",
        "## Where a whole epoch's milliseconds go",
        "## Jena input pipeline",
        "## Start-up",
        "## Memory",
        "## Sweep throughput",
        "## Targets",
    ]:
        assert heading in md, heading
    for model in MODELS:
        row = next(line for line in md.splitlines() if line.startswith(f"| {model} |"))
        assert row.count("|") == 12, row  # 11 columns
    assert data["meta"]["machine"] in md
    assert md in proc.stdout  # the table is also printed
    results_cells = [line.split("|")[2].strip() for line in md.split("## Targets")[1].splitlines()[6:]]
    assert len(results_cells) == 11
    assert all(c == "met" or c.startswith(("**missed**", "**not shown**")) for c in results_cells)
    assert "Load average (1, 5, 15 min) at the start" in md
    assert ("BUSY MACHINE" in md) == data["meta"]["busy"]


def row_of(md: str, heading: str, model: str) -> list[str]:
    """The cells of `model`'s row in the table under `heading`."""
    section = md.split(heading, 1)[1].split("\n## ", 1)[0]
    row = next(line for line in section.splitlines() if line.startswith(f"| {model} |"))
    return [cell.strip() for cell in row.strip("|").split("|")]


def number(cell: str) -> float:
    return float(re.match(r"[+-]?[0-9.]+", cell).group())


@pytest.mark.slow
def test_the_markdown_numbers_are_the_jsons(results):
    data, md, _ = results
    for model in MODELS:
        step, ms = row_of(md, "## Training step time", model), data["training"][model]["ms_per_step"]
        assert int(step[1]) == data["training"][model]["batch_size"]
        for cell, way in zip(step[2:5], WAYS[:3], strict=True):
            assert number(cell) == round(ms[way]["median"], 1), (model, way)
        r = data["training"][model]["ratios"]["seqexp/floor"]
        assert step[5] == f"{r['value']:.2f} ({r['min']:.2f}–{r['max']:.2f})"
        whole, case = row_of(md, "## Whole epochs and whole runs", model), data["whole"][model]
        for cell, way in zip(whole[2:6], WHOLE_WAYS[:4], strict=True):
            assert number(cell) == round(case["epoch_s"][way]["median"], 2), (model, way)
        r = case["ratios"]["epoch seqexp/script"]
        assert whole[6] == f"{r['value']:.2f} ({r['min']:.2f}–{r['max']:.2f})"
        r = case["ratios"]["A/A epoch script/script again"]
        assert whole[9] == f"{r['value']:.2f} ({r['min']:.2f}–{r['max']:.2f})"
        assert number(whole[10]) == round(case["run_s"]["seqexp"]["median"], 1)
        if case["validation_s"]:
            val = row_of(md, "## The validation pass of an epoch", model)
            assert int(val[1]) == case["validation_steps"]
            for cell, way in zip(val[2:6], WHOLE_WAYS[:4], strict=True):
                assert number(cell) == round(case["validation_s"][way]["median"], 3), (model, way)
    assert list(data["callbacks"]) == ["jena_conv1d"]  # the tiny size switches callbacks on one model
    for model, c in data["callbacks"].items():
        hooks = row_of(md, "## Where a whole epoch's milliseconds go", model)  # timed inside fit
        assert [number(x) for x in hooks[1:-1]] == [round(s["median"], 1) for s in c["hook_ms"].values()]
        assert number(hooks[-1]) == round(c["epoch_ms"]["defaults"])
        switched = row_of(md, "Switched off in turn", model)
        assert [number(x) for x in switched[1:]] == [round(v) for v in c["epoch_ms"].values()]
    from benchmarks.report import mark

    names = {
        line.split("|")[1].strip(): line.split("|")[2].strip()
        for line in md.split("## Targets")[1].splitlines()[6:]
        if line.startswith("|")
    }
    assert names == {k: mark(v) for k, v in data["targets"].items()}


def test_a_target_is_met_only_when_its_whole_range_is_and_missed_when_its_median_is_not():
    from benchmarks.report import mark, targets

    def case(value, lo, hi):
        floor = {"value": value, "min": lo, "max": hi}
        reference = {"value": value - 0.1, "min": lo - 0.2, "max": hi - 0.1}
        return {"ratios": {"seqexp/floor": floor, "seqexp/reference": reference}}

    step, reference = "step (a)/(b) <= 1.05 for every model", "step (a)/(c) < 1 for every model"
    met = targets({"training": {"m": case(1.0, 0.95, 1.04)}})
    assert met[step] == {"result": "met", "not_met": {}} == met[reference]
    # the median (1.0) meets both, but one repetition does not: not shown either way
    crossing = targets({"training": {"m": case(1.0, 0.95, 1.11), "n": case(1.0, 0.95, 1.04)}})
    assert crossing[step] == {"result": "not shown", "not_met": {"m": "not shown"}}
    assert mark(crossing[step]) == "**not shown**: m"
    # one model's median misses: the target is missed, whatever the others do
    missed = targets({"training": {"m": case(1.0, 0.95, 1.11), "n": case(1.2, 1.1, 1.3)}})
    assert missed[step] == {"result": "missed", "not_met": {"m": "not shown", "n": "missed"}}
    assert mark(missed[step]) == "**missed**: m (not shown), n"
    assert missed[reference]["result"] == "missed"  # 1.1 is not < 1
