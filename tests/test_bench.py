"""The benchmark's machinery, checked at a toy size; nothing here measures or asserts a time.

`python -m benchmarks.run --size tiny` runs the pipeline, the step-time ways and the callbacks part
(each callback's hooks timed, callbacks switched off in turn) on one model, in-process: every
measured value and ratio is a positive finite number, the ways compared ran the same work, and
the markdown shows the JSON's numbers.
The parts that start a process per measurement (whole runs, start-up, memory, sweeps: minutes even
at the tiny size) are `make bench-tiny`'s to run; their shared process helper is checked here, and
their tables on the committed full-size results, which must be exactly what benchmarks/report.py
makes of results.json.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import re
import sys

import pytest

from tests.conftest import PROJECT_ROOT

MODELS = ["jena_lstm", "jena_conv1d", "imdb_lstm", "fashion_cnn", "headlines_text_lstm"]
TOY_MODEL = "jena_conv1d"
TOY_PARTS = ["pipeline", "training", "callbacks"]
WAYS = ["seqexp", "floor", "reference", "floor again"]  # the floor twice: the A/A pair
WHOLE_WAYS = ["seqexp", "fast", "script", "reference", "script again"]
COMMITTED = PROJECT_ROOT / "benchmarks" / "results"


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


# One callback variant of each kind: the defaults twice (A/A: the noise), both old defaults (a
# setting switched by an override, as the other "without ..." overrides are) and a callback replaced
# by nothing (as history.csv's writer is): 5 whole runs instead of 9.
CALLBACK_VARIANTS = [
    "defaults",
    "defaults again (A/A)",
    "curves every epoch (the old default)",
    "backup every epoch (the old default)",
    "without NaN guard",
]


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """(results, results.md, what it printed) of `python -m benchmarks.run --size tiny` on one model:
    the pipeline, the step-time ways and the callbacks part. In-process (`benchmarks.run.main`): a
    subprocess would only add its own TensorFlow import."""
    from benchmarks import callbacks
    from benchmarks.run import main

    out = tmp_path_factory.mktemp("bench")
    argv = ["--size", "tiny", "--only", ",".join(TOY_PARTS), "--cases", TOY_MODEL]
    argv += ["--out", str(out / "results"), "--work", str(out / "work")]
    loggers = [logging.getLogger(), logging.getLogger("benchmarks")]
    handlers = [list(log.handlers) for log in loggers]
    printed = io.StringIO()
    try:
        with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
            patch.setattr(callbacks, "VARIANTS", {k: callbacks.VARIANTS[k] for k in CALLBACK_VARIANTS})
            assert main(argv) == 0
    finally:  # main() adds its progress handlers; the rest of the suite logs as before
        for log, before in zip(loggers, handlers, strict=True):
            log.handlers[:] = before
    results = out / "results"
    return (
        json.loads((results / "results.json").read_text()),
        (results / "results.md").read_text(),
        printed.getvalue(),
    )


@pytest.fixture(scope="module")
def full():
    """The committed results of the latest full-size run and their markdown."""
    return json.loads((COMMITTED / "results.json").read_text()), (COMMITTED / "results.md").read_text()


@pytest.mark.slow  # the toy run trains (its fixture); the report's own tests stay fast
def test_the_toy_run_measures_every_part_it_ran_with_positive_finite_values(toy):
    data, _, _ = toy
    assert set(data) == {"meta", "targets", *TOY_PARTS}
    assert data["meta"]["size"] == "tiny" and data["meta"]["machine"]
    assert list(data["training"]) == [TOY_MODEL] == list(data["callbacks"])
    for name, case in data["training"].items():
        assert set(case["ms_per_step"]) == set(WAYS) == set(case["cpu_ms_per_step"]), name
        assert all(stats_ok(s) for s in case["ms_per_step"].values()), name
        assert set(case["ratios"]) == {"seqexp/floor", "seqexp/reference", "A/A floor/floor again"}, name
        assert case["reference_way"] and case["steps_per_epoch"] >= 1
    pipe = data["pipeline"]
    assert set(pipe["batches_per_s"]) == {"dlwp_generator", "keras_timeseries_dataset", "seqexp"}
    assert all(stats_ok(s) for s in pipe["batches_per_s"].values())
    (c,) = data["callbacks"].values()
    assert c["timed_epochs"] == 1 and list(c["epoch_ms"]) == CALLBACK_VARIANTS
    assert all(map(positive, c["epoch_ms"].values()))
    # every default callback's hooks were timed inside fit, and Keras' per-batch dispatch
    timed = {"NaN guard", "history.csv and curves", "checkpoint", "TensorBoard", "backup"}
    assert timed | {"Keras' per-batch dispatch (all callbacks)"} <= set(c["hook_ms"]), c["hook_ms"]
    assert all(math.isfinite(s["median"]) and s["median"] >= 0 and s["n"] == 1 for s in c["hook_ms"].values())
    assert list(c["cost_ms"]) == ["without NaN guard"]
    assert list(c["old_default_extra_ms"]) == CALLBACK_VARIANTS[2:4]
    # the targets of the parts that ran, and only those
    assert set(data["targets"]) == {
        "step (a)/(b) <= 1.05 for every model",
        "step (a)/(c) < 1 for every model",
        "Jena pipeline >= 5x the DLwP generator",
    }
    for target in data["targets"].values():
        assert target["result"] in ("met", "missed", "not shown")
        assert (target["result"] == "met") == (not target["not_met"])
    meta = data["meta"]
    assert len(meta["load_average_at_start"]) == 3 == len(meta["load_average_at_end"])
    assert isinstance(meta["busy"], bool) and meta["other_processes_cores"] >= 0


@pytest.mark.slow  # the toy run trains (its fixture); the report's own tests stay fast
def test_the_ways_compared_ran_the_same_steps_batch_and_epochs(toy):
    data, _, _ = toy
    for name, case in data["training"].items():
        # every run of every way timed its epochs: one median per repetition, epochs-1 per run
        assert all(len(v) == case["repetitions"] for v in case["ms_per_step_per_rep"].values()), name
        assert {s["n"] for s in case["ms_per_step"].values()} == {
            case["repetitions"] * case["timed_epochs_per_run"]
        }, name
        assert case["steps_per_epoch"] == 2 and case["batch_size"] in (32, 128), name
        assert case["steps_run"] == {way: [case["steps_per_epoch"]] * case["epochs"] for way in WAYS}, name
        assert case["batch_sizes_run"] == dict.fromkeys(WAYS, case["batch_size"]), name


@pytest.mark.slow  # the toy run trains (its fixture); the report's own tests stay fast
def test_every_ratio_is_a_positive_finite_number(toy, full):
    toy_found, full_found = dict(ratios(toy[0])), dict(ratios(full[0]))
    # one model x (2 step ratios x (wall, CPU) + the step A/A) + 2 pipeline ratios
    assert len(toy_found) == 2 * 2 + 1 + 2, sorted(toy_found)
    # 5 models x (2 step ratios x (wall, CPU) + the step A/A + 5 whole ratios + 2 whole A/A)
    # + a validation ratio and its A/A on the 4 models with a validation split + 2 pipeline
    # ratios + 2 sweep ratios
    assert len(full_found) == 5 * (2 * 2 + 1 + 5 + 2) + 4 * 2 + 2 + 2, sorted(full_found)
    for where, r in {**toy_found, **full_found}.items():
        assert positive(r["value"]) and positive(r["min"]) and positive(r["max"]), where
        assert r["min"] <= r["max"], where


@pytest.mark.slow  # the toy run trains (its fixture); the report's own tests stay fast
def test_the_toy_markdown_shows_the_toy_numbers(toy):
    data, md, printed = toy
    assert md in printed  # the table is also printed
    assert data["meta"]["machine"] in md and "Load average (1, 5, 15 min) at the start" in md
    assert ("BUSY MACHINE" in md) == data["meta"]["busy"]
    assert "## Whole epochs" not in md and "## Sweep throughput" not in md  # parts not run: no table
    check_markdown_numbers(data, md, [TOY_MODEL])


def test_the_process_helper_measures_a_command(tmp_path):
    """run_measured, behind every part that starts a process (whole runs, start-up, memory, sweeps)."""
    from benchmarks.stats import run_measured

    result = run_measured([sys.executable, "-c", "import sys; print('out'); sys.exit(3)"], cwd=tmp_path)
    assert result["returncode"] == 3 and result["stdout"].strip() == "out"
    assert positive(result["wall_s"]) and positive(result["peak_rss_bytes"])


def test_the_committed_results_md_is_the_report_of_results_json(full):
    """Generated, never edited by hand: after a change to benchmarks/report.py, rerun
    `python -m benchmarks.report` (it rewrites results.md from results.json)."""
    from benchmarks.report import markdown

    data, md = full
    assert markdown(data) == md


def test_the_full_markdown_has_every_table_and_the_jsons_numbers(full):
    data, md = full
    assert set(data) >= {"meta", "pipeline", "training", "whole", "callbacks", "startup", "memory", "sweep"}
    for name, case in data["whole"].items():
        for clock in ("epoch_s", "run_s", "first_step_s"):
            assert set(case[clock]) == set(WHOLE_WAYS) and all(map(stats_ok, case[clock].values())), name
        assert all(len(v) == case["epochs"] for v in case["learning_curves"]["seqexp"].values()), name
        # fit's validation pass, timed apart, on every model with a validation split
        with_val = set(WHOLE_WAYS) if name != "headlines_text_lstm" else set()
        assert set(case["validation_s"]) == with_val and all(map(stats_ok, case["validation_s"].values()))
        # each way of the whole-run part ran the same epochs (early stopping never stopped one)
        assert case["epochs_run"] == {way: [case["epochs"]] * case["repetitions"] for way in WHOLE_WAYS}, name
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
    results_cells = [line.split("|")[2].strip() for line in md.split("## Targets")[1].splitlines()[6:]]
    assert len(results_cells) == len(data["targets"]) == 11
    assert all(c == "met" or c.startswith(("**missed**", "**not shown**")) for c in results_cells)
    check_markdown_numbers(data, md, MODELS)


def row_of(md: str, heading: str, model: str) -> list[str]:
    """The cells of `model`'s row in the table under `heading`."""
    section = md.split(heading, 1)[1].split("\n## ", 1)[0]
    row = next(line for line in section.splitlines() if line.startswith(f"| {model} |"))
    return [cell.strip() for cell in row.strip("|").split("|")]


