"""Fetch a real source file once into the cache, checked, never half-written.

Downloads go through `keras.utils.get_file` (progress bar, retries) into `<name>.part`; only a
complete, verified file is renamed to its final name. When no sha256 is pinned in the config,
the hash of the first complete download is recorded beside it (`<name>.sha256`) and every later
use is checked against that record. A cached copy that fails its check is never used and never
deleted: it is moved aside to `<name>.corrupt` (for a look at what went wrong) and fetched again.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from seqexp.atomic import write_text
from seqexp.errors import SeqexpError

log = logging.getLogger(__name__)

CACHE_ENV = "SEQEXP_CACHE_DIR"


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """`cache_dir`, else $SEQEXP_CACHE_DIR, else the Keras datasets cache ($KERAS_HOME/datasets)."""
    if cache_dir:
        return Path(cache_dir).expanduser()
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    keras_home = os.environ.get("KERAS_HOME", Path.home() / ".keras")
    return Path(keras_home).expanduser() / "datasets"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _problem(path: Path, sha256: str | None, size: int | None, record: Path) -> str | None:
    """Why `path` is not the expected file, or None if it is (`record`: the recorded sha256)."""
    if size is not None and path.stat().st_size != size:
        return f"it has {path.stat().st_size:,} bytes, expected {size:,}"
    expected = sha256 or (record.read_text().strip() if record.exists() else None)
    if expected is not None:
        actual = sha256_of(path)
        if actual != expected:
            source = "" if sha256 else f" (recorded in {record} at the first download)"
            return f"its sha256 is {actual}, expected {expected}{source}"
    return None


def move_aside(path: Path) -> Path:
    """Rename a damaged file to `<name>.corrupt` (`.corrupt.1`, ... if taken); return the new path."""
    aside = path.with_name(path.name + ".corrupt")
    number = 0
    while aside.exists():
        number += 1
        aside = path.with_name(f"{path.name}.corrupt.{number}")
    os.replace(path, aside)
    return aside


def fetch(
    url: str,
    fname: str,
    sha256: str | None = None,
    size: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    how_to_provide: str = "",
    subdir: str = "",
) -> Path:
    """Return the verified cached copy of `url`, downloading it if needed.

    The file is `<cache root>/<subdir>/<fname>`; `how_to_provide` is the config alternative to
    the cache that the offline error offers (e.g. "pass data.path=/path/to/imdb.npz").
    """
    root = cache_root(cache_dir) / subdir if subdir else cache_root(cache_dir)
    target = root / fname
    record = root / (fname + ".sha256")
    damaged = None  # (problem, where the damaged copy was moved)
    if target.is_file():
        problem = _problem(target, sha256, size, record)
        if problem is None:
            return target
        damaged = (problem, move_aside(target))
        log.warning(
            "Cached %s is damaged (%s): moved to %s and downloading it again.", target, problem, damaged[1]
        )

    root.mkdir(parents=True, exist_ok=True)
    part = root / (fname + ".part")
    part.unlink(missing_ok=True)  # a previous download that was killed half-way
    import keras  # only needed when something must be downloaded

    try:
        keras.utils.get_file(fname=part.name, origin=url, cache_dir=str(root), cache_subdir=".")
    except Exception as err:  # get_file raises bare Exceptions for network failures
        part.unlink(missing_ok=True)
        if damaged is None:
            found = f"No copy was found in the cache at {target}."
        else:
            found = (
                f"The cached copy at {target} was damaged ({damaged[0]}); it was moved to "
                f"{damaged[1]} and not used."
            )
        where = f"{subdir}/{fname}" if subdir else fname
        raise SeqexpError(
            f"Could not download {fname} from {url} ({err}). {found} Connect to the internet and "
            f"run again, copy an intact {fname} to {target} (or set {CACHE_ENV} / data.cache_dir "
            f"to a folder that holds {where})" + (f", or {how_to_provide}" if how_to_provide else "") + "."
        ) from None

    problem = _problem(part, sha256, size, record)
    if problem is not None:
        part.unlink(missing_ok=True)
        accept = (
            f" If the file at {url} was changed on purpose, delete {record} to accept it."
            if sha256 is None and record.exists()
            else ""
        )
        raise SeqexpError(
            f"The download of {fname} from {url} is not the expected file: {problem}. It was not "
            f"kept"
            + (f"; the damaged cached copy was moved to {damaged[1]}" if damaged else "")
            + f".{accept}"
        )
    if sha256 is None:
        write_text(record, sha256_of(part) + "\n")
    os.replace(part, target)
    log.info("Downloaded %s to %s", fname, target)
    return target
