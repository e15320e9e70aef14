"""The hparams_search=<name> config group, checked, and the Optuna pieces it names.

conf/hparams_search/<name>.yaml holds one search: its study, how many trials and workers, the
sampler, the pruner and the search space (seqexp.search.space). `Search.from_node` refuses every
unknown key and bad value in one paragraph, before TensorFlow or Optuna is imported. The
defaults live in the YAML only (one place): a search config must give every key, as
conf/hparams_search/recurrent_tpe.yaml does.

The journal file (study.journal) is repaired before it is opened: a record torn by a power
loss during an append is cut off (and kept beside it), so the next append does not glue two
records into one invalid line (`repair_journal`).
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from seqexp.errors import SeqexpError

SAMPLERS = ("tpe", "random", "grid", "cmaes", "qmc")
PRUNERS = ("median", "hyperband", "successive_halving", "none")
LAUNCHERS = ("local", "slurm", "submitit_local")
DIRECTIONS = ("auto", "minimize", "maximize")
JOURNAL = "study.journal"


# No defaults here: every value comes from conf/hparams_search/<name>.yaml (one place).
@dataclass
class Slurm:
    partition: str | None
    timeout_min: int
    cpus_per_task: int
    gpus_per_node: int
    mem_gb: int
    setup: list[str]


@dataclass
class Search:
    study_name: str
    params: dict[str, str]
    storage: str | None
    direction: str
    n_trials: int
    n_jobs: int
    launcher: str
    sampler: str
    pruner: str
    seed: int | None
    startup_trials: int
    warmup_epochs: int
    reduction_factor: int
    slurm: Slurm

    @classmethod
    def from_node(cls, node: dict) -> Search:
        """The search from the resolved hparams_search node; every bad value named at once."""
        known = {f.name for f in fields(cls)}
        problems = [f"hparams_search.{k} is not a search setting" for k in node if k not in known]
        problems += [f"hparams_search.{k} is missing" for k in sorted(known - set(node))]
        slurm = node.get("slurm")
        slurm = dict(slurm) if isinstance(slurm, dict) else {}
        slurm_known = {f.name for f in fields(Slurm)}
        problems += [
            f"hparams_search.slurm.{k} is not a submitit setting" for k in slurm if k not in slurm_known
        ]
        problems += [f"hparams_search.slurm.{k} is missing" for k in sorted(slurm_known - set(slurm))]
        if any(p.endswith(" is missing") for p in problems):  # every key comes from the YAML
            raise SeqexpError(
                "Bad search settings: " + "; ".join(problems) + ". See "
                "conf/hparams_search/recurrent_tpe.yaml for every key."
            )
        values = {k: v for k, v in node.items() if k in known and k != "slurm"}
        search = cls(**values, slurm=Slurm(**{k: v for k, v in slurm.items() if k in slurm_known}))
        problems += search.problems()
        if problems:
            raise SeqexpError(
                "Bad search settings: " + "; ".join(problems) + ". See "
                "conf/hparams_search/recurrent_tpe.yaml for every key."
            )
        return search

    def problems(self) -> list[str]:
        found = []
        for name, allowed in (
            ("sampler", SAMPLERS),
            ("pruner", PRUNERS),
            ("launcher", LAUNCHERS),
            ("direction", DIRECTIONS),
        ):
            if getattr(self, name) not in allowed:
                found.append(
                    f"hparams_search.{name}={getattr(self, name)} is not one of {', '.join(allowed)}"
                )
        for name, low in (
            ("n_trials", 1),
            ("n_jobs", 1),
            ("startup_trials", 0),
            ("warmup_epochs", 0),
            ("reduction_factor", 2),
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                found.append(f"hparams_search.{name}={value} must be an integer >= {low}")
        if self.seed is not None and (not isinstance(self.seed, int) or isinstance(self.seed, bool)):
            found.append(f"hparams_search.seed={self.seed} must be an integer or null")
        if not isinstance(self.study_name, str) or not self.study_name:
            found.append("hparams_search.study_name must be a non-empty name")
        if not isinstance(self.params, dict):
            found.append("hparams_search.params must map config keys to search spaces")
        for name in ("timeout_min", "cpus_per_task", "mem_gb"):
            value = getattr(self.slurm, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                found.append(f"hparams_search.slurm.{name}={value} must be an integer >= 1")
        gpus = self.slurm.gpus_per_node
        if not isinstance(gpus, int) or isinstance(gpus, bool) or gpus < 0:
            found.append(f"hparams_search.slurm.gpus_per_node={gpus} must be an integer >= 0")
        if self.storage is not None and not isinstance(self.storage, str):
            found.append(f"hparams_search.storage={self.storage} must be null, a file path or an RDB URL")
        return found

    def as_dict(self) -> dict:
        return asdict(self)

    def storage_url(self, root: Path) -> str:
        """What goes into search.yaml: an RDB URL as given, else a journal file's path."""
        if self.storage and "://" in self.storage:
            return self.storage
        path = Path(self.storage).expanduser() if self.storage else root / JOURNAL
        return str(path.resolve())

    def check_grid(self, space: dict) -> None:
        """sampler=grid runs every combination once: n_trials may not exceed the grid (a
        sampler past its grid repeats combinations already trained)."""
        from seqexp.search.space import grid_size

        if self.sampler == "grid" and self.n_trials > grid_size(space):
            raise SeqexpError(
                f"hparams_search.n_trials={self.n_trials} is more than the {grid_size(space)} "
                "combinations of the grid (sampler=grid runs each once); set it to at most that."
            )


