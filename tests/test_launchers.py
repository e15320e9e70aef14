"""Sweeps on real engines: joblib (local parallel), submitit (the SLURM launcher's code path on
the local executor) and Ray (a local instance), each as a real `seqexp train -m` producing
complete run directories and a summary that agrees with them (Optuna searches: test_search.py)."""

from __future__ import annotations

import json

import pytest
import yaml

from seqexp.run.runtime import available_cores, launcher_threads
from tests.test_sweep_helpers import (
    assert_complete,
    assert_png,
    assert_rows_match_metrics,
    run_dirs,
    seqexp,
    summary_rows,
    sweep,
)

GRID = "model.units=[8],[16]"


def assert_two_job_sweep(sweep_dir, result) -> list:
    assert result.returncode == 0, result.stderr[-3000:]
    runs = run_dirs(sweep_dir)
    assert [r.name for r in runs] == ["0_jena_gru", "1_jena_gru"]
    for run in runs:
        assert_complete(run)
    rows = summary_rows(sweep_dir)
    assert {r["model.units"] for r in rows} == {"[8]", "[16]"}
    assert_rows_match_metrics(sweep_dir, rows)
    assert_png(sweep_dir / "comparison.png")
    return runs


def thread_lines(run) -> list[str]:
    return [
        line.split("][")[-1]
        for line in (run / "train.log").read_text().splitlines()
        if "TensorFlow thread pools" in line
    ]


@pytest.mark.slow
def test_joblib_runs_two_jobs_in_parallel_with_their_share_of_threads(tmp_path):
    sweep_dir = tmp_path / "joblib"
    result = sweep(sweep_dir, GRID, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    runs = assert_two_job_sweep(sweep_dir, result)
    assert "Joblib.Parallel(n_jobs=2" in result.stdout + result.stderr
    share = max(1, available_cores() // 2)
    for run in runs:  # trainer.threads=auto: cores / n_jobs for each job
        assert thread_lines(run) == [
            f"INFO] TensorFlow thread pools: {share} intra-op, {share} inter-op threads"
        ]


@pytest.mark.slow
def test_submitit_local_runs_the_slurm_launcher_code_path(tmp_path):
    sweep_dir = tmp_path / "submitit"
    result = sweep(
        sweep_dir,
        GRID,
        "hydra/launcher=submitit_local",
        "hydra.launcher.cpus_per_task=1",
        "hydra.launcher.timeout_min=10",
    )
    runs = assert_two_job_sweep(sweep_dir, result)
    assert len(list((sweep_dir / ".submitit").glob("*/*_result.pkl"))) == 2  # submitit's own
    for run in runs:
        assert thread_lines(run) == ["INFO] TensorFlow thread pools: 1 intra-op, 1 inter-op threads"]

    # Continued (seqexp.sweep): job 1 as a kill leaves it; `seqexp resume` sends submitit job 1
    # alone, under its own number and folder, and leaves job 0 as it is.
    job0 = {p: p.read_bytes() for p in runs[0].rglob("*") if p.is_file()}
    metrics = json.loads((runs[1] / "metrics.json").read_text())
    (runs[1] / "metrics.json").write_text(json.dumps({**metrics, "status": "running"}))
    resumed = seqexp("resume", str(sweep_dir), cwd=sweep_dir.parent)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "[sweep] job 1 finished (completed)" in resumed.stdout
    assert "job 0 started" not in resumed.stdout
    assert len(list((sweep_dir / ".submitit").glob("*/*_result.pkl"))) == 3  # one more submitit job
    assert {p: p.read_bytes() for p in runs[0].rglob("*") if p.is_file()} == job0
    assert_complete(runs[1])


@pytest.mark.slow
def test_ray_runs_two_jobs_on_a_local_instance(tmp_path):
    sweep_dir = tmp_path / "ray"
    result = sweep(sweep_dir, GRID, "hydra/launcher=ray", "hydra.launcher.ray.init.num_cpus=2")
    runs = assert_two_job_sweep(sweep_dir, result)
    assert "Ray Launcher is launching 2 jobs" in result.stdout + result.stderr
    for run in runs:  # one CPU per Ray task -> one thread per pool
        assert thread_lines(run) == ["INFO] TensorFlow thread pools: 1 intra-op, 1 inter-op threads"]


def test_launcher_presets_compose_without_hydra_deprecation_warnings(tmp_path):
    for name, key, value in (
        ("joblib", "n_jobs", 2),
        (
            "ray",
            "ray",
            {
                "init": {"address": None, "num_cpus": None, "include_dashboard": False},
                "remote": {"num_cpus": 1, "num_gpus": 0},
            },
        ),
    ):
        result = seqexp(
            "train", "--cfg", "hydra", "--package", "hydra.launcher", f"hydra/launcher={name}", cwd=tmp_path
        )
        assert result.returncode == 0, result.stderr
        assert "deprecated" not in result.stderr, result.stderr  # no same-name schema matching
        assert yaml.safe_load(result.stdout)[key] == value  # seqexp's preset, not the plugin's


def test_slurm_preset_composes_for_submitit_slurm(tmp_path):
    result = seqexp(
        "train",
        "--cfg",
        "hydra",
        "--package",
        "hydra.launcher",
        "hydra/launcher=slurm",
        "hydra.launcher.partition=gpu",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    launcher = yaml.safe_load(result.stdout)  # the hydra.launcher node
    assert launcher["_target_"].endswith("submitit_launcher.SlurmLauncher")
    assert (launcher["partition"], launcher["gpus_per_node"], launcher["cpus_per_task"]) == ("gpu", 1, 8)
    assert launcher["submitit_folder"] == "${hydra.sweep.dir}/.submitit/%j"
    assert launcher_threads(launcher, cores=64) == 8


def test_launcher_threads_share_the_cores():
    joblib = {"_target_": "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"}
    assert launcher_threads({**joblib, "n_jobs": 2}, cores=8) == 4
    assert launcher_threads({**joblib, "n_jobs": 3}, cores=2) == 1
    assert launcher_threads({**joblib, "n_jobs": -1}, cores=8) == 1  # one job per core
    assert launcher_threads({**joblib, "n_jobs": -2}, cores=4) == 1  # joblib's -2: all cores but one
    assert launcher_threads({**joblib, "n_jobs": -3}, cores=4) == 2  # two jobs on four cores
    ray = {
        "_target_": "hydra_plugins.hydra_ray_launcher.ray_launcher.RayLauncher",
        "ray": {"remote": {"num_cpus": 3}},
    }
    assert launcher_threads(ray, cores=8) == 3
    basic = {"_target_": "hydra._internal.core_plugins.basic_launcher.BasicLauncher"}
    assert launcher_threads(basic, cores=8) is None
