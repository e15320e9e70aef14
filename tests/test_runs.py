"""`seqexp runs` and `seqexp diff` over real run directories (tiny in-process trainings, their
.hydra/ files saved as Hydra saves them) and hand-made broken folders; env.json; tags, notes and
the book's reference figure in metrics.json and in the sweep summary."""

from __future__ import annotations

import csv
import io
import json
import platform
import shutil
import subprocess

import pytest
import yaml
from omegaconf import OmegaConf

from seqexp.cli import main
from seqexp.errors import SeqexpError
from seqexp.run.environment import changes_since, git_state, version_changes
from seqexp.run.record import Status, read_record, write_record
from seqexp.run.train import train
from seqexp.summary.runs import read_runs, runs_text
from tests.conftest import PROJECT_ROOT, TINY_JENA, compose_train
from tests.test_cli import imports_tensorflow, seqexp

# Three real runs: {folder under outputs/: overrides}.
RUNS = {
    "2026-01-01/10-00-00-000000_jena_gru": ["experiment=jena_gru", "+tags=[baseline]", 'note="first try"'],
    "2026-01-02/10-00-00-000000_jena_gru": ["experiment=jena_gru", "model.dropout=0.2", "trainer.seed=1",
                                            "tags=[ablation]"],
    "2026-01-03/10-00-00-000000_jena_naive": ["experiment=jena_naive", "tags=[baseline,naive]"],
}  # fmt: skip
BROKEN = {
    "2026-01-04/10-00-00-000000_jena_gru": "started",  # .hydra/ only: killed before metrics.json
    "2026-01-05/torn": '{"status": "completed", "best": {"val_lo',
    "2026-01-06/array": "[1, 2, 3]",
    "2026-01-07/running": json.dumps({"data": "jena", "model": "lstm", "status": "running",
                                      "best": {"val_loss": "not a number"}}),
}  # fmt: skip


@pytest.fixture(scope="module")
def outputs(tmp_path_factory, jena_csv):
    """outputs/ with three tiny trained runs and four broken folders."""
    root = tmp_path_factory.mktemp("outputs")
    for name, overrides in RUNS.items():
        run_dir = root / name
        task = [f"data.path={jena_csv}", *TINY_JENA, *overrides]
        cfg = compose_train(run_dir, *task)
        train(cfg)
        (run_dir / ".hydra").mkdir()  # what Hydra writes beside the job
        OmegaConf.save(cfg, run_dir / ".hydra" / "config.yaml")
        (run_dir / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(task))
    for name, text in BROKEN.items():
        (root / name / ".hydra").mkdir(parents=True)
        if text != "started":
            (root / name / "metrics.json").write_text(text)
    (root / "mlruns" / "0" / "abc").mkdir(parents=True)  # a tracking store is not a run
    (root / "mlruns" / "0" / "meta.yaml").write_text("name: Default\n")
    return root


def metrics(outputs, name: str) -> dict:
    return json.loads((outputs / name / "metrics.json").read_text())


