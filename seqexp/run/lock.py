"""run.lock: one seqexp process per run directory at a time.

The lock file is created with O_EXCL (one winner) and holds the taker's pid, host and start time;
a lock left by a dead process of this host is taken over, any other is refused with its holder.
"""

from __future__ import annotations

import atexit
import json
import os
import socket
import time
from contextlib import contextmanager
from pathlib import Path

from seqexp.errors import NotThisRun

LOCK = "run.lock"
_held: dict[Path, int] = {}  # the locks this process holds, and how many times


@contextmanager
def locked(run_dir: Path):
    """Hold the run directory's lock for the block (re-entrant within one process)."""
    acquire(run_dir)
    try:
        yield
    finally:
        release(run_dir)


def acquire(run_dir: Path) -> None:
    """Take run.lock: created with O_EXCL (one winner), holding the taker's pid and host. A lock
    of a dead process of this host is stale and taken over; any other refuses with NotThisRun."""
    path = Path(run_dir).resolve() / LOCK
    if path in _held:
        _held[path] += 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    me = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%d %H:%M:%S")}
    for _ in range(5):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _read_lock(path)
            if not _stale(path, holder):
                who = (
                    f"pid {holder['pid']} on {holder['host']}, since {holder.get('since')}" if holder else "?"
                )
                raise NotThisRun(
                    f"{run_dir} is in use by another seqexp process ({who}); two runs in one folder "
                    f"would overwrite each other's checkpoints and metrics. Wait for it to end, or, if "
                    f"that process is gone, delete {path}."
                ) from None
            _take_over(path, holder)
            continue
        with os.fdopen(fd, "w") as f:
            json.dump(me, f)
        _held[path] = 1
        return
    raise NotThisRun(f"Could not take {path}: other processes keep taking it; try again.")


def release(run_dir: Path) -> None:
    path = Path(run_dir).resolve() / LOCK
    if path not in _held:
        return
    _held[path] -= 1
    if _held[path] == 0:
        del _held[path]
        if (_read_lock(path) or {}).get("pid") == os.getpid():
            path.unlink(missing_ok=True)


@atexit.register
def release_all() -> None:
    """Give up every lock this process holds (the end of a Hydra app, or of the process)."""
    for path in list(_held):
        _held[path] = 1
        release(path.parent)


def live_holder(run_dir: Path) -> dict | None:
    """The process that holds the run directory's lock ({pid, host, since}; {} when its lock is
    being written this instant), or None when no process holds it (no lock, or a stale one).
    This process counts as a holder only inside its own `locked` block."""
    path = Path(run_dir).resolve() / LOCK
    if path in _held:
        return {"pid": os.getpid(), "host": socket.gethostname()}
    if not path.exists():
        return None
    holder = _read_lock(path)
    return None if _stale(path, holder) else holder or {}


def _read_lock(path: Path) -> dict | None:
    try:
        holder = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return holder if isinstance(holder, dict) and isinstance(holder.get("pid"), int) else None


def _stale(path: Path, holder: dict | None) -> bool:
    """A lock left by a process of this host that is gone (or by this process, outside `_held`:
    an earlier run here that ended without releasing it); an unreadable one older than a minute."""
    if holder is None:  # being written this instant, or its writer died before writing
        try:
            return time.time() - path.stat().st_mtime > 60
        except FileNotFoundError:
            return True
    if holder.get("host") != socket.gethostname():
        return False  # another machine's process: no way to tell from here
    return holder["pid"] == os.getpid() or not pid_runs(holder["pid"])


def pid_runs(pid: int) -> bool:
    """Whether process `pid` of this host still runs (another user's counts: it is alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _take_over(path: Path, holder: dict | None) -> None:
    """Remove a stale lock, unless another process replaced it in the meantime (then it is put
    back: a rename moves the file atomically, a link restores it only if no lock is there)."""
    moved = path.with_name(f"{LOCK}.stale.{os.getpid()}")
    try:
        os.replace(path, moved)
    except FileNotFoundError:
        return  # someone else removed it: try to take it again
    if _read_lock(moved) != holder:  # a live lock taken since we read it
        try:
            os.link(moved, path)
        except FileExistsError:
            pass
    moved.unlink(missing_ok=True)
