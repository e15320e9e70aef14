"""What runs report to the comparison tools: TensorBoard's HParams plugin (read back with
TensorBoard's own event reader) and logger=mlflow (a real local MLflow store, read back through
mlflow.search_runs and MlflowClient)."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

import mlflow
import pytest

from seqexp.errors import SeqexpError
from seqexp.run.record import RunRecord
from seqexp.run.train import train
from tests.conftest import TINY_JENA, compose_train
from tests.test_sweep_helpers import run_dirs, sweep


def store_uri(outputs: Path) -> str:
    """The default local store of logger=mlflow (conf/logger/mlflow.yaml: tracking_uri null)."""
    return f"sqlite:///{outputs.resolve() / 'mlflow' / 'mlflow.db'}"


def runs_of(outputs: Path, experiment: str = "seqexp"):
    mlflow.set_tracking_uri(store_uri(outputs))
    return mlflow.search_runs(experiment_names=[experiment], order_by=["attributes.start_time ASC"])


def git_head(cwd: Path) -> str | None:
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True)
    return head.stdout.strip() if head.returncode == 0 else None


def read_hparams_events(logdir: Path):
    """TensorBoard's own reader over a folder of runs: {run: {tag: plugin content}}."""
    from tensorboard.backend.event_processing import plugin_event_multiplexer

    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(str(logdir))
    multiplexer.Reload()
    return multiplexer, multiplexer.PluginRunToTagToContent("hparams")


def test_a_run_logs_hparams_to_tensorboard_and_everything_to_mlflow(make_cfg, jena_csv, tmp_path):
    from tensorboard.plugins.hparams import api_pb2, metadata
    from tensorboard.util import tensor_util

    outputs = tmp_path / "outputs"
    run_dir = outputs / "2026-01-01" / "run_a"
    train(
        make_cfg(
            "model=dense",
            f"data.path={jena_csv}",
            *TINY_JENA,
            "trainer.epochs=2",
            "optimizer.learning_rate=0.003",
            "callbacks.tensorboard.enabled=true",
            "logger=mlflow",
            f"paths.output_dir={outputs}",
            run_dir=run_dir,
        )
    )
    report = json.loads((run_dir / "metrics.json").read_text())
    assert report["status"] == "completed" and report["epochs_run"] == 2

    # TensorBoard: the hparams session of this run, named by its path below outputs/
    multiplexer, content = read_hparams_events(outputs)
    session = "2026-01-01/run_a/tensorboard"
    assert set(content[session]) == {metadata.SESSION_START_INFO_TAG, metadata.SESSION_END_INFO_TAG}
    start = metadata.parse_session_start_info_plugin_data(content[session][metadata.SESSION_START_INFO_TAG])
    values = {k: v.WhichOneof("kind") and getattr(v, v.WhichOneof("kind")) for k, v in start.hparams.items()}
    assert start.group_name == "2026-01-01/run_a"
    assert values["data"] == "jena" and values["model"] == "dense"
    assert values["optimizer.learning_rate"] == pytest.approx(0.003)
    assert values["data.lookback"] == 240 and values["trainer.epochs"] == 2
    assert values["model.units"] == "[32]" and values["data.split.train"] == "[0, 1000]"
    assert values["data.reverse"] is False
    assert not [k for k in values if k.split(".")[-1] in ("path", "url", "sha256", "size", "cache_dir")]
    assert not [k for k in values if k.split(".")[-1] in ("_target_", "_partial_")]
    assert "data.features" not in values and "trainer.steps_per_epoch" in values
    end = metadata.parse_session_end_info_plugin_data(content[session][metadata.SESSION_END_INFO_TAG])
    assert end.status == api_pb2.STATUS_SUCCESS

    def scalar(tag):
        (event,) = multiplexer.Tensors(session, tag)
        return float(tensor_util.make_ndarray(event.tensor_proto))

    assert scalar("best/val_mae") == pytest.approx(report["best"]["val_mae"], rel=1e-6)
    assert scalar("test/mae") == pytest.approx(report["test"]["mae"], rel=1e-6)
    assert scalar("test/mae_degC") == pytest.approx(report["test"]["mae_degC"], rel=1e-6)
    # the Keras callback's per-epoch curves sit below the session: the HParams metrics' groups
    assert {"2026-01-01/run_a/tensorboard/train", "2026-01-01/run_a/tensorboard/validation"} <= set(
        multiplexer.Runs()
    )

    # MLflow: one run in the local store under outputs/, read back through search_runs
    (row,) = runs_of(outputs).to_dict("records")
    assert row["status"] == "FINISHED" and row["tags.mlflow.runName"] == "run_a"
    assert row["tags.status"] == "completed" and row["tags.data"] == "jena" and row["tags.model"] == "dense"
    assert "optimizer.learning_rate=0.003" in row["tags.overrides"].split()
    assert row["tags.seqexp.run_dir"] == str(run_dir.resolve())
    assert row.get("tags.mlflow.source.git.commit") == git_head(Path.cwd())
    assert row["params.optimizer.learning_rate"] == "0.003" and row["params.model.units"] == "[32]"
    assert row["params.data.path"] == str(jena_csv)  # params: the whole composed config
    assert row["metrics.best/val_loss"] == pytest.approx(report["best"]["val_loss"], rel=1e-6)
    assert row["metrics.test/mae"] == pytest.approx(report["test"]["mae"], rel=1e-6)
    assert row["metrics.best_epoch"] == report["best_epoch"]
    client = mlflow.MlflowClient(store_uri(outputs))
    history = client.get_metric_history(row["run_id"], "val_loss")
    rows = [line.split(",") for line in (run_dir / "history.csv").read_text().splitlines()]
    val_loss = [float(r[rows[0].index("val_loss")]) for r in rows[1:]]
    assert [(m.step, m.value) for m in sorted(history, key=lambda m: m.step)] == [
        (1, pytest.approx(val_loss[0], rel=1e-6)),
        (2, pytest.approx(val_loss[1], rel=1e-6)),
    ]
    artifacts = {a.path for a in client.list_artifacts(row["run_id"])}
    assert {"metrics.json", "history.csv", "train.log", "loss.png", "checkpoints", "tensorboard"} <= artifacts
    assert "backup" not in artifacts
    stored = Path(
        mlflow.artifacts.download_artifacts(
            run_id=row["run_id"], artifact_path="metrics.json", dst_path=str(tmp_path / "dl")
        )
    )
    assert json.loads(stored.read_text()) == report


