"""Managing runs after they ran: `seqexp runs tag|note|archive|unarchive|delete|restore|purge`.

Which folder a RUN argument means (a path, or a name as `seqexp runs` lists it under the root),
and the rule every change obeys: a run a live process holds (run.lock, seqexp.run.lock) is
refused, and the change is made holding its lock, so no training starts in the middle of it.
What is stored is owned elsewhere: labels.json by seqexp.run.labels, the trash by
seqexp.run.trash.

Plain files only: no TensorFlow.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from seqexp.errors import NotThisRun, SeqexpError
from seqexp.run import trash
from seqexp.run.labels import Labels, check_tag, checked_labels, write_labels
from seqexp.run.lock import LOCK, acquire, live_holder, release
from seqexp.run.record import checked_record
from seqexp.run.rundir import RUN_MARKERS

DURATION = re.compile(r"^(\d+(?:\.\d+)?)([mhdw])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def find_run(name: str | Path, root: Path) -> Path:
    """The run folder a RUN argument names: a path to it, else its name under the root (as
    `seqexp runs` lists it). Refused: no such folder, a folder that is not a run, one in the trash."""
    given = Path(name)
    candidates = [given] if given.is_absolute() else [given, Path(root) / given]
    folder = next((c for c in candidates if c.is_dir()), None)
    if folder is None:
        raise SeqexpError(
            f"no run {str(name)!r}: it is neither a folder nor a run under {root}/. Give a run "
            f"folder's path or its name as `seqexp runs {root}` lists it (or --root FOLDER)."
        )
    parts = folder.resolve().parts
    if trash.TRASH in parts:
        raise SeqexpError(
            f"{name} is in the trash; `seqexp runs restore` brings it back, `seqexp runs trash` "
            f"lists the trash."
        )
    if not any((folder / marker).exists() for marker in RUN_MARKERS):
        raise SeqexpError(
            f"{folder} is not a run directory: it holds none of {', '.join(RUN_MARKERS)}. "
            f"`seqexp runs {root}` lists the runs."
        )
    return folder


def refuse_running(run_dirs: list[Path], action: str) -> None:
    """Refuse, before any is changed, when a live process holds any of these runs."""
    for run_dir in run_dirs:
        holder = live_holder(run_dir)
        if holder is not None:
            raise NotThisRun(_running(run_dir, action, holder))


@contextmanager
def idle(run_dir: Path, action: str) -> Iterator[None]:
    """Hold the run's lock for a change; refused, naming the process, while a live one holds it."""
    holder = live_holder(run_dir)
    if holder is not None:
        raise NotThisRun(_running(run_dir, action, holder))
    try:
        acquire(run_dir)
    except NotThisRun as err:  # taken in the instant between the look and the take
        raise NotThisRun(_running(run_dir, action, live_holder(run_dir) or {})) from err
    try:
        yield
    finally:
        release(run_dir)


def _running(run_dir: Path, action: str, holder: dict) -> str:
    who = f"pid {holder['pid']} on {holder.get('host')} holds its {LOCK} since {holder.get('since')}"
    return (
        f"{run_dir} is running ({who if holder else 'its ' + LOCK + ' is being taken'}); "
        f"`seqexp runs {action}` it once that process has ended. Nothing was changed."
    )


def _launch(run_dir: Path) -> tuple[list[str], str | None]:
    """The tags and note the run was started with (metrics.json); none for a run killed early."""
    record = checked_record(run_dir)
    return ([], None) if record is None else (list(record.tags), record.note)


def change_labels(run_dir: Path, action: str, change) -> Labels:
    """Apply `change(labels, launch_tags) -> labels` to the run's labels.json under its lock."""
    with idle(run_dir, action):
        launch, _ = _launch(run_dir)
        labels = change(checked_labels(run_dir), launch)
        write_labels(run_dir, labels)
        return labels


def tag(run_dir: Path, add: list[str], remove: list[str]) -> list[str]:
    """Add and remove tags; the run's tags after it."""
    add, remove = [check_tag(t) for t in add], [check_tag(t) for t in remove]
    both = sorted(set(add) & set(remove))
    if both:
        raise SeqexpError(f"tag {both[0]!r} is both added (+{both[0]}) and removed (-{both[0]}); give one.")
    labels = change_labels(run_dir, "tag", lambda labels, launch: labels.tagged(add, remove, launch))
    return labels.tags_of(_launch(run_dir)[0])


def note(run_dir: Path, text: str) -> None:
    """Set the run's note ("" clears it, the launch-time note included)."""
    change_labels(run_dir, "note", lambda labels, _: labels.model_copy(update={"note": text}))


def archive(run_dir: Path, archived: bool) -> None:
    verb = "archive" if archived else "unarchive"
    change_labels(run_dir, verb, lambda labels, _: labels.model_copy(update={"archived": archived}))


def delete(run_dir: Path, root: Path) -> trash.Entry:
    """Move the run into the root's trash (refused for a run outside the root)."""
    try:
        Path(run_dir).resolve().relative_to(Path(root).resolve())
    except ValueError:
        raise SeqexpError(
            f"{run_dir} is not under {root}/, whose trash would keep it; give --root FOLDER, the "
            f"folder of runs it is in."
        ) from None
    if Path(run_dir).resolve() == Path(root).resolve():
        raise SeqexpError(f"{run_dir} is the root folder itself; give --root the folder above it.")
    with idle(run_dir, "delete"):
        entry = trash.move_to_trash(run_dir, root)
    # The lock this process took moved with the folder: a run in the trash holds none.
    (entry.run_dir / LOCK).unlink(missing_ok=True)
    return entry


def find_entry(name: str, root: Path) -> trash.Entry:
    """A trash entry by its name, or by the run's original name (refused when several are)."""
    found = trash.entries(root)
    named = [e for e in found if e.name == Path(name).name]
    if named:
        return named[0]
    original = Path(name).as_posix().rstrip("/")
    for base in (Path(root), Path(root).resolve()):  # outputs/2026-.../x, /abs/outputs/2026-.../x
        original = original.removeprefix(base.as_posix().rstrip("/") + "/")
    same = [e for e in found if e.original == original]
    if len(same) == 1:
        return same[0]
    if same:
        listed = ", ".join(e.name for e in same)
        raise SeqexpError(f"{len(same)} trash entries were {original}: {listed}; give the entry's name.")
    known = ", ".join(e.name for e in found[-5:]) or "the trash is empty"
    raise SeqexpError(
        f"no trash entry {name!r} under {trash.trash_dir(root)} (the latest: {known}); "
        f"`seqexp runs trash` lists them."
    )


def restore(name: str, root: Path) -> Path:
    return trash.restore(find_entry(name, root), root)


def older_than(text: str) -> dt.timedelta:
    match = DURATION.match(text.strip())
    if not match:
        raise SeqexpError(
            f"--older-than {text!r}: give a number and a unit, m (minutes), h (hours), d (days) or "
            f"w (weeks), e.g. --older-than 30d."
        )
    return dt.timedelta(**{UNITS[match[2]]: float(match[1])})


def purgeable(root: Path, age: dt.timedelta | None) -> list[trash.Entry]:
    """The trash entries deleted longer ago than `age` (all of them for None; an entry of unknown
    time counts as old)."""
    now = dt.datetime.now().astimezone()
    return [e for e in trash.entries(root) if age is None or e.deleted is None or now - e.deleted > age]


def disk_use(entries: list[trash.Entry]) -> str:
    size = sum(e.size() for e in entries)
    return f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.1f} kB"
