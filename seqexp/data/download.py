"""Fetch a real source file once into the cache, checked, never half-written.

Downloads go through `keras.utils.get_file` (progress bar, retries) into `<name>.part`; only a
complete, verified file is renamed to its final name. When no sha256 is pinned in the config,
the hash of the first complete download is recorded beside it (`<name>.sha256`) and every later
use is checked against that record.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

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


def _problem(path: Path, sha256: str | None, size: int | None) -> str | None:
    """Why `path` is not the expected file, or None if it is."""
    if size is not None and path.stat().st_size != size:
        return f"it has {path.stat().st_size:,} bytes, expected {size:,}"
    record = path.with_name(path.name + ".sha256")
    expected = sha256 or (record.read_text().strip() if record.exists() else None)
    if expected is not None:
        actual = sha256_of(path)
        if actual != expected:
            return f"its sha256 is {actual}, expected {expected}"
    return None


def fetch(
    url: str,
    fname: str,
    sha256: str | None = None,
    size: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    how_to_provide: str = "",
) -> Path:
    """Return the verified cached copy of `url`, downloading it if needed."""
    root = cache_root(cache_dir)
    target = root / fname
    if target.exists():
        problem = _problem(target, sha256, size)
        if problem is None:
            return target
        log.warning("Cached %s is damaged (%s); downloading it again.", target, problem)
        target.unlink()

    root.mkdir(parents=True, exist_ok=True)
    part = root / (fname + ".part")
    part.unlink(missing_ok=True)  # a previous download that was killed half-way
    import keras  # only needed when something must be downloaded

    try:
        keras.utils.get_file(fname=part.name, origin=url, cache_dir=str(root), cache_subdir=".")
    except Exception as err:  # get_file raises bare Exceptions for network failures
        part.unlink(missing_ok=True)
        raise SeqexpError(
            f"Could not download {fname} from {url} ({err}). No copy was found in the cache at "
            f"{target}. Connect to the internet and run again, copy the file to {target} "
            f"(or set {CACHE_ENV} / data.cache_dir to the folder that holds it)"
            + (f", or {how_to_provide}" if how_to_provide else "")
            + "."
        ) from None

    problem = _problem(part, sha256, size)
    if problem is not None:
        part.unlink(missing_ok=True)
        raise SeqexpError(f"The download of {fname} from {url} is not the expected file: {problem}.")
    if sha256 is None:
        part.with_name(fname + ".sha256").write_text(sha256_of(part) + "\n")
    os.replace(part, target)
    log.info("Downloaded %s to %s", fname, target)
    return target