@pytest.fixture(scope="module")
def pruned(tmp_path_factory, jena_csv):
    """(outputs, run dir) of a run a search's pruner stopped after epoch 1 of 3 (the verdict
    seqexp.search.trial.ReportToTrial sets), with TensorBoard HParams and MLflow on."""
    import keras

    outputs = tmp_path_factory.mktemp("pruned") / "outputs"
    run_dir = outputs / "2026-01-01" / "trial_0"

    class Pruner(keras.callbacks.Callback):
        verdict = None

        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True
            self.verdict = {"status": "pruned", "pruned_epoch": epoch + 1, "reason": "pruned after epoch 1"}

    overrides = ["model=dense", f"data.path={jena_csv}", *TINY_JENA, "trainer.epochs=3"]
    tracked = ["callbacks.tensorboard.enabled=true", "logger=mlflow", f"paths.output_dir={outputs}"]
    train(compose_train(run_dir, *overrides, *tracked), more_callbacks=lambda monitor: [Pruner()])
    record = json.loads((run_dir / "metrics.json").read_text())
    assert (record["status"], record["pruned_epoch"], record["epochs_run"]) == ("pruned", 1, 1)
    return outputs, run_dir


def test_a_pruned_trial_ends_finished_in_mlflow_tagged_pruned(pruned):
    outputs, run_dir = pruned
    record = json.loads((run_dir / "metrics.json").read_text())
    (row,) = runs_of(outputs).to_dict("records")
    assert row["status"] == "FINISHED" and row["tags.status"] == "pruned"  # was FAILED
    assert row["tags.reason"] == "pruned after epoch 1"
    assert row["metrics.test/mae"] == pytest.approx(record["test"]["mae"], rel=1e-6)


def test_a_pruned_trial_is_a_finished_session_in_tensorboard_hparams(pruned):
    from tensorboard.plugins.hparams import api_pb2, metadata

    outputs, _ = pruned
    _, content = read_hparams_events(outputs)
    end = content["2026-01-01/trial_0/tensorboard"][metadata.SESSION_END_INFO_TAG]
    assert metadata.parse_session_end_info_plugin_data(end).status == api_pb2.STATUS_SUCCESS  # was FAILURE


