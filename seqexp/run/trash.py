"""The trash of a folder of runs (<root>/.trash/): deleted runs wait there until restored or
purged; the one owner of its layout.

Each deletion is one entry, `.trash/<when>_<run path with / as _>/`, holding `trashed.json`
(the run's place relative to the root and when it was deleted) and `run/`, the run folder itself,
moved there by a rename: restoring renames it back, so every file is the same, byte for byte.
The listing of runs does not look into hidden folders, so a trashed run is not listed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from seqexp.atomic import write_text
from seqexp.errors import SeqexpError

TRASH = ".trash"
INFO = "trashed.json"
RUN = "run"


@dataclass(frozen=True)
class Entry:
    """One deleted run in the trash; `original` is relative to the root ('' when unknown)."""

    path: Path
    original: str
    deleted: dt.datetime | None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def run_dir(self) -> Path:
        return self.path / RUN

    def size(self) -> int:
        total = 0
        for here, _, files in os.walk(self.path):
            for name in files:
                try:
                    total += os.lstat(os.path.join(here, name)).st_size
                except OSError:
                    pass
        return total


def trash_dir(root: Path) -> Path:
    return Path(root) / TRASH


def move_to_trash(run_dir: Path, root: Path) -> Entry:
    """Move a run folder into the root's trash; its place is written before the move, so an entry
    never holds a run without knowing where it came from."""
    original = Path(run_dir).resolve().relative_to(Path(root).resolve()).as_posix()
    now = dt.datetime.now().astimezone()
    base = f"{now:%Y%m%d-%H%M%S}_{original.replace('/', '_')}"
    trash_dir(root).mkdir(parents=True, exist_ok=True)
    for n in range(1000):
        path = trash_dir(root) / (base if n == 0 else f"{base}.{n}")
        try:
            path.mkdir()
            break
        except FileExistsError:
            continue
    else:
        raise SeqexpError(f"{trash_dir(root)} has 1000 entries named {base}; purge it first.")
    info = {"original": original, "deleted": now.isoformat(timespec="seconds")}
    write_text(path / INFO, json.dumps(info, indent=2) + "\n")
    shutil.move(str(run_dir), str(path / RUN))  # a rename on one file system
    _drop_empty_parents(Path(run_dir).parent, Path(root))
    return Entry(path, original, now)


def _drop_empty_parents(folder: Path, root: Path) -> None:
    """Remove the date folders a deletion left empty, up to (not including) the root."""
    root = root.resolve()
    folder = folder.resolve()
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()  # only an empty folder
        except OSError:
            return
        folder = folder.parent


def entries(root: Path) -> list[Entry]:
    """Every entry of the root's trash, oldest first; one whose trashed.json is unreadable is
    listed with an unknown place and time (purge still removes it)."""
    folder = trash_dir(root)
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(p for p in folder.iterdir() if p.is_dir()):
        try:
            info = json.loads((path / INFO).read_text(encoding="utf-8"))
            original = info["original"] if isinstance(info["original"], str) else ""
            deleted = dt.datetime.fromisoformat(info["deleted"])
            deleted = deleted if deleted.tzinfo else deleted.astimezone()  # hand-written: local time
        except (OSError, ValueError, TypeError, KeyError):
            original, deleted = "", None
        found.append(Entry(path, original, deleted))
    return sorted(found, key=lambda e: (e.deleted is None, e.deleted or dt.datetime.min, e.name))


def restore(entry: Entry, root: Path) -> Path:
    """Move an entry's run back to its original place; refused when the place is taken."""
    if not entry.original or not entry.run_dir.is_dir():
        raise SeqexpError(
            f"trash entry {entry.name} cannot be restored: its {INFO} or its {RUN}/ folder is "
            f"missing or unreadable. Its files, if any, are in {entry.path}."
        )
    place = Path(root) / entry.original
    if place.exists() or place.is_symlink():
        raise SeqexpError(
            f"cannot restore {entry.original}: {place} is taken (a run was made there since, or "
            f"restored already). Move that folder away first; the trash entry {entry.name} is kept."
        )
    place.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(entry.run_dir), str(place))
    shutil.rmtree(entry.path)
    return place


def purge(entry: Entry) -> None:
    """Delete a trash entry for good."""
    shutil.rmtree(entry.path)
