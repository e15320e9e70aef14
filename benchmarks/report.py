"""results.md from results.json: one table per measurement, with the targets of issues 8, 15 and 23.

A target is met only when its whole range is: every per-repetition ratio, not just the median;
missed when the median misses it, and "not shown" in between (report.verdict).
"""

from __future__ import annotations

TARGETS = {
    "seqexp/floor": 1.05,  # step time (a)/(b) <= 1.05 for every model
    "seqexp/reference": 1.0,  # step time (a)/(c) < 1 everywhere
    "pipeline": 5.0,  # Jena input pipeline >= 5x the DLwP generator
    "startup_s": 1.5,  # --help and --cfg job under 1.5 s, TensorFlow not imported
    "jena_rss_gb": 2.0,  # full-size Jena run under 2 GB peak RSS
    "sweep": 0.65,  # joblib sweep wall time <= 0.65x sequential
    "epoch seqexp/script": 1.03,  # whole epoch (a)/(b)
    "run seqexp/script": 1.05,  # whole run (a)/(b)
    "validation seqexp/script": 1.0,  # the validation pass costs no more than (b)'s
    "fast speed-up": 1.2,  # (b)/(a, trainer.fast) >= 1.2, whole epoch
    "first step extra s": 1.0,  # start to first step <= (b) + 1 s
    "jax epoch seqexp/script": 1.05,  # whole epoch, seqexp on JAX / the script on JAX, on a CPU
    "jax epoch seqexp/script on a GPU": 1.10,
}
CLOCKS = {
    "step": "the training steps of an epoch only (on_epoch_begin to the last training batch); "
    "validation and the epoch-end callbacks are outside it",
    "epoch": "a whole epoch: training, validation and every epoch-end callback (on_epoch_begin "
    "to the next one), in the run's own process",
    "run": "a whole run: process start to exit, one command (imports, data, model, fit, test, reports)",
}


def spread(s: dict, digits: int = 1) -> str:
    """median [q25–q75]"""
    return f"{s['median']:.{digits}f} [{s['q25']:.{digits}f}–{s['q75']:.{digits}f}]"


def ratio_cell(r: dict) -> str:
    return f"{r['value']:.2f} ({r['min']:.2f}–{r['max']:.2f})"


MET, MISSED, NOT_SHOWN = "met", "missed", "not shown"


def verdict(median: float, worst: float, ok) -> str:
    """met: every repetition meets the target (`worst` does); missed: the median does not;
    not shown: the median does but some repetition does not, so this machine's noise (the A/A
    columns) hides the answer. A target is never called met on its median alone."""
    return MET if ok(worst) else MISSED if not ok(median) else NOT_SHOWN


def every(verdicts: dict[str, str]) -> dict:
    """One target over every model: missed if one misses, else not shown if one is not shown."""
    found = set(verdicts.values())
    result = MISSED if MISSED in found else NOT_SHOWN if NOT_SHOWN in found else MET
    return {"result": result, "not_met": {k: v for k, v in verdicts.items() if v != MET}}


def at_most(limit: float):
    return lambda x: x <= limit


def mark(target: dict) -> str:
    """The target's cell: met, or the verdict in bold with the models that did not meet it."""
    if target["result"] == MET:
        return MET
    which = ", ".join(k if v == target["result"] else f"{k} ({v})" for k, v in target["not_met"].items())
    return f"**{target['result']}**" + (f": {which}" if which else "")