def test_the_keys_that_are_not_the_experiment_are_in_neither_identity_nor_hparams(tmp_path):
    from seqexp.run.hparams import hparams
    from seqexp.run.identity import NOT_EXPERIMENT, config_identity, is_experiment_key

    cfg = compose_train(tmp_path, "trainer.threads=2", "trainer.verbose=1")
    identity, table = config_identity(cfg), hparams(cfg, "jena", "gru")
    assert "trainer.verbose" in NOT_EXPERIMENT and "trainer.threads" in NOT_EXPERIMENT
    for keys in (identity, table):
        assert [k for k in keys if not is_experiment_key(k)] == []
        assert "trainer.verbose" not in keys and "trainer.threads" not in keys  # HParams had both
        assert "trainer.epochs" in keys and "optimizer.learning_rate" in keys
    assert not [k for k in identity if k.endswith("cache_dir")]


def test_a_failed_run_is_recorded_as_failed_with_its_artifacts(make_cfg, jena_csv, tmp_path):
    outputs = tmp_path / "outputs"
    cfg = make_cfg(
        "model=dense",
        f"data.path={jena_csv}",
        *TINY_JENA,
        "trainer.loss=mse",
        "optimizer=sgd",
        "optimizer.learning_rate=1e20",
        "logger=mlflow",
        f"paths.output_dir={outputs}",
        "logger.experiment=faults",
    )
    with pytest.raises(SeqexpError, match="nan loss"):
        train(cfg)
    (row,) = runs_of(outputs, "faults").to_dict("records")
    assert row["status"] == "FAILED" and row["tags.status"] == "failed"
    assert row["tags.reason"].startswith("nan loss")
    client = mlflow.MlflowClient(store_uri(outputs))
    assert {"metrics.json", "history.csv"} <= {a.path for a in client.list_artifacts(row["run_id"])}
    assert not (tmp_path / "run" / "tensorboard").exists()  # tensorboard off: no HParams either


def test_a_resumed_run_continues_its_mlflow_run(make_cfg, tmp_path):
    from seqexp.run.mlflow_logger import MlflowRun

    outputs = tmp_path / "outputs"
    cfg = make_cfg("logger=mlflow", f"paths.output_dir={outputs}")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "history.csv").write_text("epoch,loss\n0,0.5\n")
    first = MlflowRun(cfg, tmp_path / "run", "jena", "gru")
    first.start()
    first.epoch(1, {"loss": 0.5})
    first.end(RunRecord(status="interrupted", reason="SIGTERM"))
    assert runs_of(outputs)["status"].tolist() == ["KILLED"]
    again = MlflowRun(cfg, tmp_path / "run", "jena", "gru")
    again.start()
    again.epoch(2, {"loss": 0.4})
    assert again.run_id == first.run_id
    (row,) = runs_of(outputs).to_dict("records")
    assert row["status"] == "RUNNING" and row["tags.status"] == "running"
    steps = mlflow.MlflowClient(store_uri(outputs)).get_metric_history(first.run_id, "loss")
    assert sorted((m.step, m.value) for m in steps) == [(1, 0.5), (2, 0.4)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_tracking_server_is_a_clear_error(make_cfg, tmp_path):
    uri = f"http://127.0.0.1:{free_port()}"
    started = time.perf_counter()
    with pytest.raises(SeqexpError, match=f"cannot use the tracking store {uri}.*logger.tracking_uri"):
        train(make_cfg("logger=mlflow", f"logger.tracking_uri={uri}"))
    assert (
        time.perf_counter() - started < 120
    )  # not MLflow's minutes of retries (a hang guard, far above the ~2 s it takes)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["status"] == "failed" and uri in metrics["reason"]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("logger.name=comet", "logger.name='comet' is not a logger; choose logger=none"),
        ("+logger.project=x", "logger.project is not a key of logger=mlflow"),
        ("logger.experiment=''", "logger.experiment='' must name an MLflow experiment"),
        ("logger.tracking_uri=localhost", "logger.tracking_uri='localhost' is not a tracking URI"),
    ],
)
def test_bad_logger_values_are_refused_before_training(make_cfg, tmp_path, override, message):
    with pytest.raises(SeqexpError, match=message):
        train(make_cfg("logger=mlflow", f"paths.output_dir={tmp_path / 'outputs'}", override))
    assert not (tmp_path / "run" / "checkpoints").exists()


