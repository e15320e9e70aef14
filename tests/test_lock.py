"""run.lock's staleness rule (seqexp.run.lock): which locks are taken over and which refuse."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from seqexp.errors import NotThisRun
from seqexp.run.lock import LOCK, acquire, release


def holder(pid: int, host: str | None = None) -> str:
    return json.dumps({"pid": pid, "host": host or socket.gethostname(), "since": "2026-01-01 00:00:00"})


def test_a_lock_being_written_is_not_taken_over_until_a_minute_passed(tmp_path):
    lock = tmp_path / LOCK
    lock.write_text("")  # created this instant by another process, its pid not written yet
    with pytest.raises(NotThisRun, match="in use by another seqexp process"):
        acquire(tmp_path)
    assert lock.read_text() == ""
    old = time.time() - 61
    os.utime(lock, (old, old))  # its writer died before writing: stale after a minute
    acquire(tmp_path)
    assert json.loads(lock.read_text())["pid"] == os.getpid()
    release(tmp_path)
    assert not lock.exists()


def test_a_live_process_keeps_its_lock_and_a_dead_one_loses_it(tmp_path):
    lock = tmp_path / LOCK
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock.write_text(holder(sleeper.pid))
        with pytest.raises(NotThisRun, match=f"pid {sleeper.pid} on {socket.gethostname()}"):
            acquire(tmp_path)
    finally:
        sleeper.kill()
        sleeper.wait()
    acquire(tmp_path)  # the same pid, now gone
    assert json.loads(lock.read_text())["pid"] == os.getpid()
    release(tmp_path)


def test_another_hosts_lock_is_never_taken_over(tmp_path):
    lock = tmp_path / LOCK
    lock.write_text(holder(1, host="another-node"))
    old = time.time() - 3600
    os.utime(lock, (old, old))  # however old: this host cannot tell whether it still runs
    with pytest.raises(NotThisRun, match="pid 1 on another-node"):
        acquire(tmp_path)
