"""results.md from results.json: one table per measurement, with the targets of issue 8."""

from __future__ import annotations

TARGETS = {
    "seqexp/floor": 1.05,  # (a)/(b) <= 1.05 for every model
    "seqexp/reference": 1.0,  # (a)/(c) < 1 everywhere
    "pipeline": 5.0,  # Jena input pipeline >= 5x the DLwP generator
    "startup_s": 1.5,  # --help and --cfg job under 1.5 s, TensorFlow not imported
    "jena_rss_gb": 2.0,  # full-size Jena run under 2 GB peak RSS
    "sweep": 0.65,  # joblib sweep wall time <= 0.65x sequential
}


def spread(s: dict, digits: int = 1) -> str:
    """median [q25–q75]"""
    return f"{s['median']:.{digits}f} [{s['q25']:.{digits}f}–{s['q75']:.{digits}f}]"


def ratio_cell(r: dict) -> str:
    return f"{r['value']:.2f} ({r['min']:.2f}–{r['max']:.2f})"


def mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


def targets(results: dict) -> dict[str, bool]:
    """Each target of issue 8: met or not, from the measured values."""
    out = {}
    training = results.get("training", {})
    if training:
        out["(a)/(b) <= 1.05 for every model"] = all(
            c["ratios"]["seqexp/floor"]["value"] <= TARGETS["seqexp/floor"] for c in training.values()
        )
        out["(a)/(c) < 1 for every model"] = all(
            c["ratios"]["seqexp/reference"]["value"] < TARGETS["seqexp/reference"] for c in training.values()
        )
    if "pipeline" in results:
        out["Jena pipeline >= 5x the DLwP generator"] = (
            results["pipeline"]["ratios"]["seqexp/dlwp_generator"]["value"] >= TARGETS["pipeline"]
        )
    if "startup" in results:
        s = results["startup"]
        out["--help and --cfg job < 1.5 s without TensorFlow"] = (
            s["wall_s"]["help"]["median"] < TARGETS["startup_s"]
            and s["wall_s"]["cfg_job"]["median"] < TARGETS["startup_s"]
            and not s["cfg_job_imports_tensorflow"]
        )
    if "memory" in results:
        out["full-size Jena run < 2 GB peak RSS"] = (
            results["memory"]["jena_run"]["peak_rss_gb"] < TARGETS["jena_rss_gb"]
        )
    if "sweep" in results:
        out["joblib sweep <= 0.65x sequential"] = (
            results["sweep"]["ratios"]["joblib/basic"]["value"] <= TARGETS["sweep"]
        )
    return out


def markdown(results: dict) -> str:
    meta = results["meta"]
    lines = [
        f"# seqexp benchmark ({meta['size']} size)",
        "",
        f"Machine: {meta['machine']}. Python {meta['python']}, TensorFlow {meta['tensorflow']}, "
        f"Keras {meta['keras']}. Started {meta['started']}, took {meta['wall_s'] / 60:.1f} min.",
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
            "(a) seqexp's `train(cfg)`; (b) the same model on in-memory batches; (c) the "
            "reference notebook's way.",
            "",
            "| model | batch | (a) seqexp | (b) floor | (c) reference | (a)/(b) | (a)/(c) "
            "| CPU time (a)/(b) | CPU time (a)/(c) | (c) is |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for name, c in results["training"].items():
            ms = c["ms_per_step"]
            lines.append(
                f"| {name} | {c['batch_size']} | {spread(ms['seqexp'])} | {spread(ms['floor'])} "
                f"| {spread(ms['reference'])} | {ratio_cell(c['ratios']['seqexp/floor'])} "
                f"| {ratio_cell(c['ratios']['seqexp/reference'])} "
                f"| {c['cpu_ratios']['seqexp/floor']['value']:.2f} "
                f"| {c['cpu_ratios']['seqexp/reference']['value']:.2f} | {c['reference_way']} |"
            )
        first = next(iter(results["training"].values()))
        lines += [
            "",
            f"{first['repetitions']} repetitions x {first['timed_epochs_per_run']} timed "
            f"epochs (the first epoch of each run is warm-up, not timed); steps per epoch: "
            + ", ".join(f"{k} {v['steps_per_epoch']}" for k, v in results["training"].items())
            + ". CPU time: of the whole process (every thread) per step, a measure of cost "
            "that other jobs on the machine disturb less than wall time.",
            "",
        ]
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
            "## Sweep throughput (wall time of the whole command, s)",
            "",
            f"`{w['command']}` ({w['jobs']} jobs), {w['repetitions']} repetition(s).",
            "",
            "| launcher | wall time | vs basic |",
            "|---|---|---|",
            f"| basic (sequential) | {spread(w['wall_s']['basic'])} | 1.00 |",
            f"| joblib, 2 workers | {spread(w['wall_s']['joblib'])} | "
            f"{ratio_cell(w['ratios']['joblib/basic'])} |",
            "",
        ]
    lines += ["## Targets", "", "| target | result |", "|---|---|"]
    lines += [f"| {name} | {mark(ok)} |" for name, ok in targets(results).items()]
    return "\n".join(lines) + "\n"