@pytest.mark.slow
def test_a_sweep_is_a_parent_run_of_its_jobs(tmp_path):
    outputs = tmp_path / "outputs"
    sweep_dir = outputs / "multirun" / "sweep"
    sweep_dir.mkdir(parents=True)
    result = sweep(sweep_dir, "logger=mlflow", f"paths.output_dir={outputs}", "model.units=[4],[8]")
    assert result.returncode == 0, result.stderr[-3000:]
    runs = runs_of(outputs)
    parent = runs[runs["tags.seqexp.role"] == "sweep"].to_dict("records")
    (parent,) = parent
    children = runs[runs["tags.mlflow.parentRunId"] == parent["run_id"]]
    assert sorted(children["tags.mlflow.runName"]) == [r.name for r in run_dirs(sweep_dir)]
    assert set(children["status"]) == {"FINISHED"} and set(children["params.model.units"]) == {"[4]", "[8]"}
    assert parent["status"] == "FINISHED" and parent["tags.status"] == "2 jobs, 0 failed"
    assert parent["tags.seqexp.sweep_dir"] == str(sweep_dir.resolve())
    assert "model.units=[4],[8]" in parent["tags.overrides"]
    client = mlflow.MlflowClient(store_uri(outputs))
    assert {"summary.csv", "summary.md", "comparison.png"} <= {
        a.path for a in client.list_artifacts(parent["run_id"])
    }


def test_tensorboard_builds_one_hparams_table_from_all_runs(tmp_path):
    """No run writes an hparams_config, so TensorBoard's hparams plugin (its own HTTP routes,
    as the HParams tab calls them) infers one experiment from every run under the logdir."""
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.hparams import hparams_plugin
    from werkzeug import test as wtest
    from werkzeug import wrappers

    from seqexp.run.hparams import TensorBoardHParams

    runs = {"sweep/0_jena_gru": ("[16]", "completed", 0.31), "sweep/1_jena_gru": ("[32]", "failed", None),
            "2026-01-01/run_imdb": ("[8]", "completed", None)}  # fmt: skip
    for name, (units, status, mae) in runs.items():
        best = {"val_mae": mae} if mae else {"val_accuracy": 0.8}
        values = {"data": "imdb" if "imdb" in name else "jena", "model.units": units}
        TensorBoardHParams(tmp_path / name / "tensorboard", name, values).end(
            RunRecord(status=status, best=best)
        )

    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(str(tmp_path))
    multiplexer.Reload()
    provider = data_provider.MultiplexerDataProvider(multiplexer, str(tmp_path))
    apps = hparams_plugin.HParamsPlugin(
        base_plugin.TBContext(logdir=str(tmp_path), data_provider=provider, multiplexer=multiplexer)
    ).get_plugin_apps()

    def post(route: str, body: dict) -> dict:
        response = wtest.Client(apps[route], wrappers.Response).post(
            route, data=json.dumps(body), content_type="application/json"
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        return json.loads(response.get_data(as_text=True))

    experiment = post("/experiment", {"experimentName": "", "includeMetrics": True})
    infos = {h["name"]: h for h in experiment["hparamInfos"]}
    assert sorted(infos["model.units"]["domainDiscrete"]) == ["[16]", "[32]", "[8]"]
    assert sorted(infos["data"]["domainDiscrete"]) == ["imdb", "jena"]
    assert {m["name"]["tag"] for m in experiment["metricInfos"]} == {"best/val_mae", "best/val_accuracy"}

    statuses = ["STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING", "STATUS_UNKNOWN"]
    groups = post(
        "/session_groups",
        {
            "experimentName": "",
            "allowedStatuses": statuses,
            "colParams": [],
            "startIndex": 0,
            "sliceSize": 100,
            "includeMetrics": True,
        },
    )
    rows = {g["name"]: g for g in groups["sessionGroups"]}
    assert sorted(rows) == sorted(runs)
    assert rows["sweep/0_jena_gru"]["hparams"]["model.units"] == "[16]"
    assert rows["sweep/0_jena_gru"]["sessions"][0]["status"] == "STATUS_SUCCESS"
    assert rows["sweep/1_jena_gru"]["sessions"][0]["status"] == "STATUS_FAILURE"
    (value,) = rows["sweep/0_jena_gru"]["metricValues"]
    assert value["name"]["tag"] == "best/val_mae" and value["value"] == pytest.approx(0.31)