def runs_json(capsys, *args) -> list[dict]:
    assert main(["runs", *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


GRU, GRU_DROPOUT, NAIVE = RUNS


def test_env_json_records_the_environment(outputs):
    import keras
    import numpy
    import tensorflow as tf

    env = json.loads((outputs / GRU_DROPOUT / "env.json").read_text())
    assert env["versions"]["python"] == platform.python_version()
    assert env["versions"]["tensorflow"] == tf.__version__ and env["versions"]["keras"] == keras.__version__
    assert env["versions"]["numpy"] == numpy.__version__
    assert set(env["versions"]) >= {"seqexp", "hydra-core", "omegaconf"}
    assert env["plugins"] == {"launcher": "hydra-core", "sweeper": "seqexp"}  # basic launcher, seqexp.sweep
    head = subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    assert env["git"]["commit"] == head.stdout.strip() and isinstance(env["git"]["dirty"], bool)
    assert {"name": "/physical_device:CPU:0", "type": "CPU"} in env["devices"]
    assert env["build"]["cuda"] == tf.sysconfig.get_build_info().get("cuda_version")
    assert env["seed"] == 1 and env["deterministic_ops"] is True and env["jit_compile"] is False
    assert env["xla"] is False
    assert "model.dropout=0.2" in env["overrides"] and env["command"]
    facts = metrics(outputs, GRU_DROPOUT)["env"]  # the gist of env.json in metrics.json
    assert facts["git_commit"] == env["git"]["commit"] and facts["tensorflow"] == tf.__version__
    assert facts["seed"] == 1 and facts["python"] == platform.python_version() and facts["gpus"] == []


def test_no_git_state_outside_a_checkout(tmp_path):
    assert git_state((tmp_path, "cwd")) is None


def test_metrics_json_holds_tags_note_and_the_reference_difference(outputs):
    report = metrics(outputs, GRU)
    assert report["tags"] == ["baseline"] and report["note"] == "first try"
    ref = report["reference"]
    assert (ref["metric"], ref["value"], ref["source"]) == ("val_mae", 0.2644, "DLwP 1st ed. 6.3.5")
    assert ref["ours"] == report["best"]["val_mae"]
    assert ref["difference"] == pytest.approx(report["best"]["val_mae"] - 0.2644)
    naive = metrics(outputs, NAIVE)["reference"]
    assert naive["value"] == 0.2897 and naive["ours"] == metrics(outputs, NAIVE)["best"]["val_mae"]


def test_bad_tags_are_refused_before_anything_is_written(make_cfg, tmp_path):
    with pytest.raises(SeqexpError, match=r"tags='baseline' must be a list of words"):
        train(make_cfg("tags=baseline"))
    with pytest.raises(SeqexpError, match=r"reference=.* must be null or \{metric"):
        train(make_cfg("experiment=jena_gru", "~reference.source"))
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_runs_lists_every_folder_with_its_state(outputs, capsys):
    rows = {row["run"]: row for row in runs_json(capsys, str(outputs))}
    assert sorted(rows) == sorted([*RUNS, *BROKEN])  # the MLflow store is not listed
    assert [rows[name]["status"] for name in RUNS] == ["completed"] * 3
    assert rows["2026-01-04/10-00-00-000000_jena_gru"]["status"] == "no metrics.json"
    assert rows["2026-01-05/torn"]["status"] == "unreadable metrics.json"
    assert "torn or hand-edited" in rows["2026-01-05/torn"]["reason"]
    assert "it holds a list, not a JSON object" in rows["2026-01-06/array"]["reason"]
    running = rows["2026-01-07/running"]
    assert running["status"] == "running" and running["best"] is None and running["model"] == "lstm"
    gru = rows[GRU]
    report = metrics(outputs, GRU)
    assert (gru["data"], gru["model"], gru["best_epoch"], gru["monitor"]) == ("jena", "gru", 1, "val_loss")
    assert gru["best"] == report["best"]["val_loss"] and gru["test"] == report["test"]["loss"]
    assert gru["wall_time_s"] == report["wall_time_s"] and gru["tags"] == "baseline"
    assert (gru["ours"], gru["book"]) == (report["best"]["val_mae"], 0.2644)
    assert gru["difference"] == report["reference"]["difference"] and gru["note"] == "first try"
    assert "experiment=jena_gru" in gru["overrides"]
    assert gru["date"] == report["env"]["started"][:19].replace("T", " ")
    assert rows["2026-01-04/10-00-00-000000_jena_gru"]["date"] == "2026-01-04 10:00:00"  # from the folder
    dates = [row["date"] for row in rows.values()]
    assert dates == sorted(dates, reverse=True)  # newest first


def test_runs_sort_by_any_metric_and_limit(outputs, capsys):
    for metric, where in (("val_mae", "best"), ("test_mae", "test")):
        rows = runs_json(capsys, str(outputs), "--sort", metric)
        key = metric.removeprefix("test_")
        values = sorted((metrics(outputs, name)[where][key], name) for name in RUNS)
        assert [row["run"] for row in rows[:3]] == [name for _, name in values]  # smallest error first
        assert [row[metric] for row in rows[:3]] == [v for v, _ in values]
        assert all(row[metric] is None for row in rows[3:])  # runs without it last
    best_val_mae = min((metrics(outputs, name)["best"]["val_mae"], name) for name in RUNS)[1]
    assert [row["run"] for row in runs_json(capsys, str(outputs), "--sort", "val_mae", "--limit", "1")] == [
        best_val_mae
    ]
    assert main(["runs", str(outputs), "--sort", "val_accuracy"]) == 2
    assert "--sort val_accuracy: no run here logged it" in capsys.readouterr().err


def test_runs_filters(outputs, capsys):
    names = lambda *args: sorted(row["run"] for row in runs_json(capsys, str(outputs), *args))  # noqa: E731
    assert names("--model", "naive") == [NAIVE]
    assert names("--data", "jena", "--status", "completed") == sorted(RUNS)
    assert names("--status", "unreadable metrics.json") == ["2026-01-05/torn", "2026-01-06/array"]
    assert names("--tag", "baseline") == [GRU, NAIVE]
    assert names("--tag", "baseline", "--tag", "naive") == [NAIVE]
    assert names("--where", "model.dropout>0.1") == [GRU_DROPOUT]
    assert names("--where", "model.dropout==0.0", "--where", "trainer.seed=0") == [GRU]
    assert names("--where", "model.cell!=gru") == []  # the naive model has no cell: not kept
    assert main(["runs", str(outputs), "--where", "model.dropuot>0.1"]) == 2
    assert "no run here has the key model.dropuot" in capsys.readouterr().err
    assert main(["runs", str(outputs), "--where", "model.dropout~0.1"]) == 2
    assert "is not KEY OP VALUE" in capsys.readouterr().err
    assert main(["runs", str(outputs), "--where", "model.cell>gru"]) == 2
    assert "> compares numbers" in capsys.readouterr().err


def test_runs_formats(outputs, capsys):
    as_json = runs_json(capsys, str(outputs), "--sort", "val_mae")
    assert main(["runs", str(outputs), "--sort", "val_mae", "--format", "csv"]) == 0
    as_csv = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["run"] for r in as_csv] == [r["run"] for r in as_json]
    assert float(as_csv[0]["val_mae"]) == as_json[0]["val_mae"] and as_csv[-1]["best"] == ""
    assert main(["runs", str(outputs), "--tag", "baseline", "--format", "md"]) == 0
    md = capsys.readouterr().out.splitlines()
    assert md[0].startswith("| run | date | data | model | backend | status |") and md[1].startswith("|---|")
    assert len(md) == 4 and "ours - book" in md[0] and "first try" in md[2] + md[3]
    assert main(["runs", str(outputs)]) == 0  # captured stdout is not a terminal: plain text
    plain = capsys.readouterr().out
    assert plain.splitlines()[0].split()[:4] == ["run", "date", "data", "model"]
    assert "unreadable metrics.json" in plain and "┃" not in plain
    drawn = runs_text(read_runs(outputs), terminal=True)  # rich, as on a terminal
    assert "┃" in drawn and "2026-01-07/running" in drawn


def test_diff_shows_config_keys_metrics_and_environment(outputs, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where diff writes its figure
    assert main(["diff", str(outputs / GRU), str(outputs / GRU_DROPOUT)]) == 0
    out = capsys.readouterr().out
    config, metrics_part, env_part = out.split("\n\n")[:3]
    figure = f"diff_{GRU.split('/')[1]}_{GRU_DROPOUT.split('/')[1]}.png"  # named by the run folders
    assert out.splitlines()[-1].endswith(f": {figure}") and (tmp_path / figure).stat().st_size > 10_000
    lines = {line.split()[0]: line.split()[1:] for line in config.splitlines()[2:]}
    assert sorted(lines) == ["model.dropout", "note", "paths.run_dir", "tags", "trainer.seed"]
    assert "composed config (.hydra/config.yaml): 5 key(s) differ" in config
    assert lines["model.dropout"] == ["0", "0.2"] and lines["trainer.seed"] == ["0", "1"]
    assert lines["tags"] == ['["baseline"]', '["ablation"]']
    best_a, best_b = metrics(outputs, GRU)["best"], metrics(outputs, GRU_DROPOUT)["best"]
    row = next(line for line in metrics_part.splitlines() if line.startswith("best.val_mae"))
    assert row.split()[-2:] == [f"{best_a['val_mae']:.4g}", f"{best_b['val_mae']:.4g}"]
    assert row.split()[1] == "*"  # different values are marked
    assert any(line.split()[:2] == ["seed", "*"] for line in env_part.splitlines())
    assert any(line.split()[0] == "tensorflow" and len(line.split()) == 3 for line in env_part.splitlines())
    assert main(["diff", str(outputs / GRU), str(outputs / "mlruns")]) == 2
    assert "is not a run directory" in capsys.readouterr().err
    assert main(["diff", str(outputs / GRU), str(outputs / "2026-01-05/torn"), "--format", "json"]) == 0
    torn = json.loads(capsys.readouterr().out)
    assert {"key": "status", "a": "completed", "b": "unreadable metrics.json"} in torn["metrics"]


def test_runs_and_diff_do_not_import_tensorflow(outputs):
    imported, out = imports_tensorflow("runs", str(outputs), cwd=outputs)
    assert not imported and GRU in out
    imported, out = imports_tensorflow("diff", str(outputs / GRU), str(outputs / NAIVE), cwd=outputs)
    assert not imported and "model._target_" in out


def test_sweep_summary_puts_ours_beside_the_book(outputs, tmp_path):
    from seqexp.summary.sweep import summarize

    sweep = tmp_path / "sweep"
    for i, name in enumerate(RUNS):  # the three real runs as one sweep's jobs
        shutil.copytree(outputs / name, sweep / f"{i}_{name.split('_', 1)[1]}")
    summary = summarize(sweep)
    md = summary.files[1].read_text()
    assert "| metric | ours | book | ours − book | source |" in md
    gru = metrics(outputs, GRU)["reference"]
    assert f"| val_mae | {gru['ours']:.4g} | 0.2644 | {gru['difference']:+.4g} | DLwP 1st ed. 6.3.5 |" in md
    assert "| 0.2897 |" in md and "DLwP 1st ed. 6.3.3" in md
    rows = list(csv.DictReader(summary.files[0].open()))
    by_job = {row["job"]: row for row in rows}
    assert float(by_job["0_jena_gru"]["difference"]) == pytest.approx(gru["difference"])
    assert by_job["2_jena_naive"]["book"] == "0.2897"


def pruned_copy(outputs, folder):
    """The three real runs; the best by val_loss as if a search had pruned it after epoch 1."""
    best = min(RUNS, key=lambda name: metrics(outputs, name)["best"]["val_loss"])
    for i, name in enumerate(RUNS):
        shutil.copytree(outputs / name, folder / f"{i}_{name.split('_', 1)[1]}")
    pruned = folder / f"{list(RUNS).index(best)}_{best.split('_', 1)[1]}"
    record = read_record(pruned)
    write_record(
        pruned, record.but(status=Status.PRUNED, reason="pruned by Optuna's median pruner", pruned_epoch=1)
    )
    return pruned.name


def test_runs_lists_a_pruned_trial_as_a_finished_run_ranked_by_its_numbers(outputs, tmp_path, capsys):
    pruned = pruned_copy(outputs, tmp_path / "search")
    rows = runs_json(capsys, str(tmp_path / "search"), "--sort", "val_loss")
    assert [row["run"] for row in rows][0] == pruned  # the best value: first, as a finished run is
    assert rows[0]["status"] == "pruned" and rows[0]["reason"] == "pruned by Optuna's median pruner"
    assert rows[0]["best"] == rows[0]["val_loss"] is not None and rows[0]["test"] is not None
    assert [row["run"] for row in runs_json(capsys, str(tmp_path / "search"), "--status", "pruned")] == [
        pruned
    ]


def test_the_sweep_summary_ranks_a_pruned_trial_like_a_finished_run(outputs, tmp_path):
    from seqexp.summary.sweep import summarize

    pruned = pruned_copy(outputs, tmp_path / "sweep")
    summary = summarize(tmp_path / "sweep")
    assert summary.failed == []  # so `seqexp train -m` exits 0 and MLflow's parent says 0 failed
    rows = {row["job"]: row for row in csv.DictReader(summary.files[0].open())}
    assert rows[pruned]["rank"] == "1" and rows[pruned]["status"] == "pruned"
    assert [job.name for job in summary.jobs][0] == pruned


def test_resume_warns_naming_the_version_that_changed(tmp_path):
    assert version_changes(
        {"tensorflow": "2.20.0", "numpy": "2.4.6"}, {"tensorflow": "2.21.0", "numpy": "2.4.6"}
    ) == ["tensorflow 2.20.0 -> 2.21.0"]
    run = tmp_path / "run"
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(["trainer.epochs=-1"]))  # refused fast
    (run / "metrics.json").write_text(json.dumps({"status": "interrupted"}))
    env = {"versions": {"python": platform.python_version(), "tensorflow": "2.0.0"}, "plugins": {}}
    (run / "env.json").write_text(json.dumps(env))
    import tensorflow as tf

    assert f"tensorflow 2.0.0 -> {tf.__version__}" in changes_since(env)
    result = seqexp("resume", str(run), cwd=tmp_path)
    assert f"seqexp: warning: {run} started under other versions than these: " in result.stderr
    assert f"tensorflow 2.0.0 -> {tf.__version__}" in result.stderr and "keras absent -> " in result.stderr
    assert result.returncode == 2 and "trainer.epochs" in result.stderr  # then the config is checked


def test_runs_on_a_missing_folder_fails_clearly(tmp_path, capsys):
    assert main(["runs", str(tmp_path / "nowhere")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert main(["runs", str(tmp_path)]) == 0
    assert "no runs under" in capsys.readouterr().err


def test_a_resumed_run_keeps_the_environment_it_started_with(tmp_path):
    from seqexp.run.environment import read_env, write_env

    write_env(tmp_path, {"versions": {"tensorflow": "2.20.0"}})
    write_env(tmp_path, {"versions": {"tensorflow": "2.21.0"}})
    env = write_env(tmp_path, {"versions": {"tensorflow": "2.22.0"}})
    assert read_env(tmp_path) == env and env["versions"] == {"tensorflow": "2.22.0"}
    assert [p["versions"]["tensorflow"] for p in env["previous"]] == ["2.20.0", "2.21.0"]


def test_the_launcher_plugin_in_use_is_versioned():
    from seqexp.run.environment import plugin_distribution, versions

    joblib = plugin_distribution("hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher")
    assert joblib == "hydra-joblib-launcher"
    assert plugin_distribution("hydra._internal.core_plugins.basic_launcher.BasicLauncher") == "hydra-core"
    assert versions({"launcher": joblib})["hydra-joblib-launcher"] == "1.2.0"  # pinned in the dev extra