def targets(results: dict) -> dict[str, dict]:
    """Each target's verdict (see `verdict`) and the models that did not meet it."""
    out = {}

    def over(cases: dict, key: str, ok) -> dict:
        return every(
            {
                name: verdict(c["ratios"][key]["value"], c["ratios"][key]["max"], ok)
                for name, c in cases.items()
                if key in c["ratios"]
            }
        )

    training = results.get("training", {})
    if training:
        out["step (a)/(b) <= 1.05 for every model"] = over(
            training, "seqexp/floor", at_most(TARGETS["seqexp/floor"])
        )
        out["step (a)/(c) < 1 for every model"] = over(
            training, "seqexp/reference", lambda x: x < TARGETS["seqexp/reference"]
        )
    whole = results.get("whole", {})
    if whole:
        for key, label in (
            ("epoch seqexp/script", "whole epoch (a)/(b) <= 1.03 for every model"),
            ("run seqexp/script", "whole run (a)/(b) <= 1.05 for every model"),
            ("validation seqexp/script", "validation pass (a)/(b) <= 1 for every model"),
        ):
            out[label] = over(whole, key, at_most(TARGETS[key]))
        out["trainer.fast: whole epoch >= 1.2x faster than (b) for every model"] = over(
            whole, "epoch fast/script", at_most(1 / TARGETS["fast speed-up"])
        )
        out["start to first step <= (b) + 1 s for every model"] = every(
            {
                name: verdict(
                    c["first_step_minus_script_s"]["median"],
                    c["first_step_minus_script_s"]["max"],
                    at_most(TARGETS["first step extra s"]),
                )
                for name, c in whole.items()
            }
        )
    backends = results.get("backends", {}).get("cases", {})
    if backends:
        key = "epoch seqexp/script (jax)"
        out["seqexp on JAX: whole epoch <= 1.05x the script on JAX (1.10x on a GPU) for every model"] = every(
            {
                name: verdict(c["ratios"][key]["value"], c["ratios"][key]["max"], at_most(jax_limit(c)))
                for name, c in backends.items()
            }
        )
    if "pipeline" in results:
        r = results["pipeline"]["ratios"]["seqexp/dlwp_generator"]
        out["Jena pipeline >= 5x the DLwP generator"] = every(
            {"pipeline": verdict(r["value"], r["min"], lambda x: x >= TARGETS["pipeline"])}
        )
    if "startup" in results:
        s = results["startup"]
        fast = not s["cfg_job_imports_tensorflow"]
        out["--help and --cfg job < 1.5 s without TensorFlow"] = every(
            {
                cmd: verdict(
                    s["wall_s"][cmd]["median"],
                    s["wall_s"][cmd]["max"],
                    lambda x: fast and x < TARGETS["startup_s"],
                )
                for cmd in ("help", "cfg_job")
            }
        )
    if "memory" in results:
        gb = results["memory"]["jena_run"]["peak_rss_gb"]
        out["full-size Jena run < 2 GB peak RSS"] = every(
            {"jena run": verdict(gb, gb, lambda x: x < TARGETS["jena_rss_gb"])}
        )
    if "sweep" in results:
        r = results["sweep"]["ratios"]["joblib/basic"]
        out["joblib sweep <= 0.65x sequential"] = every(
            {"joblib": verdict(r["value"], r["max"], at_most(TARGETS["sweep"]))}
        )
    return out


def jax_limit(case: dict) -> float:
    """The target of seqexp on JAX against the script: looser on a GPU (issue 23), whose steps
    are so short that a whole epoch's fixed costs weigh more."""
    on_gpu = case["devices"]["seqexp jax"].startswith("gpu")
    return TARGETS["jax epoch seqexp/script on a GPU" if on_gpu else "jax epoch seqexp/script"]


def faster(r: dict | None) -> str:
    """Which backend ran seqexp faster, from the ratio JAX/TensorFlow: by every repetition, or
    by the median only when the repetitions' ratios fall on both sides of 1."""
    if r is None:
        return "– (no TensorFlow)"
    name, times = ("JAX", 1 / r["value"]) if r["value"] < 1 else ("TensorFlow", r["value"])
    sure = r["max"] < 1 or r["min"] > 1
    return f"{name} {times:.2f}x" + ("" if sure else " (by the median; not every repetition)")


