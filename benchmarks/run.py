"""Run every benchmark of issues 8, 15 and 23 side by side and write results.json and results.md.

    python -m benchmarks.run [--size tiny|full] [--out benchmarks/results] [--only training,...]
                             [--cases jena_lstm,...] [--repetitions N] [--refuse-busy]

`full` (make bench, ~45 min on 2 cores) uses the real data shapes; `tiny` (make bench-tiny) runs
every measurement at a toy size to prove the benchmark works; the test suite runs some parts of
it on one model (tests/test_bench.py). Synthetic data files (~1 GB at full size) and the runs'
directories go to --work (default: the user's cache, outside the repository); the data files
are written once and reused. `python -m benchmarks.report` rewrites results.md from results.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

PARTS = ("pipeline", "training", "whole", "callbacks", "startup", "memory", "sweep", "backends")
WITH_CASES = ("training", "whole", "callbacks", "backends")  # the parts that take --cases
# A machine is "busy" when, at the start, the 1-minute load average is above this many cores'
# worth of other work, or other processes used this many cores on average during the run.
BUSY_CORES = 0.5


def busy_cpu_seconds() -> float:
    """CPU seconds every process of the machine has used (from /proc/stat; 0 if unreadable)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU seconds of this process and every child it has waited for (their children too)."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def load_record(start: dict, wall: float) -> dict:
    """The machine's load at the start and end and the CPU other processes took meanwhile."""
    others = (busy_cpu_seconds() - start["busy"]) - (own_cpu_seconds() - start["own"])
    other_cores = max(0.0, others / wall) if wall > 0 else 0.0
    reasons = []
    if start["load"][0] > BUSY_CORES:
        reasons.append(f"1-minute load average {start['load'][0]:.2f} at the start")
    if other_cores > BUSY_CORES:
        reasons.append(f"other processes used {other_cores:.2f} cores on average during the run")
    return {
        "load_average_at_start": start["load"],
        "load_average_at_end": list(os.getloadavg()),
        "other_processes_cores": other_cores,
        "busy": bool(reasons),
        "busy_reasons": reasons,
    }


def machine(gpu_said: bool = False) -> str:
    """CPU model, cores and memory, without host names or paths (`gpu_said`: a part records the
    devices it ran on, so "no GPU used" is not claimed here)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    memory = ""
    try:
        kb = int(
            next(
                x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")
            ).split()[1]
        )
        memory = f", {kb / 1024**2:.0f} GB RAM"
    except (OSError, StopIteration):
        pass
    gpu = "" if gpu_said else ", no GPU used"
    return f"{cpu}, {cores} CPU cores{memory}{gpu}, {platform.system()}"


def version(package: str) -> str:
    """An installed package's version, without importing it ("not installed" if absent)."""
    from importlib import metadata

    from seqexp.backend import installed

    if not installed(package):
        return "not installed"
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=("tiny", "full"), default="full")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument(
        "--work",
        type=Path,
        default=None,
        help="scratch folder for the synthetic data and the runs "
        "(default: $XDG_CACHE_HOME or ~/.cache, then seqexp-bench)",
    )
    parser.add_argument(
        "--only",
        default=",".join(PARTS),
        help=f"comma-separated parts to run (default: all of {','.join(PARTS)})",
    )
    parser.add_argument(
        "--cases",
        default=None,
        help="comma-separated models for the training, whole, callbacks and backends parts "
        "(default: every model of each; the callbacks part runs one at the tiny size)",
    )
    parser.add_argument(
        "--repetitions",
        type=int,
        default=None,
        help="repetitions of the backends part (default: 2 at full size, 1 at tiny)",
    )
    parser.add_argument(
        "--refuse-busy",
        action="store_true",
        help=f"exit without measuring if the 1-minute load average is above {BUSY_CORES} "
        "(a busy machine's numbers are flagged in the results otherwise)",
    )
    args = parser.parse_args(argv)
    start = {"load": list(os.getloadavg()), "busy": busy_cpu_seconds(), "own": own_cpu_seconds()}
    if args.refuse_busy and start["load"][0] > BUSY_CORES:
        parser.exit(3, f"the machine is busy (1-minute load average {start['load'][0]:.2f}); not measuring\n")
    parts = [p for p in args.only.split(",") if p]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s) {sorted(unknown)}; choose from {PARTS}")
    known = {}  # part -> its models
    for part in (p for p in WITH_CASES if p in parts):
        known[part] = list(__import__(f"benchmarks.{part}", fromlist=["CASES"]).CASES)
    cases = [c for c in args.cases.split(",") if c] if args.cases else None
    choices = list(dict.fromkeys(c for names in known.values() for c in names))
    if cases is not None and (not cases or set(cases) - set(choices)):
        parser.error(f"--cases {args.cases!r}: choose from {choices}")

    # Progress on stderr; seqexp's own INFO records (train() raises the root level) stay quiet.
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.WARNING)
    logging.getLogger().addHandler(console)
    progress = logging.StreamHandler(sys.stderr)
    progress.setFormatter(logging.Formatter("[bench] %(message)s"))
    bench_log = logging.getLogger("benchmarks")
    bench_log.addHandler(progress)
    bench_log.setLevel(logging.INFO)
    bench_log.propagate = False

    import warnings

    warnings.filterwarnings("ignore", message=".*shuffle=True. was passed.*")

    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    data = (args.work or cache / "seqexp-bench").expanduser().resolve() / args.size
    data.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results = {
        "meta": {
            "size": args.size,
            "machine": machine(gpu_said="backends" in parts),
            "python": platform.python_version(),
            "tensorflow": version("tensorflow"),  # no import: the backends part runs without it
            "keras": version("keras"),
            **({"jax": version("jax")} if "backends" in parts else {}),
            "started": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        }
    }
    for part in PARTS:
        if part not in parts:
            continue
        bench_log.info("%s ...", part)
        t = time.perf_counter()
        module = __import__(f"benchmarks.{part}", fromlist=["run"])
        if part == "pipeline":
            results[part] = module.run(args.size)
        elif part in WITH_CASES:
            mine = None if cases is None else [c for c in cases if c in known[part]]
            if mine == []:
                continue  # --cases names none of this part's models
            more = {"reps": args.repetitions} if part == "backends" and args.repetitions else {}
            results[part] = module.run(args.size, data, mine, **more)
        else:
            results[part] = module.run(args.size, data)
        bench_log.info("%s done in %.0f s", part, time.perf_counter() - t)
    results["meta"]["wall_s"] = time.perf_counter() - started
    results["meta"].update(load_record(start, results["meta"]["wall_s"]))

    from benchmarks.report import markdown, targets

    results["targets"] = targets(results)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "results.md").write_text(markdown(results))
    print(markdown(results))
    bench_log.info("wrote %s and %s", out / "results.json", out / "results.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