def check_storage_folder(url: str) -> None:
    """The folder of a journal file or SQLite database must exist (Optuna would fail deep inside
    with a traceback); seqexp does not create a folder outside the search dir on a guess."""
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
    elif "://" in url:
        return  # a database server: its own errors name the problem
    else:
        path = Path(url)
    if path.expanduser().is_dir():  # Optuna would die reading it with IsADirectoryError
        raise SeqexpError(
            f"hparams_search.storage={url} is a folder; give the path of a journal file in it "
            f"(e.g. {Path(url) / 'study.journal'}, created when missing), an RDB URL, or null for "
            "<search dir>/study.journal."
        )
    folder = path.expanduser().parent
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise SeqexpError(
            f"hparams_search.storage={url}: the folder {folder} {what}. Create it (it must be "
            "shared by every worker), or leave storage null for <search dir>/study.journal."
        )


def open_storage(url: str):
    """An RDB URL (sqlite:///x.db, postgresql://...) or an Optuna journal file on any filesystem
    the workers share (its lock is a file created with O_EXCL, atomic on NFS v3 or later)."""
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock, JournalStorage

    if "://" in url:
        return optuna.storages.RDBStorage(url)
    lock = JournalFileOpenLock(url)
    repair_journal(Path(url), lock)
    return JournalStorage(JournalFileBackend(url, lock_obj=lock))


def repair_journal(path: Path, lock) -> Path | None:
    """Cut a torn last record off the journal file, under the journal's own lock (a writer that
    is appending this instant holds it, so its half-written line is never mistaken for a torn
    one). What is cut is kept in <journal>.torn-<time>; returns that file, None when the journal
    was whole. A damaged record before the last one cannot be cut without losing the records
    after it: that is refused, naming the line."""
    if not path.exists():
        return None
    lock.acquire()
    try:
        data = path.read_bytes()
        end = len(data)
        keep = data.rfind(b"\n", 0, end) + 1  # everything up to the last complete line
        lines = data[:keep].splitlines(keepends=True)
        # a complete last line that is not JSON (zeros a power loss left) is torn too
        if lines and not _is_record(lines[-1]):
            keep -= len(lines.pop())
        for number, line in enumerate(lines, start=1):
            if not _is_record(line):
                raise SeqexpError(
                    f"{path} is damaged at line {number} of {len(lines)} (not a JSON record), before "
                    "its last record, so it cannot be repaired by cutting its tail. Restore it from a "
                    "backup, or start a new search; its trials' run directories are intact."
                )
        if keep == end:
            return None
        stamp, n = time.strftime("%Y%m%d-%H%M%S"), 0
        while (saved := path.with_name(f"{path.name}.torn-{stamp}{f'-{n}' if n else ''}")).exists():
            n += 1  # an earlier cut of this second is kept too
        saved.write_bytes(data[keep:])
        with open(path, "r+b") as f:
            f.truncate(keep)
            f.flush()
            os.fsync(f.fileno())
    finally:
        lock.release()
    print(
        f"seqexp: warning: {path} ended in a torn record ({end - keep} bytes, a write cut short); "
        f"it was cut off and kept in {saved.name}. The study continues from its last complete record.",
        file=sys.stderr,
    )
    return saved


def _is_record(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def make_sampler(search: Search, space: dict):
    import optuna

    from seqexp.search.space import grid

    seed, startup = search.seed, search.startup_trials
    if search.sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup)
    if search.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if search.sampler == "grid":
        return _grid_sampler()(grid(space), seed=seed)
    if search.sampler == "qmc":
        return optuna.samplers.QMCSampler(seed=seed, scramble=True)
    # CMA-ES models float and int parameters; categorical ones are sampled at random
    return optuna.samplers.CmaEsSampler(seed=seed, n_startup_trials=startup, warn_independent_sampling=False)


def _grid_sampler():
    import optuna

    class GridOnce(optuna.samplers.GridSampler):
        """Optuna's grid sampler calls study.stop() after the grid's last trial, which raises
        outside study.optimize (seqexp's workers ask and tell themselves); the workers stop at
        n_trials, which check_grid keeps within the grid."""

        def after_trial(self, study, trial, state, values):
            pass

    return GridOnce


def make_pruner(search: Search):
    import optuna

    if search.pruner == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=search.startup_trials, n_warmup_steps=search.warmup_epochs
        )
    if search.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=max(1, search.warmup_epochs), reduction_factor=search.reduction_factor
        )
    if search.pruner == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=max(1, search.warmup_epochs), reduction_factor=search.reduction_factor
        )
    return optuna.pruners.NopPruner()
