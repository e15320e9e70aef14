"""Atomic file writes: a reader, a run killed at any moment, or a machine that loses power sees
the old file or the new one, never a torn one. Each write goes to a temporary name beside the
target, is flushed to disk (fsync), and is renamed over it (an atomic step on POSIX); the folder
is flushed after the rename so the new name survives a power loss too. Ctrl-C and SIGTERM are
held until the rename is done."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from seqexp.interrupt import deferred


def _fsync(path: Path, directory: bool = False) -> None:
    """Flush a file's (or a folder's entries') data to the disk."""
    if directory and os.name == "nt":  # Windows cannot open a folder to flush it
        return
    fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temporary_name(path: Path, pid: int | None = None) -> Path:
    """Where this process (or process `pid`) writes `path` before renaming it into place."""
    return path.with_name(f"tmp.{os.getpid() if pid is None else pid}.{path.name}")


@contextmanager
def replacing(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write; it replaces `path` when the block succeeds.

    The temporary name is a prefix (`tmp.<pid>.best.keras`): writers such as Keras and matplotlib
    choose the format by the file's suffixes. The process id keeps two processes that write the
    same file (search workers finishing together write the shared reports) off each other's
    temporary file; the last rename wins, with a whole file. Without the fsync before the rename,
    a power loss can leave the new name pointing at a file whose data never reached the disk (an
    empty or torn file, on ext4 and XFS).
    """
    path = Path(path)
    tmp = temporary_name(path)
    with deferred():
        try:
            yield tmp
            _fsync(tmp)
            os.replace(tmp, path)
            _fsync(path.parent, directory=True)
        except OSError as err:
            if err.filename == str(tmp):  # the user's messages name the file they asked for
                err.filename = str(path)
            raise
        finally:
            # best effort: where nothing could be made (a file for the folder, a read-only
            # disk), the unlink fails too and must not hide the error that matters
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)


def write_text(path: str | os.PathLike, text: str) -> Path:
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
