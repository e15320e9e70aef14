"""Kill a 6-job sweep at random moments and continue it each time; compare with an uninterrupted one.

    PYTHONPATH=. python scripts/sweep_kill_check.py [--kills 5] [--seed 0] [--launcher basic|joblib]

Issue 22's check, at full strength (tests/test_sweep_resume.py kills twice, at fixed points, to
stay fast): the sweep of tests/test_sweep_resume.py (bundled sample, 2 epochs a job) runs once
without interruption, then again SIGKILLed as a process group after a random delay (seeded), and
continued with `seqexp resume <sweep dir>` after each kill, until it ends. Checked: exactly 6
finished jobs, every job's history equal to the uninterrupted sweep's (1e-5), and every job that
had finished before a kill byte-identical (and with the same mtimes) at the end. Prints what each
kill hit and the numbers; exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seqexp.run.record import FINISHED  # noqa: E402
from seqexp.run.rundir import read_history, read_metrics  # noqa: E402
from tests.test_sweep_resume import (  # noqa: E402
    UNITS,
    files_of_finished_jobs,
    folder,
    kill_group,
    launch,
    status,
    sweep_args,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--launcher", choices=["basic", "joblib"], default="basic")
    given = parser.parse_args()
    extra = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"] if given.launcher == "joblib" else []
    rng = random.Random(given.seed)
    root = Path(tempfile.mkdtemp(prefix="sweep_kill_check_"))

    started = time.monotonic()
    reference = root / "reference"
    code = launch(sweep_args(reference, UNITS, *extra), root, root / "reference.log").wait()
    uninterrupted = time.monotonic() - started
    print(f"uninterrupted sweep: exit {code}, {uninterrupted:.1f} s ({root / 'reference.log'})")
    if code != 0:
        return 1

    sweep = root / "killed"
    snapshots, kills, segments = [], [], 0
    command = sweep_args(sweep, UNITS, *extra)
    while True:
        proc = launch(command, root, root / f"killed.{segments}.log")
        segments += 1
        command = ["resume", str(sweep)]
        if len(kills) == given.kills:
            code = proc.wait()
            break
        # a random moment before this process would end by itself: ~8 s to start, then the jobs left
        left = sum(status(folder(sweep, n)) not in FINISHED for n in range(len(UNITS)))
        delay = rng.uniform(1.0, 0.9 * (8.0 + uninterrupted / len(UNITS) * left))
        try:
            code = proc.wait(timeout=delay)
            print(f"segment {segments}: ended by itself (exit {code}) before its kill at {delay:.1f} s")
            if all(status(folder(sweep, n)) in FINISHED for n in range(len(UNITS))):
                break
            continue
        except Exception:  # subprocess.TimeoutExpired: still running, kill it
            pass
        kill_group(proc)
        states = {n: status(folder(sweep, n)) for n in range(len(UNITS))}
        kills.append((delay, states))
        snapshots.append(files_of_finished_jobs(sweep))
        print(
            f"kill {len(kills)} at {delay:.1f} s: "
            + ", ".join(f"job {n} {s or '-'}" for n, s in states.items())
        )

    problems = []
    if code != 0:
        problems.append(f"the last `seqexp resume` exited {code}")
    done = [n for n in range(len(UNITS)) if status(folder(sweep, n)) == "completed"]
    extra_dirs = sorted(p.name for p in sweep.glob("*_jena_gru") if int(p.name.split("_")[0]) >= len(UNITS))
    if len(done) != len(UNITS) or extra_dirs:
        problems.append(f"finished jobs {done}, extra folders {extra_dirs}")
    worst = 0.0
    for n in range(len(UNITS)):
        a, b = read_history(folder(sweep, n)), read_history(folder(reference, n))
        if sorted(a) != sorted(b) or any(len(a[k]) != len(b[k]) for k in a):
            problems.append(f"job {n}: history shape differs")
            continue
        worst = max([worst, *(abs(x - y) for k in a for x, y in zip(a[k], b[k], strict=True))])
    if worst > 1e-5:
        problems.append(f"largest history difference {worst:.3g} > 1e-5")
    now = files_of_finished_jobs(sweep)
    untouched = sum(len(s) for s in snapshots)
    for i, snapshot in enumerate(snapshots, 1):
        problems += [
            f"{name} changed after kill {i}" for name, files in snapshot.items() if now.get(name) != files
        ]
    resumed = [
        n for n in range(len(UNITS)) if "resumed_after_epoch" in (read_metrics(folder(sweep, n)) or {})
    ]
    print(
        f"{len(kills)} kills, {segments} processes; {len(done)} of {len(UNITS)} jobs completed; "
        f"largest history difference vs uninterrupted {worst:.3g}; {untouched} finished-job snapshots "
        f"byte-identical at the end: {'no' if any('changed' in p for p in problems) else 'yes'}; "
        f"jobs resumed mid-training from a backup: {resumed or 'none'}"
    )
    for problem in problems:
        print(f"FAILED: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
