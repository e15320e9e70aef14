"""A sweep's progress, one line per job event, printed by the sweep's own process.

Whatever runs the jobs (this process, joblib's workers, SLURM nodes), each job says how it is
doing in its folder's metrics.json ("running" from its start, then how it ended); a thread reads
those files once a second, so every launcher reports the same way and nothing is kept that the
files do not hold. After each event: jobs done / running / left, and the time left estimated
from the finished jobs' durations.
"""

from __future__ import annotations

import math
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from seqexp.run.record import FINISHED
from seqexp.run.rundir import METRICS, read_metrics


@dataclass
class Watched:
    num: int
    label: str  # the job's swept values
    folder: Path
    seen: int | None = None  # metrics.json's mtime when last read (None: no file)
    started: bool = False
    ended: bool = False


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def outcome(report: dict) -> str:
    """A finished job's numbers as a run's closing lines say them (seqexp.run.console): the best
    monitored value and its epoch, the test split's value of the same metric."""
    monitor = report.get("monitor")
    best = (report.get("best") or {}).get(monitor)
    if not isinstance(best, int | float):
        return ""
    test = (report.get("test") or {}).get(str(monitor).removeprefix("val_"))
    tested = f", test {str(monitor).removeprefix('val_')} {test:.4f}" if isinstance(test, int | float) else ""
    return f"best {monitor} {best:.4f} at epoch {report.get('best_epoch')}{tested}"


class Progress:
    """Watch the folders of the jobs about to run; `done` jobs were finished before, `slots` is
    how many jobs the launcher runs at a time, `durations` the wall times of finished jobs."""

    def __init__(self, jobs: list[Watched], done: int, slots: int, durations: list[float], out=None):
        self.jobs, self.done, self.slots, self.durations = jobs, done, max(1, slots), list(durations)
        self.out = out or sys.stdout
        self.total = done + len(jobs)
        for job in jobs:  # what is there before the job runs (a killed job's old "running")
            job.seen = _mtime(job.folder / METRICS)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="seqexp-sweep-progress", daemon=True)
        self._lock = threading.Lock()

    def __enter__(self) -> Progress:
        self.say(self.counts())
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.poll()  # the events of the last second

    def _watch(self) -> None:
        while not self._stop.wait(1.0):
            self.poll()

    def say(self, line: str) -> None:
        print(f"[sweep] {line}", file=self.out, flush=True)

    def poll(self) -> None:
        with self._lock:
            for job in self.jobs:
                if job.ended:
                    continue
                mtime = _mtime(job.folder / METRICS)
                if mtime is None or mtime == job.seen:
                    continue
                job.seen = mtime
                report = read_metrics(job.folder)
                if report is None:  # being replaced right now: read again next time
                    job.seen = None
                    continue
                self.event(job, report)

    def event(self, job: Watched, report: dict) -> None:
        status = report.get("status")
        if status == "running":
            if not job.started:
                job.started = True
                self.say(f"job {job.num} started: {job.label} ({job.folder.name})")
                self.say(self.counts())
            return
        job.ended = True
        if status in FINISHED:
            value = outcome(report)
            wall = report.get("wall_time_s")
            if isinstance(wall, int | float):
                self.durations.append(float(wall))
            took = f" in {duration(wall)}" if isinstance(wall, int | float) else ""
            self.say(f"job {job.num} finished ({status}){took}: {value or 'no best value'} ({job.label})")
        else:
            reason = report.get("reason") or "no reason given"
            self.say(f"job {job.num} {status or 'ended'}: {reason} ({job.label})")
        self.done += 1
        self.say(self.counts())

    def counts(self) -> str:
        running = sum(job.started and not job.ended for job in self.jobs)
        left = self.total - self.done - running
        text = f"{self.done} done, {running} running, {left} left of {self.total} jobs"
        if left + running == 0:
            return text
        if not self.durations:
            return f"{text}; time left: known once a job finishes"
        mean = sum(self.durations) / len(self.durations)
        # running jobs are half done on average; the rest run `slots` at a time
        rounds = math.ceil(left / self.slots) + (0.5 if running else 0)
        return f"{text}; about {duration(mean * rounds)} left"


def launcher_slots(launcher_cfg) -> int:
    """How many jobs the configured launcher runs at a time (joblib's n_jobs, submitit's
    array_parallelism; 1 for the basic launcher)."""
    for key in ("n_jobs", "array_parallelism"):
        value = launcher_cfg.get(key) if launcher_cfg is not None else None
        if isinstance(value, int) and not isinstance(value, bool) and value != 0:
            return value if value > 0 else max(1, (os.cpu_count() or 1) + 1 + value)
    return 1
