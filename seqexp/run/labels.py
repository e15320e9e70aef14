"""labels.json: what a user says about a run after it ran (tags added or removed, a note, whether
it is archived), the one owner of that file.

The launch-time tags and note stay in metrics.json as the run recorded them (the config's `tags`
and `note`); labels.json holds only the changes made since, so a resumed run that rewrites its
record keeps them, and `tags_of`/`note_of` are the one rule that combines the two.

Plain JSON and pydantic only: `seqexp runs` reads it for every run without TensorFlow.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from seqexp.atomic import write_text
from seqexp.errors import SeqexpError
from seqexp.readback import DamagedFile, json_object

LABELS = "labels.json"
FIX = "Fix or delete it: the run's own files (metrics.json) do not depend on it."
TAG = re.compile(r"^[^\s,]+$")  # the table joins tags with commas


class Labels(BaseModel):
    """labels.json. `note` None: the launch note stands; "": the note was cleared."""

    model_config = ConfigDict(extra="allow", frozen=True)

    added: list[str] = []  # tags added after the run, in the order they were added
    removed: list[str] = []  # launch-time tags taken off
    note: str | None = None
    archived: bool = False

    def tags_of(self, launch: list[str]) -> list[str]:
        """The run's tags: the launch-time ones not removed, then the ones added."""
        kept = [t for t in launch if t not in self.removed]
        return kept + [t for t in self.added if t not in kept]

    def note_of(self, launch: str | None) -> str | None:
        return launch if self.note is None else self.note or None

    def tagged(self, add: list[str], remove: list[str], launch: list[str]) -> Labels:
        """These labels with tags added and removed (removing a tag the run has not: no change)."""
        added, removed = list(self.added), list(self.removed)
        for tag in add:
            if tag in removed:
                removed.remove(tag)
            if tag not in launch and tag not in added:
                added.append(tag)
        for tag in remove:
            if tag in added:
                added.remove(tag)
            if tag in launch and tag not in removed:
                removed.append(tag)
        return self.model_copy(update={"added": added, "removed": removed})


def check_tag(tag: str) -> str:
    if not TAG.match(tag):
        raise SeqexpError(
            f"tag {tag!r}: a tag is one word without spaces or commas, e.g. +baseline or -ablation."
        )
    return tag


def checked_labels(run_dir: Path) -> Labels:
    """A run directory's labels (none set: empty ones); a DamagedFile naming what is wrong in a
    torn or hand-edited labels.json."""
    path = Path(run_dir) / LABELS
    if not path.exists():
        return Labels()
    raw = json_object(path, fix=FIX)
    try:
        return Labels.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise DamagedFile(path, f"its {key!r} is wrong ({first['msg'].lower()})", FIX) from None


def read_labels(run_dir: Path) -> Labels:
    """checked_labels, with a damaged labels.json read as none (for listings, which never raise)."""
    try:
        return checked_labels(run_dir)
    except DamagedFile:
        return Labels()


def write_labels(run_dir: Path, labels: Labels) -> None:
    """Replace labels.json atomically (seqexp.atomic); the one place it is written."""
    text = json.dumps(labels.model_dump(exclude_defaults=True), indent=2) + "\n"
    write_text(Path(run_dir) / LABELS, text)
