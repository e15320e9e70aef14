"""A run's hyperparameters, and its row in TensorBoard's HParams tab.

`hparams(cfg)` flattens the composed config into what a sweep can change (data.*, model.*,
optimizer.*, trainer.* scalars of the experiment, seqexp.run.identity.is_experiment_key; not where
input files come from). `TensorBoardHParams` writes them and
the run's best and test metrics (scalars `best/<metric>`, `test/<metric>`) with TensorBoard's
hparams plugin into the tensorboard callback's log_dir, next to its train/ and validation/ logs,
so `tensorboard --logdir outputs` lists every run and sweep in one HParams table.

No run writes an `hparams_config`: TensorBoard uses the first experiment config it finds under
the logdir for all runs (backend_context._find_experiment_tag), so per-run configs would hide
each other's hyperparameters and metrics; without one it builds the table from all runs.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from omegaconf import DictConfig

from seqexp.run.identity import flatten, is_experiment_key
from seqexp.run.record import RunRecord

HPARAM_GROUPS = ("data", "model", "optimizer", "trainer")  # the groups a sweep changes
# Where an input file comes from is part of the experiment (another file is other data) but not a
# hyperparameter: data.path, data.url, data.sha256, data.size, data.word_index(_url, _size),
# data.base_url, data.vocabulary_file, data.files.*.
FILE_KEYS = {"path", "url", "sha256", "size", "word_index", "word_index_size", "files"}
FILE_SUFFIXES = ("_path", "_url", "_file", "_dir", "_sha256")


def is_setting(key: str) -> bool:
    """Not a hyperparameter: where a file comes from, or Hydra's _target_ / _partial_."""
    parts = key.split(".")
    return parts[-1].startswith("_") or any(p in FILE_KEYS or p.endswith(FILE_SUFFIXES) for p in parts[1:])


def hparams(cfg: DictConfig, data: str, model: str) -> dict[str, bool | float | int | str]:
    """The hyperparameters of a run as TensorBoard takes them: the data and model options, then
    every scalar of data.*, model.*, optimizer.*, trainer.* (a list of numbers, e.g.
    model.units=[16, 16], as its text). Not the keys that are not the experiment
    (trainer.verbose, trainer.threads, *.cache_dir: seqexp.run.identity), not file facts, not
    nulls (TensorBoard has no null)."""
    values = {"data": data, "model": model}
    for group in HPARAM_GROUPS:
        for key, value in flatten(cfg[group], f"{group}.").items():
            if value is None or value == {} or is_setting(key) or not is_experiment_key(key):
                continue
            if isinstance(value, list):
                if not all(isinstance(v, int | float) for v in value):
                    continue  # feature names, class names, prompts: not something a sweep varies
                value = str(value)
            values[key] = value
    return values


def session_name(cfg: DictConfig, run_dir: Path) -> str:
    """The run's path below the outputs folder (unique, unlike a sweep job's `0_jena_gru`)."""
    run_dir = Path(run_dir).resolve()
    try:
        return run_dir.relative_to(Path(cfg.paths.output_dir).resolve()).as_posix()
    except ValueError:
        return run_dir.as_posix()


class TensorBoardHParams:
    """The run's row in TensorBoard's HParams tab, written into the tensorboard callback's log_dir."""

    def __init__(self, log_dir: Path, session: str, values: dict):
        self.log_dir = Path(log_dir)
        self.session = session  # the row's name (a session group of its own)
        self.values = values
        self.started = time.time()

    def start(self) -> None:
        self.started = time.time()

    def epoch(self, epoch: int, logs: dict) -> None:
        """Per-epoch curves are the Keras TensorBoard callback's."""

    def end(self, record: RunRecord) -> None:
        from tensorboard.plugins.hparams import api_pb2
        from tensorboard.plugins.hparams.summary_v2 import hparams_pb

        from seqexp.run.tb_events import EventWriter

        # finished (a pruned trial too: its numbers are valid), or not; the status itself is
        # the record's, in `seqexp runs` and MLflow. Written in pure Python: any backend.
        status = api_pb2.STATUS_SUCCESS if record.finished else api_pb2.STATUS_FAILURE
        writer = EventWriter(self.log_dir)
        try:
            writer.summary(hparams_pb(self.values, trial_id=self.session, start_time_secs=self.started), 0)
            for kind in ("best", "test"):
                for name, value in (getattr(record, kind) or {}).items():
                    if value is not None and math.isfinite(value):
                        writer.scalar(f"{kind}/{name}", value, step=0)
            writer.summary(session_end_pb(status), 0)
        finally:
            writer.close()


def session_end_pb(status):
    """The HParams plugin's session-end summary, as `tensorboard.plugins.hparams.summary`'s
    function of that name builds it (that module imports TensorFlow; this, only protos)."""
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.plugins.hparams import metadata, plugin_data_pb2

    info = plugin_data_pb2.SessionEndInfo(status=status, end_time_secs=time.time())
    summary = summary_pb2.Summary()
    summary.value.add(
        tag=metadata.SESSION_END_INFO_TAG,
        metadata=metadata.create_summary_metadata(plugin_data_pb2.HParamsPluginData(session_end_info=info)),
        tensor=metadata.NULL_TENSOR,
    )
    return summary
