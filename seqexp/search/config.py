"""The hparams_search=<name> config group, checked, and the Optuna pieces it names.

conf/hparams_search/<name>.yaml holds one search: its study, how many trials and workers, the
sampler, the pruner and the search space (seqexp.search.space). `Search.from_node` refuses every
unknown key and bad value in one paragraph, before TensorFlow or Optuna is imported.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from seqexp.errors import SeqexpError

SAMPLERS = ("tpe", "random", "grid", "cmaes", "qmc")
PRUNERS = ("median", "hyperband", "successive_halving", "none")
LAUNCHERS = ("local", "slurm", "submitit_local")
DIRECTIONS = ("auto", "minimize", "maximize")
JOURNAL = "study.journal"


@dataclass
class Slurm:
    partition: str | None = None
    timeout_min: int = 240
    cpus_per_task: int = 8
    gpus_per_node: int = 0
    mem_gb: int = 32
    setup: list[str] = field(default_factory=list)


@dataclass
class Search:
    study_name: str
    params: dict[str, str]
    storage: str | None = None
    direction: str = "auto"
    n_trials: int = 20
    n_jobs: int = 1
    launcher: str = "local"
    sampler: str = "tpe"
    pruner: str = "median"
    seed: int | None = 0
    startup_trials: int = 5
    warmup_epochs: int = 1
    reduction_factor: int = 3
    slurm: Slurm = field(default_factory=Slurm)

    @classmethod
    def from_node(cls, node: dict) -> Search:
        """The search from the resolved hparams_search node; every bad value named at once."""
        known = {f.name for f in fields(cls)}
        problems = [f"hparams_search.{k} is not a search setting" for k in node if k not in known]
        slurm = dict(node.get("slurm") or {})
        slurm_known = {f.name for f in fields(Slurm)}
        problems += [
            f"hparams_search.slurm.{k} is not a submitit setting" for k in slurm if k not in slurm_known
        ]
        values = {k: v for k, v in node.items() if k in known and k != "slurm"}
        search = cls(
            **{"study_name": "search", "params": {}, **values},
            slurm=Slurm(**{k: v for k, v in slurm.items() if k in slurm_known}),
        )
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
        return found

    def as_dict(self) -> dict:
        return asdict(self)

    def storage_url(self, root: Path) -> str:
        """What goes into search.yaml: an RDB URL as given, else a journal file's path."""
        if self.storage and "://" in self.storage:
            return self.storage
        path = Path(self.storage).expanduser() if self.storage else root / JOURNAL
        return str(path.resolve())


def open_storage(url: str):
    """An RDB URL (sqlite:///x.db, postgresql://...) or an Optuna journal file on any filesystem
    the workers share (its lock is a file created with O_EXCL, which NFS honours)."""
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock, JournalStorage

    if "://" in url:
        return optuna.storages.RDBStorage(url)
    return JournalStorage(JournalFileBackend(url, lock_obj=JournalFileOpenLock(url)))


def make_sampler(search: Search, space: dict):
    import optuna

    from seqexp.search.space import grid

    seed, startup = search.seed, search.startup_trials
    if search.sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup)
    if search.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if search.sampler == "grid":
        return optuna.samplers.GridSampler(grid(space), seed=seed)
    if search.sampler == "qmc":
        return optuna.samplers.QMCSampler(seed=seed, scramble=True)
    # CMA-ES models float and int parameters; categorical ones are sampled at random
    return optuna.samplers.CmaEsSampler(seed=seed, n_startup_trials=startup, warn_independent_sampling=False)


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
