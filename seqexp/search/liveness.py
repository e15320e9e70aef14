"""Which search workers are alive: each worker keeps a heartbeat file that every other process
sharing the search dir can read, so `seqexp resume` adopts only the trials of dead workers.

<search dir>/workers/<host>_<pid>.json holds {"pid", "host", "time", "trials"} and is rewritten
(atomically) every PERIOD seconds by a daemon thread of the worker, and removed when the worker
ends. A worker counts as alive when its heartbeat is younger than STALE seconds and, on this
host, its pid is still running (a SIGKILLed worker leaves its file, but its pid is gone). A worker
on another host is judged by its heartbeat's age alone, so the hosts' clocks must agree to well
within STALE (NTP does); STALE is ten periods, which also covers a loaded machine or an NFS
attribute cache that shows an old file for a while.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from pathlib import Path

from seqexp.atomic import write_text
from seqexp.run.lock import pid_runs

log = logging.getLogger(__name__)

FOLDER = "workers"
PERIOD = 30.0  # seconds between two heartbeats of a worker
STALE = 10 * PERIOD  # a heartbeat older than this is a dead (or hung) worker's


def worker_name() -> str:
    """How a worker is named in the study (a trial's user attr "worker") and its heartbeat file."""
    return f"{socket.gethostname()}:{os.getpid()}"


def heartbeat_path(root: Path, name: str) -> Path:
    return Path(root) / FOLDER / f"{name.replace(':', '_').replace('/', '_')}.json"


class Heartbeat:
    """The heartbeat of this worker while the block runs; `trials` is what it trains now."""

    def __init__(self, root: Path, period: float = PERIOD):
        self.name = worker_name()
        self.path = heartbeat_path(root, self.name)
        self.period = period
        self.trials: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="seqexp-heartbeat", daemon=True)

    def beat(self) -> None:
        host, pid = self.name.rsplit(":", 1)
        record = {"pid": int(pid), "host": host, "time": time.time(), "trials": list(self.trials)}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_text(self.path, json.dumps(record) + "\n")
        except OSError as err:  # a full disk: training reports it; a missed beat is not fatal
            log.warning("Could not write the heartbeat %s: %s", self.path, err)

    def _loop(self) -> None:
        while not self._stop.wait(self.period):
            self.beat()

    def __enter__(self) -> Heartbeat:
        self.beat()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.path.unlink(missing_ok=True)


def read_heartbeat(root: Path, name: str) -> dict | None:
    """The heartbeat of worker `name` (None: none, or unreadable: the worker is taken as dead)."""
    try:
        record = json.loads(heartbeat_path(root, name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(record, dict) and isinstance(record.get("pid"), int)
    return record if ok and isinstance(record.get("time"), int | float) else None


def is_alive(root: Path, name: str | None, now: float | None = None) -> bool:
    """Whether worker `name` ("host:pid") still runs (the rule in this module's docstring)."""
    if not name:
        return False
    record = read_heartbeat(root, name)
    if record is None:
        return False
    if (now if now is not None else time.time()) - record["time"] > STALE:
        return False
    if record.get("host") != socket.gethostname():
        return True
    if record["pid"] == os.getpid():
        return False  # this very process: a heartbeat an earlier work() here left behind
    return pid_runs(record["pid"])