def backend_tables(part: dict) -> list[str]:
    cases = part["cases"]
    first = next(iter(cases.values()))
    tf = part["tensorflow_installed"]

    def cell(c: dict, clock: str, way: str, digits: int) -> str:
        return spread(c[clock][way], digits) if way in c[clock] else "–"

    def ratio_or_dash(c: dict, key: str) -> str:
        return ratio_cell(c["ratios"][key]) if key in c["ratios"] else "–"

    lines = [
        "## Backends: seqexp on JAX, the script on JAX, seqexp on TensorFlow",
        "",
        "(a) `seqexp train <preset> trainer.backend=jax`, every default callback; (b) the hand-written "
        "Keras script of the whole-run table with KERAS_BACKEND=jax; (a, TF) `seqexp train <preset>` "
        "on TensorFlow. Each run is its own process, on the device the backend found (column device). "
        f"Epoch: {CLOCKS['epoch']}. Step: an epoch's training steps / steps (on_epoch_begin to "
        "validation's start, ahead of every other callback). JAX/TF < 1: JAX is faster."
        + ("" if tf else " TensorFlow is not installed on this machine: no (a, TF) column."),
        "",
        "| model | device (a) | device (a, TF) | steps | epoch (a) | epoch (b) | epoch (a, TF) | (a)/(b) "
        "| A/A (b)/(b) | JAX/TF (a) | faster backend for seqexp |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, c in cases.items():
        steps = str(c["steps_per_epoch"])
        if name != "headlines_text_lstm":  # headlines has no validation split
            steps += f" + {c['validation_steps']} val"
        r = c["ratios"]
        lines.append(
            f"| {name} | {c['devices']['seqexp jax']} | {c['devices'].get('seqexp tensorflow', '–')} "
            f"| {steps} | {cell(c, 'epoch_s', 'seqexp jax', 2)} | {cell(c, 'epoch_s', 'script jax', 2)} "
            f"| {cell(c, 'epoch_s', 'seqexp tensorflow', 2)} | {ratio_cell(r['epoch seqexp/script (jax)'])} "
            f"| {ratio_cell(r['A/A epoch script/script again (jax)'])} "
            f"| {ratio_or_dash(c, 'epoch jax/tensorflow (seqexp)')} "
            f"| {faster(r.get('epoch jax/tensorflow (seqexp)'))} |"
        )
    lines += [
        "",
        "Training steps (ms per step):",
        "",
        "| model | step (a) | step (b) | step (a, TF) | (a)/(b) | A/A (b)/(b) | JAX/TF (a) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, c in cases.items():
        r, ms = c["ratios"], c["ms_per_step"]
        lines.append(
            f"| {name} | {spread(ms['seqexp jax'])} | {spread(ms['script jax'])} "
            f"| {cell(c, 'ms_per_step', 'seqexp tensorflow', 1)} "
            f"| {ratio_cell(r['step seqexp/script (jax)'])} "
            f"| {ratio_cell(r['A/A step script/script again (jax)'])} "
            f"| {ratio_or_dash(c, 'step jax/tensorflow (seqexp)')} |"
        )
    lines += [
        "",
        f"{first['repetitions']} repetition(s) x {first['epochs'] - 1} timed epochs (the first, "
        "tracing and XLA compiling, is not timed). A/A: the script (b) run twice per repetition.",
        "",
    ]
    return lines


def load_line(meta: dict) -> str:
    start, end = meta["load_average_at_start"], meta["load_average_at_end"]
    line = (
        f"Load average (1, 5, 15 min) at the start {start[0]:.2f}, {start[1]:.2f}, {start[2]:.2f}; "
        f"at the end {end[0]:.2f}, {end[1]:.2f}, {end[2]:.2f}; other processes used "
        f"{meta['other_processes_cores']:.2f} cores on average during the run."
    )
    if meta["busy"]:
        line += " **BUSY MACHINE: " + "; ".join(meta["busy_reasons"]) + ". These numbers are disturbed.**"
    return line


def whole_tables(whole: dict) -> list[str]:
    first = next(iter(whole.values()))
    lines = [
        "## Whole epochs and whole runs (s)",
        "",
        "(a) `seqexp train <preset>` as a user runs it, every default callback; (a, fast) the same "
        "with `trainer.fast=true`; (b) the hand-written Keras script (same model and seed, batches in "
        "memory as NumPy, `fit` with ModelCheckpoint(save_best_only) and EarlyStopping, `evaluate`); "
        "(c) the reference notebook's way. Each run is its own process. Epoch: "
        f"{CLOCKS['epoch']}. Run: {CLOCKS['run']}.",
        "",
        "| model | steps | epoch (a) | epoch (a, fast) | epoch (b) | epoch (c) | epoch (a)/(b) "
        "| epoch (a)/(c) | epoch (a, fast)/(b) | epoch A/A (b)/(b) | run (a) | run (a, fast) | run (b) "
        "| run (a)/(b) | run A/A (b)/(b) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, c in whole.items():
        e, r, q = c["epoch_s"], c["run_s"], c["ratios"]
        steps = str(c["steps_per_epoch"])
        if c["validation_s"]:  # headlines has no validation split
            steps += f" + {c['validation_steps']} val"
        lines.append(
            f"| {name} | {steps} | {spread(e['seqexp'], 2)} "
            f"| {spread(e['fast'], 2)} | {spread(e['script'], 2)} | {spread(e['reference'], 2)} "
            f"| {ratio_cell(q['epoch seqexp/script'])} | {ratio_cell(q['epoch seqexp/reference'])} "
            f"| {ratio_cell(q['epoch fast/script'])} | {ratio_cell(q['A/A epoch script/script again'])} "
            f"| {spread(r['seqexp'])} | {spread(r['fast'])} | {spread(r['script'])} "
            f"| {ratio_cell(q['run seqexp/script'])} | {ratio_cell(q['A/A run script/script again'])} |"
        )
    lines += [
        "",
        f"{first['repetitions']} repetition(s) x {first['epochs'] - 1} timed epochs (the first is "
        f"tracing, not timed); {first['test_steps']} test batches. A/A: the script (b) run twice "
        "per repetition, its own ratio: how far two identical runs differ on this machine.",
        "",
        "## The validation pass of an epoch (s)",
        "",
        "fit's validation pass (on_test_begin to on_test_end), the same batches each way; the first "
        "epoch's dropped.",
        "",
        "| model | batches | (a) seqexp | (a, fast) | (b) script | (c) reference | (a)/(b) | A/A (b)/(b) |",
        "|---|---|---|---|---|---|---|---|",
        *(
            f"| {name} | {c['validation_steps']} | {spread(c['validation_s']['seqexp'], 3)} "
            f"| {spread(c['validation_s']['fast'], 3)} | {spread(c['validation_s']['script'], 3)} "
            f"| {spread(c['validation_s']['reference'], 3)} "
            f"| {ratio_cell(c['ratios']['validation seqexp/script'])} "
            f"| {ratio_cell(c['ratios']['A/A validation script/script again'])} |"
            for name, c in whole.items()
            if c["validation_s"]
        ),
        "",
        "## Start to the first finished training step (s)",
        "",
        "| model | (a) seqexp | (a, fast) | (b) script | (c) reference | (a) - (b) |",
        "|---|---|---|---|---|---|",
    ]
    for name, c in whole.items():
        f = c["first_step_s"]
        lines.append(
            f"| {name} | {spread(f['seqexp'], 2)} | {spread(f['fast'], 2)} | {spread(f['script'], 2)} "
            f"| {spread(f['reference'], 2)} | {spread(c['first_step_minus_script_s'], 2)} |"
        )
    lines += [
        "",
        "## What trainer.fast trades: learning curves, same seed",
        "",
        "Per epoch, repetition 0. trainer.fast XLA-compiles the models without convolutions, which turns "
        "TensorFlow's op determinism off, so their numbers may differ slightly from the default's; on "
        "the convolutional ones it only runs several steps per call, with deterministic ops.",
        "",
        "| model | metric | default (a) | trainer.fast=true |",
        "|---|---|---|---|",
    ]
    for name, c in whole.items():
        default, fast = c["learning_curves"]["seqexp"], c["learning_curves"]["fast"]
        for metric in default:
            lines.append(
                f"| {name} | {metric} | {', '.join(f'{v:.4f}' for v in default[metric])} "
                f"| {', '.join(f'{v:.4f}' for v in fast[metric])} |"
            )
    return [*lines, ""]


def callback_table(costs: dict) -> list[str]:
    first = next(iter(costs.values()))
    hooks = list(dict.fromkeys(k for c in costs.values() for k in c["hook_ms"]))
    lines = [
        "## Where a whole epoch's milliseconds go (ms per epoch, seqexp's defaults)",
        "",
        "Timed inside fit: every hook of each default callback (epoch begin and end, batch end, "
        "validation begin and end) under a clock on the training thread, summed per epoch; the last "
        "column is Keras' dispatch of every batch's logs to all callbacks (the NaN guard's batch hook "
        "included). Median [q25–q75] of the timed epochs.",
        "",
        "| model | " + " | ".join(hooks) + " | whole epoch |",
        "|---|" + "---|" * (len(hooks) + 1),
    ]
    for name, c in costs.items():
        cells = [spread(c["hook_ms"][k]) if k in c["hook_ms"] else "–" for k in hooks]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {c['epoch_ms']['defaults']:.0f} |")
    labels = list(first["epoch_ms"])
    lines += [
        "",
        "Switched off in turn: each column switches one thing off (or back to its old every-epoch "
        "setting) for a whole run; a callback's cost = whole epoch with the defaults - whole epoch "
        'without it. "defaults again" is the A/A pair: the same run twice. A difference no larger '
        "than theirs (the noise column) is below what this machine can resolve. history.csv and the "
        "NaN guard are replaced by nothing for this measurement only.",
        "",
        "| model | " + " | ".join(labels) + " |",
        "|---|" + "---|" * len(labels),
    ]
    for name, c in costs.items():
        lines.append(f"| {name} | " + " | ".join(f"{c['epoch_ms'][k]:.0f}" for k in labels) + " |")
    lines += [
        "",
        "| model | "
        + " | ".join(k.removeprefix("without ") for k in first["cost_ms"])
        + " | curves every epoch: extra | backup every epoch: extra | noise (A/A) |",
        "|---|" + "---|" * (len(first["cost_ms"]) + 3),
    ]
    for name, c in costs.items():
        old = list(c["old_default_extra_ms"].values())
        lines.append(
            f"| {name} | "
            + " | ".join(f"{v:+.0f}" for v in c["cost_ms"].values())
            + f" | {old[0]:+.0f} | {old[1]:+.0f} | ±{c['noise_ms']:.0f} |"
        )
    return [*lines, ""]


def markdown(results: dict) -> str:
    meta = results["meta"]
    lines = [
        f"# seqexp benchmark ({meta['size']} size)",
        "",
        f"Machine: {meta['machine']}. Python {meta['python']}, TensorFlow {meta['tensorflow']}, "
        f"Keras {meta['keras']}" + (f", JAX {meta['jax']}" if "jax" in meta else "") + ". "
        f"Started {meta['started']}, took {meta['wall_s'] / 60:.1f} min.",
        "",
        load_line(meta),
        "",
        "Medians with the interquartile range [q25–q75] of the repetitions; ratios are "
        "median / median with the (min–max) of the per-repetition ratios, repetitions "
        "interleaved so both sides of a ratio share the machine's load.",
        "",
    ]
    if "training" in results:
        lines += [
            "## Training step time (ms per step)",
            "",
            "(a) seqexp's `train(cfg)`; (b) the floor: the same model on in-memory batches; (c) the "
            f"reference notebook's way. Clock: {CLOCKS['step']}.",
            "",
            "| model | batch | (a) seqexp | (b) floor | (c) reference | (a)/(b) | (a)/(c) "
            "| A/A (b)/(b) | CPU time (a)/(b) | CPU time (a)/(c) | (c) is |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for name, c in results["training"].items():
            ms = c["ms_per_step"]
            lines.append(
                f"| {name} | {c['batch_size']} | {spread(ms['seqexp'])} | {spread(ms['floor'])} "
                f"| {spread(ms['reference'])} | {ratio_cell(c['ratios']['seqexp/floor'])} "
                f"| {ratio_cell(c['ratios']['seqexp/reference'])} "
                f"| {ratio_cell(c['ratios']['A/A floor/floor again'])} "
                f"| {c['cpu_ratios']['seqexp/floor']['value']:.2f} "
                f"| {c['cpu_ratios']['seqexp/reference']['value']:.2f} | {c['reference_way']} |"
            )
        first = next(iter(results["training"].values()))
        lines += [
            "",
            f"{first['repetitions']} repetitions x {first['timed_epochs_per_run']} timed "
            f"epochs (the first epoch of each run is warm-up, not timed); steps per epoch: "
            + ", ".join(f"{k} {v['steps_per_epoch']}" for k, v in results["training"].items())
            + ". A/A: the floor (b) run twice per repetition, its own ratio: how far two "
            "identical runs differ on this machine. CPU time: of the whole process (every thread) "
            "per step, a measure of cost that other jobs on the machine disturb less than wall time.",
            "",
        ]
    if results.get("whole"):
        lines += whole_tables(results["whole"])
    if results.get("callbacks"):
        lines += callback_table(results["callbacks"])
    if results.get("backends"):
        lines += backend_tables(results["backends"])
    if "pipeline" in results:
        p = results["pipeline"]
        lines += [
            "## Jena input pipeline (batches/s)",
            "",
            f"{p['rows']:,} rows, lookback {p['lookback']}, step {p['step']}, delay {p['delay']}, "
            f"batch {p['batch_size']}, shuffled training windows; {p['repetitions']} x "
            f"{p['batches_per_rep']} batches.",
            "",
            "| pipeline | batches/s | vs DLwP generator |",
            "|---|---|---|",
            f"| DLwP Python generator | {spread(p['batches_per_s']['dlwp_generator'], 0)} | 1.00 |",
        ]
        for key, label in (
            ("keras_timeseries_dataset", "keras `timeseries_dataset_from_array`"),
            ("seqexp", "seqexp (phase-table gather in tf.data)"),
        ):
            lines.append(
                f"| {label} | {spread(p['batches_per_s'][key], 0)} | "
                f"{ratio_cell(p['ratios'][f'{key}/dlwp_generator'])} |"
            )
        lines.append("")
    if "startup" in results:
        s = results["startup"]
        lines += [
            "## Start-up (s, fresh process)",
            "",
            "| command | wall time |",
            "|---|---|",
            f"| `seqexp --help` | {spread(s['wall_s']['help'], 2)} |",
            f"| `seqexp train --cfg job` | {spread(s['wall_s']['cfg_job'], 2)} |",
            f"| a whole 1-step run (`{s['one_step_command']}`) | {spread(s['wall_s']['one_step_run'], 2)} |",
            "",
            f"`seqexp train --cfg job` imports TensorFlow: {s['cfg_job_imports_tensorflow']}; "
            f"Keras: {s['cfg_job_imports_keras']}.",
            "",
        ]
    if "memory" in results:
        m = results["memory"]
        j, t = m["jena_run"], m["imdb_raw_tokenisation"]
        lines += [
            "## Memory (peak RSS of the whole process)",
            "",
            "| what | peak RSS | time |",
            "|---|---|---|",
            f"| Jena run, {j['rows']:,} rows, lookback {j['lookback']}, model=lstm, "
            f"{j['steps']} steps + "
            f"{j['validation_steps']} validation + {j['test_steps']} test batches | "
            f"{j['peak_rss_gb']:.2f} GB | {j['wall_s']:.1f} s (whole command) |",
            f"| data=imdb-raw: tokenise {t['reviews']:,} reviews (vocabulary of train/, "
            f"maxlen {t['maxlen']}) | {t['peak_rss_gb']:.2f} GB | {t['seconds']:.1f} s |",
            "",
        ]
    if "sweep" in results:
        w = results["sweep"]
        lines += [
            "## Sweep throughput (wall time of the whole command)",
            "",
            f"`{w['command']}` and `{w['search_command']}` ({w['jobs']} jobs of 2 epochs each), "
            f"{w['repetitions']} repetition(s). Outside train(): per job, wall time x workers - the "
            "jobs' own wall_time_s (start-up, config, imports, summary), divided by the jobs.",
            "",
            "| launcher | wall time (s) | jobs per minute | vs basic | outside train() per job (s) |",
            "|---|---|---|---|---|",
        ]
        for key, label in (
            ("basic", "basic (sequential)"),
            ("joblib", "joblib, 2 workers"),
            ("search", "seqexp search (Optuna), 2 workers"),
        ):
            versus = "1.00" if key == "basic" else ratio_cell(w["ratios"][f"{key}/basic"])
            lines.append(
                f"| {label} | {spread(w['wall_s'][key])} | {spread(w['jobs_per_minute'][key])} "
                f"| {versus} | {spread(w['outside_train_s_per_job'][key], 2)} |"
            )
        lines.append("")
    lines += [
        "## Targets",
        "",
        "met: every repetition meets the target; **missed**: the median does not; **not shown**: "
        "the median does but some repetition does not, so this machine's noise (the A/A columns: "
        "the same way run twice) hides the answer.",
        "",
        "| target | result |",
        "|---|---|",
    ]
    lines += [f"| {name} | {mark(t)} |" for name, t in targets(results).items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """`python -m benchmarks.report [DIR]`: rewrite DIR/results.md (default benchmarks/results) from
    DIR/results.json, after a change to this module: the markdown is never edited by hand."""
    import json
    import sys
    from pathlib import Path

    argv = sys.argv[1:] if argv is None else argv
    folder = Path(argv[0] if argv else Path(__file__).parent / "results")
    results = json.loads((folder / "results.json").read_text())
    (folder / "results.md").write_text(markdown(results))
    print(f"wrote {folder / 'results.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
