"""`logger=mlflow`: every run as an MLflow run, every sweep as a parent run of its jobs.

Built on MLflow's client API (MlflowClient), not autolog (which lags behind Keras 3 releases):
the flattened composed config as params, each epoch's logs as metrics (step = epoch, from 1),
the best and test metrics (`best/<metric>`, `test/<metric>`), tags (data, model, status,
overrides, git commit), and at the end the run directory as artifacts, also when the run failed
or was interrupted (the `status` tag and the run's MLflow status say so; a pruned search trial
is FINISHED, tagged pruned). A resumed run continues its MLflow run (found by its run directory).

The default store is local and needs no server: SQLite at <paths.output_dir>/mlflow/mlflow.db,
artifacts beside it (MLflow 3 refuses the legacy ./mlruns file store unless told otherwise).
`logger.tracking_uri=http://host:5000` uses a tracking server instead.

Sweeps: `SweepParent` (a Hydra callback, conf/hydra/default.yaml) creates the parent run in
`on_multirun_start`, before any job starts, so parallel jobs (joblib, submitit) never race to
create it; each job finds it by the sweep directory tag. It ends the parent when the sweep
ends, with the sweep summary as artifacts.

MLflow is imported only here, and only when a run or sweep uses it.
"""

from __future__ import annotations

import logging
import os
import re
import time
from contextlib import contextmanager
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from seqexp.errors import SeqexpError
from seqexp.run.identity import flatten, run_context, sweep_name
from seqexp.run.record import RunRecord, Status, read_record

log = logging.getLogger(__name__)

KEYS = {"name", "tracking_uri", "experiment", "run_name"}  # conf/logger/mlflow.yaml
RUN_DIR_TAG = "seqexp.run_dir"
SWEEP_TAG = "seqexp.sweep_dir"
ROLE_TAG = "seqexp.role"  # "sweep" for a parent run
NOT_ARTIFACTS = {"backup"}  # BackupAndRestore's working files, deleted when a run completes
MAX_PARAMS = 100  # per log_batch call (MLflow's limit)


def settings(logger: DictConfig, output_dir: str) -> tuple[str, str | None, str]:
    """(tracking URI, artifact location for a new experiment or None, experiment name) of a
    checked logger=mlflow config."""
    unknown = sorted(set(logger) - KEYS)
    if unknown:
        raise SeqexpError(
            f"logger.{unknown[0]} is not a key of logger=mlflow; its keys are "
            f"{', '.join(sorted(KEYS - {'name'}))}."
        )
    experiment = logger.get("experiment")
    if not isinstance(experiment, str) or not experiment.strip():
        raise SeqexpError(
            f"logger.experiment={experiment!r} must name an MLflow experiment, e.g. logger.experiment=jena."
        )
    run_name = logger.get("run_name")
    if run_name is not None and not isinstance(run_name, str):
        raise SeqexpError(f"logger.run_name={run_name!r} must be text or null (the run directory's name).")
    uri = logger.get("tracking_uri")
    if uri is None:
        store = Path(output_dir).resolve() / "mlflow"
        return f"sqlite:///{store / 'mlflow.db'}", (store / "artifacts").as_uri(), experiment
    if isinstance(uri, str) and (uri.startswith("file:") or "://" not in uri and "/" in uri):
        # MLflow 3 keeps its filesystem store in maintenance mode and refuses to write to it
        folder = uri.removeprefix("file://").removeprefix("file:") or "."
        raise SeqexpError(
            f"logger.tracking_uri={uri} is an MLflow file store, which MLflow 3 refuses to write "
            f"to (it accepts database stores only). Use logger.tracking_uri=sqlite:///"
            f"{Path(folder).expanduser().resolve() / 'mlflow.db'} (an existing ./mlruns folder "
            "moves there with `mlflow migrate-filestore`), a server's http://host:5000, or null "
            "for the local store in <paths.output_dir>/mlflow."
        )
    if not isinstance(uri, str) or "://" not in uri:
        raise SeqexpError(
            f"logger.tracking_uri={uri!r} is not a tracking URI; give e.g. "
            "http://localhost:5000 or sqlite:///path/to/mlflow.db, or null for the "
            "local store in <paths.output_dir>/mlflow."
        )
    return uri, None, experiment


# Launchers that may run a sweep's jobs on several machines (submitit's local one does not)
MANY_MACHINES = ("slurm", "ray")


