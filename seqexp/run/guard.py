"""The Hydra callback that guards run and sweep directories before Hydra writes into them.

Hydra writes .hydra/ (config.yaml, overrides.yaml) into a job's folder before the job runs, so
the folder rules of seqexp.run.rundir run earlier, in `on_run_start`, on hydra.run.dir resolved
as Hydra will resolve it (`${oc.env:SCRATCH}/x`, `${now:...}`): a finished run, another config's
run, or a folder in use is refused with nothing written; else the run's lock is taken there (its
first write, so a read-only folder is found here too). `on_multirun_start` finds an unwritable
hydra.sweep.dir; which sweep a sweep folder may continue is seqexp.sweep's (its job list).
A refusal ends with one sentence and exit code 2, an unwritable folder with one sentence and
exit code 1.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from seqexp.errors import SeqexpError, disk_failure, disk_message
from seqexp.run.identity import config_identity
from seqexp.run.lock import acquire, release
from seqexp.run.rundir import check_run_dir


class RunGuard(Callback):
    def __init__(self):
        self.run_dir: Path | None = None

    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        with refusals():
            HydraConfig.instance().set_config(config)  # as run_job will: ${hydra:...} resolves
            run_dir = Path(str(OmegaConf.select(config, "hydra.run.dir")))
            overrides = [str(o) for o in config.hydra.overrides.task]
            refuse_not_a_run_dir(run_dir)
            check_run_dir(run_dir, config_identity(config), overrides)
            acquire(run_dir)
            self.run_dir = run_dir

    def on_run_end(self, config: DictConfig, **kwargs) -> None:
        if self.run_dir is not None:
            release(self.run_dir)

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        with refusals():
            HydraConfig.instance().set_config(config)
            sweep_dir = Path(str(OmegaConf.select(config, "hydra.sweep.dir")))
            sweep_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=sweep_dir):  # writable? (the launcher writes there next)
                pass


# what makes a folder a search dir (seqexp.search) or a sweep root (Hydra's multirun.yaml): their
# summaries read every run folder below them, so a run written at their root pollutes them
NOT_RUN_DIRS = {"search.yaml": "a search (search.yaml)", "multirun.yaml": "a sweep (multirun.yaml)"}


def refuse_not_a_run_dir(run_dir: Path) -> None:
    """hydra.run.dir must be (or become) a folder of its own: not a file, not under a file, not
    the root of a search or a sweep."""
    for path in (run_dir, *run_dir.parents):
        if path.exists() and not path.is_dir():
            where = "" if path == run_dir else f" ({path} is a file)"
            raise SeqexpError(
                f"hydra.run.dir={run_dir} cannot be a run folder{where}: "
                f"{'it is a file' if path == run_dir else 'a folder cannot be made inside a file'}. "
                "Give a folder path (it is created if missing)."
            )
    for marker, what in NOT_RUN_DIRS.items():
        if (run_dir / marker).exists():
            raise SeqexpError(
                f"hydra.run.dir={run_dir} holds {what}, not a run: the run's metrics.json would land "
                "at its root and its summary would show that run instead of its jobs. Choose another "
                "hydra.run.dir (a folder of its own); `seqexp resume` continues a search or sweep."
            )


class Refused(BaseException):
    """A refusal raised inside Hydra: a BaseException, so Hydra lets it through untouched (it
    reports an Exception of a callback with a traceback); seqexp.cli.hydra_app prints it."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.message, self.code = message, code


@contextmanager
def refusals():
    """A refusal (exit code 2) or an unwritable folder (exit code 1) as one sentence."""
    try:
        yield
    except SeqexpError as err:
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        raise Refused(str(err), 2) from None
    except OSError as err:
        problem = disk_failure(err)
        if problem is None or os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        raise Refused(disk_message(problem), 1) from None