def number(cell: str) -> float:
    return float(re.match(r"[+-]?[0-9.]+", cell).group())


def check_markdown_numbers(data: dict, md: str, models: list[str]) -> None:
    """Every table's cells are the JSON's numbers, rounded as the report rounds them."""
    for model in models if "training" in data else ():
        step, ms = row_of(md, "## Training step time", model), data["training"][model]["ms_per_step"]
        assert int(step[1]) == data["training"][model]["batch_size"]
        for cell, way in zip(step[2:5], WAYS[:3], strict=True):
            assert number(cell) == round(ms[way]["median"], 1), (model, way)
        r = data["training"][model]["ratios"]["seqexp/floor"]
        assert step[5] == f"{r['value']:.2f} ({r['min']:.2f}–{r['max']:.2f})"
        if "whole" not in data:
            continue
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
    for model, c in data.get("callbacks", {}).items():
        hooks = row_of(md, "## Where a whole epoch's milliseconds go", model)  # timed inside fit
        shown = [number(x) for x in hooks[1:-1] if x != "–"]  # "–": a callback the model runs without
        assert shown == [round(s["median"], 1) for s in c["hook_ms"].values()], model
        assert number(hooks[-1]) == round(c["epoch_ms"]["defaults"])
        switched = row_of(md, "Switched off in turn", model)
        assert [number(x) for x in switched[1:]] == [round(v) for v in c["epoch_ms"].values()]
    if "pipeline" in data:
        row = next(line for line in md.splitlines() if line.startswith("| seqexp (phase-table gather"))
        assert number(row.split("|")[2].strip()) == round(
            data["pipeline"]["batches_per_s"]["seqexp"]["median"]
        )
    if "targets" not in data:
        return
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