def shared_sqlite_warning(uri: str, launcher: str) -> str | None:
    """A warning for a SQLite store written by jobs of several machines (docs/sweeps.md): SQLite's
    file locks do not hold on NFS, so concurrent writers can corrupt it or fail as locked."""
    if not uri.startswith("sqlite:") or not any(name in launcher.lower() for name in MANY_MACHINES):
        return None
    return (
        f"logger=mlflow writes to the SQLite store {uri.removeprefix('sqlite:///')}, and this launcher "
        f"({launcher.rsplit('.', 1)[-1]}) may run jobs on several machines: SQLite's locks do not hold "
        "on NFS, so runs can fail with 'database is locked' or damage the store. Run `mlflow server "
        "--backend-store-uri sqlite:///<path>/mlflow.db` on one machine and give "
        "logger.tracking_uri=http://<that host>:5000 (docs/sweeps.md, shared filesystems)."
    )


@contextmanager
def quick_failure():
    """A first request that fails in seconds: MLflow's default for an unreachable server is
    7 retries with backoff (minutes). Later requests keep MLflow's (or the user's) retries."""
    saved = {k: os.environ.get(k) for k in ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_HTTP_REQUEST_TIMEOUT")}
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = "10"
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def connect(uri: str, artifacts: str | None, name: str):
    """(MlflowClient, experiment id), creating the experiment if it is new; a store that cannot
    be reached is a SeqexpError naming the URI."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    if artifacts is not None:  # the default local store
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    client = MlflowClient(tracking_uri=uri)
    try:
        with quick_failure():
            found = client.get_experiment_by_name(name)
        if found is not None:
            return client, found.experiment_id
        try:
            return client, client.create_experiment(name, artifact_location=artifacts)
        except MlflowException:  # another job of the sweep created it meanwhile
            found = client.get_experiment_by_name(name)
            if found is None:
                raise
            return client, found.experiment_id
    except Exception as err:
        raise SeqexpError(
            f"logger=mlflow cannot use the tracking store {uri}: {short(err)}. Start the server "
            "(e.g. `mlflow server --port 5000`) or fix logger.tracking_uri; logger.tracking_uri=null "
            "uses a local store in <paths.output_dir>/mlflow, logger=none turns MLflow off."
        ) from None


def short(err: Exception) -> str:
    """The cause in a few words: `[Errno 111] Connection refused` out of MLflow's retry story."""
    text = str(err)
    found = re.search(r"\[Errno -?\d+\] [^\"')(]+", text)
    return (
        found.group(0).strip()
        if found
        else f"{type(err).__name__}: {text.splitlines()[0][:300] if text else ''}"
    )


def find_run(client, experiment_id: str, tag: str, value: str, extra: str = ""):
    """The newest run of the experiment whose tag has this value, or None."""
    value = value.replace("'", "\\'")
    runs = client.search_runs(
        [experiment_id],
        f"tags.`{tag}` = '{value}'{extra}",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return runs[0] if runs else None


def git_tags() -> dict[str, str]:
    """The run's git commit and dirty flag as MLflow tags ({} outside a checkout), from the one
    lookup env.json uses; mlflow.source.git.commit is the tag MLflow's UI shows."""
    from seqexp.run.environment import git_here

    state = git_here()
    if state is None:
        return {}
    return {"mlflow.source.git.commit": state["commit"], "git_dirty": str(state["dirty"]).lower()}


class MlflowRun:
    """One seqexp run as one MLflow run (a tracker of seqexp.run.tracking.Tracking)."""

    def __init__(self, cfg: DictConfig, run_dir: Path, data: str, model: str):
        self.cfg = cfg
        self.run_dir = Path(run_dir).resolve()
        self.data, self.model = data, model
        self.store = settings(cfg.logger, cfg.paths.output_dir)  # checked before anything is written
        self.client = None
        self.run_id: str | None = None

    def start(self) -> None:
        from mlflow.entities import Param, RunTag

        client, experiment = connect(*self.store)
        overrides, sweep = run_context()
        tags = {
            "data": self.data,
            "model": self.model,
            "status": "running",
            "overrides": " ".join(overrides),
            RUN_DIR_TAG: str(self.run_dir),
            **git_tags(),
        }
        if sweep is not None:
            tags[SWEEP_TAG] = sweep
            parent = find_run(client, experiment, SWEEP_TAG, sweep, f" and tags.`{ROLE_TAG}` = 'sweep'")
            if parent is not None:
                tags["mlflow.parentRunId"] = parent.info.run_id
            else:
                log.warning(
                    "logger=mlflow: no parent run for sweep %s (logger=mlflow was not given "
                    "to the whole sweep); this job is logged as a run of its own",
                    sweep,
                )
        earlier = find_run(client, experiment, RUN_DIR_TAG, str(self.run_dir))
        if earlier is not None:  # `seqexp resume`: the same MLflow run goes on
            self.run_id = earlier.info.run_id
            client.update_run(self.run_id, status="RUNNING")
        else:
            name = self.cfg.logger.get("run_name") or self.run_dir.name
            self.run_id = client.create_run(experiment, run_name=name).info.run_id
        self.client = client
        params = [Param(k, str(v)) for k, v in flatten(self.cfg).items() if v != {}]
        client.log_batch(
            self.run_id, params=params[:MAX_PARAMS], tags=[RunTag(k, v) for k, v in tags.items()]
        )
        for i in range(MAX_PARAMS, len(params), MAX_PARAMS):
            client.log_batch(self.run_id, params=params[i : i + MAX_PARAMS])
        log.info("logger=mlflow: run %s in %s", self.run_id, client.tracking_uri)

    def epoch(self, epoch: int, logs: dict) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [Metric(k, float(v), now, epoch) for k, v in logs.items()]
        self.client.log_batch(self.run_id, metrics=metrics)

    def end(self, record: RunRecord) -> None:
        from mlflow.entities import Metric

        if self.run_id is None:  # start() failed: nothing to end
            return
        client = self.client
        now = int(time.time() * 1000)
        metrics = [
            Metric(f"{kind}/{k}", float(v), now, 0)
            for kind in ("best", "test")
            for k, v in (getattr(record, kind) or {}).items()
            if v is not None
        ]
        metrics += [
            Metric(k, float(getattr(record, k)), now, 0)
            for k in ("best_epoch", "epochs_run", "wall_time_s")
            if getattr(record, k) is not None
        ]
        if metrics:
            client.log_batch(self.run_id, metrics=metrics)
        status = record.status or Status.FAILED
        client.set_tag(self.run_id, "status", status.value)
        if record.reason:
            client.set_tag(self.run_id, "reason", record.reason[:5000])
        for path in sorted(self.run_dir.iterdir()):
            if path.name in NOT_ARTIFACTS:
                continue
            if path.is_dir():
                client.log_artifacts(self.run_id, str(path), artifact_path=path.name)
            else:
                client.log_artifact(self.run_id, str(path))
        client.set_terminated(self.run_id, status=mlflow_status(status))


def mlflow_status(status: Status) -> str:
    """The MLflow run status of a seqexp status: a finished run (a pruned trial too: its `status`
    tag says pruned) is FINISHED, an interrupted one KILLED, any other FAILED."""
    if status.finished:
        return "FINISHED"
    return "KILLED" if status is Status.INTERRUPTED else "FAILED"


class SweepParent(Callback):
    """Hydra callback: with logger=mlflow, the sweep is a parent run and its jobs its children.

    Listed before the sweep summary in conf/hydra/default.yaml: Hydra ends callbacks in reverse
    order, so the summary is written before the parent uploads it. Without logger=mlflow it does
    nothing (and imports nothing)."""

    def __init__(self):
        self.client = None
        self.run_id: str | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        logger = config.get("logger")
        if logger is None or logger.get("name") != "mlflow":  # a bad name: each job refuses it
            return
        store = settings(logger, config.paths.output_dir)
        warning = shared_sqlite_warning(store[0], str(OmegaConf.select(config, "hydra.launcher._target_")))
        if warning:
            log.warning(warning)
        client, experiment = connect(*store)
        sweep = str(Path(config.hydra.sweep.dir).resolve())
        overrides = OmegaConf.to_container(config.hydra.overrides.task, resolve=False)
        tags = {
            SWEEP_TAG: sweep,
            ROLE_TAG: "sweep",
            "status": "running",
            "overrides": " ".join(overrides),
            **git_tags(),
        }
        name = logger.get("run_name") or f"sweep {sweep_name(sweep)}"
        self.run_id = client.create_run(experiment, run_name=name, tags=tags).info.run_id
        self.client = client
        log.info("logger=mlflow: sweep parent run %s in %s", self.run_id, client.tracking_uri)

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        if self.run_id is None:
            return
        sweep = Path(config.hydra.sweep.dir)
        records = [read_record(p.parent) or RunRecord() for p in sweep.glob("*/metrics.json")]
        failed = sum(not r.finished for r in records)
        self.client.set_tag(self.run_id, "status", f"{len(records)} jobs, {failed} failed")
        for name in ("summary.csv", "summary.md", "comparison.png"):
            if (sweep / name).exists():
                self.client.log_artifact(self.run_id, str(sweep / name))
        self.client.set_terminated(self.run_id, status="FAILED" if failed else "FINISHED")
