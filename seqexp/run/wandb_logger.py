"""`logger=wandb`: every run as a Weights & Biases run, a sweep's jobs as one W&B group.

Through the same hooks as MLflow (seqexp.run.tracking): the flattened composed config as the run's
config (the keys MLflow's params have, seqexp.run.identity.flatten), each epoch's logs as history
(step = epoch, from 1), and at the end the status, the reason of a failure, the best and test
metrics (`best/<metric>`, `test/<metric>`) and the epoch counts in the summary; the run's exit code
is 0 for a finished run (a pruned trial too: its `status` says pruned), 1 otherwise. The run's
`tags` and `note` are the W&B run's tags and notes.

Offline by default (logger.mode=offline): nothing leaves the machine and no account is needed;
the run is written to <logger.dir or the run directory>/wandb/offline-run-<time>-<id>, which
`wandb sync` uploads later and `wandb leet` shows in the terminal. logger.mode=online logs live
(`wandb login` first). The W&B run id is derived from the run directory, so a resumed run
(`seqexp resume`) continues its W&B run.

wandb is imported only here, and only when a run uses it.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from omegaconf import DictConfig

from seqexp.errors import SeqexpError
from seqexp.run.identity import flatten, run_context, sweep_name
from seqexp.run.record import RunRecord, Status

log = logging.getLogger(__name__)

KEYS = {"name", "mode", "project", "entity", "dir", "group", "run_name"}  # conf/logger/wandb.yaml
MODES = ("offline", "online")


def settings(logger: DictConfig) -> dict:
    """The checked options of a logger=wandb config (refused before anything is written)."""
    unknown = sorted(set(logger) - KEYS)
    if unknown:
        raise SeqexpError(
            f"logger.{unknown[0]} is not a key of logger=wandb; its keys are "
            f"{', '.join(sorted(KEYS - {'name'}))}."
        )
    found = {key: logger.get(key) for key in KEYS - {"name"}}
    if found["mode"] not in MODES:
        raise SeqexpError(
            f"logger.mode={found['mode']!r} is not a W&B mode; choose offline (the default: written "
            "locally, uploaded later with `wandb sync`) or online (needs `wandb login`)."
        )
    project = found["project"]
    if not isinstance(project, str) or not project.strip():
        raise SeqexpError(f"logger.project={project!r} must name a W&B project, e.g. logger.project=jena.")
    for key in ("entity", "dir", "group", "run_name"):
        value = found[key]
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise SeqexpError(f"logger.{key}={value!r} must be text or null.")
    return found


def run_id(run_dir: Path) -> str:
    """The W&B run id of a run directory: the same folder (a resumed run) is the same W&B run."""
    return hashlib.sha256(str(Path(run_dir).resolve()).encode()).hexdigest()[:16]


def exit_code(status: Status) -> int:
    """W&B marks a run with a non-zero exit code failed: a finished run (pruned too) exits 0."""
    return 0 if status.finished else 1


class WandbRun:
    """One seqexp run as one W&B run (a tracker of seqexp.run.tracking.Tracking)."""

    def __init__(self, cfg: DictConfig, run_dir: Path):
        self.cfg = cfg
        self.run_dir = Path(run_dir).resolve()
        self.options = settings(cfg.logger)
        self.run = None

    def start(self) -> None:
        import wandb

        options = self.options
        folder = Path(options["dir"]).expanduser().resolve() if options["dir"] else self.run_dir
        folder.mkdir(parents=True, exist_ok=True)
        _, sweep = run_context()
        group = options["group"] or (sweep_name(sweep) if sweep else None)
        # exactly MLflow's params; W&B records the command line itself (its metadata's args)
        config = {k: v for k, v in flatten(self.cfg).items() if v != {}}
        note = self.cfg.get("note")
        try:
            self.run = wandb.init(
                project=options["project"],
                entity=options["entity"],
                group=group,
                name=options["run_name"] or self.run_dir.name,
                id=run_id(self.run_dir),
                resume="allow",
                dir=str(folder),
                config=config,
                tags=[str(t) for t in self.cfg.get("tags") or []],
                notes=str(note) if note else None,
                reinit="finish_previous",  # jobs of a sweep run one after another in one process
                # console="off": train.log already holds the output; silent: the line below says
                # where the run is, instead of W&B's banner on every job's terminal
                settings=wandb.Settings(mode=options["mode"], console="off", silent=True),
            )
        except Exception as err:
            raise SeqexpError(
                f"logger=wandb could not start an {options['mode']} W&B run: {type(err).__name__}: "
                f"{str(err).splitlines()[0][:300] if str(err) else ''}. logger.mode=offline needs no "
                "account; online needs `wandb login` (or WANDB_API_KEY); logger=none turns W&B off."
            ) from None
        where = Path(self.run.dir).parent
        if options["mode"] == "offline":
            log.info("logger=wandb: offline run %s in %s (upload: wandb sync %s)", self.run.id, where, where)
        else:
            log.info("logger=wandb: run %s at %s", self.run.id, self.run.url)

    def epoch(self, epoch: int, logs: dict) -> None:
        self.run.log({k: float(v) for k, v in logs.items()}, step=epoch)

    def end(self, record: RunRecord) -> None:
        if self.run is None:  # start() failed: nothing to end
            return
        status = record.status or Status.FAILED
        summary = {
            f"{kind}/{k}": float(v)
            for kind in ("best", "test")
            for k, v in (getattr(record, kind) or {}).items()
            if v is not None
        }
        summary.update(
            {
                k: getattr(record, k)
                for k in ("best_epoch", "epochs_run", "wall_time_s")
                if getattr(record, k) is not None
            }
        )
        summary["status"] = status.value
        if record.reason:
            summary["reason"] = record.reason[:5000]
        self.run.summary.update(summary)
        self.run.finish(exit_code=exit_code(status))
        import wandb

        # finish() returns before wandb-core has written the run's file; stopping the service
        # waits for it, so the W&B run is complete on disk when metrics.json says the run ended
        # (the next run of the process starts a new service, about a second)
        wandb.teardown()
