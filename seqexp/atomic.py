"""Atomic file writes: a reader, or a run killed at any moment, sees the old file or the new one,
never a torn one. Each write goes to a temporary name beside the target and is renamed over it
(an atomic step on POSIX); Ctrl-C and SIGTERM are held until the rename is done."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from seqexp.interrupt import deferred


@contextmanager
def replacing(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write; it replaces `path` when the block succeeds.

    The temporary name is a prefix (`tmp.best.keras`, `tmp.latest.weights.h5`): writers such as
    Keras and matplotlib choose the format by the file's suffixes.
    """
    path = Path(path)
    tmp = path.with_name(f"tmp.{path.name}")
    with deferred():
        try:
            yield tmp
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)


def write_text(path: str | os.PathLike, text: str) -> Path:
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
