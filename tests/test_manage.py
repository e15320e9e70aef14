"""Changing runs after they ran (`seqexp runs tag|note|archive|unarchive|delete|restore|trash|
purge`, seqexp.run.manage) and a dirty checkout's code.patch (seqexp.run.environment).

Run folders are made with the record writer (seqexp.run.record), as training writes them; the
commands run in-process through `seqexp.cli.main`, as the `seqexp` command does.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from seqexp.cli import main
from seqexp.run.environment import PATCH, git_here, keep_patch
from seqexp.run.labels import LABELS
from seqexp.run.lock import LOCK
from seqexp.run.record import RunRecord, Status, write_record
from seqexp.run.trash import INFO, TRASH
from tests.test_cli import imports_tensorflow

GRU = "2026-01-01/10-00-00-000000_jena_gru"
LSTM = "2026-01-02/10-00-00-000000_jena_lstm"


@pytest.fixture
def outputs(tmp_path, monkeypatch):
    """outputs/ (the default root, in the working directory) with two finished runs."""
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "outputs"
    records = {
        GRU: RunRecord(
            data="jena", model="gru", tags=["baseline"], note="first try", status=Status.COMPLETED
        ),
        LSTM: RunRecord(data="jena", model="lstm", tags=[], status=Status.COMPLETED),
    }
    for name, record in records.items():
        write_record(root / name, record.but(monitor="val_loss", best={"val_loss": 0.5}))
        (root / name / "checkpoints").mkdir()
        (root / name / "checkpoints" / "best.keras").write_bytes(os.urandom(2048))
        (root / name / ".hydra").mkdir()
        (root / name / ".hydra" / "overrides.yaml").write_text("- model=gru\n")
    return root


def rows(capsys, *args) -> dict[str, dict]:
    """{run: row} of `seqexp runs ARGS --format json`."""
    capsys.readouterr()  # what the commands before said
    assert main(["runs", *args, "--format", "json"]) == 0
    return {row["run"]: row for row in json.loads(capsys.readouterr().out)}


def refused(capsys, *args) -> str:
    """The error of a refused `seqexp runs ARGS` (exit code 2, one `seqexp: error:` paragraph)."""
    capsys.readouterr()
    assert main(["runs", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("seqexp: error: ") and "Traceback" not in err
    return err


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def sleeper():
    """A live process of this host, to name as a lock's holder."""
    process = subprocess.Popen(["sleep", "120"])
    yield process
    process.kill()
    process.wait()


def hold(run_dir: Path, pid: int) -> None:
    """run.lock as seqexp.run.lock writes it, held by process `pid`."""
    holder = {"pid": pid, "host": socket.gethostname(), "since": "2026-01-01 00:00:00"}
    (run_dir / LOCK).write_text(json.dumps(holder))


# ---- tags, notes, archiving -------------------------------------------------------------------


def test_tags_are_added_and_removed_and_filtered_with_the_launch_tags(outputs, capsys):
    assert main(["runs", "tag", GRU, LSTM, "+best", "+cudnn"]) == 0
    assert main(["runs", "tag", str(outputs / GRU), "-baseline", "-cudnn"]) == 0  # a path works too
    listed = rows(capsys)
    assert listed[GRU]["tags"] == "best" and listed[LSTM]["tags"] == "best,cudnn"
    assert sorted(rows(capsys, "--tag", "best")) == [GRU, LSTM]
    assert sorted(rows(capsys, "--tag", "cudnn")) == [LSTM]
    assert rows(capsys, "--tag", "baseline") == {}  # the launch tag taken off no longer matches
    labels = json.loads((outputs / GRU / LABELS).read_text())
    assert labels == {"added": ["best"], "removed": ["baseline"]}
    assert json.loads((outputs / GRU / "metrics.json").read_text())["tags"] == ["baseline"]  # as launched
    assert main(["runs", "tag", GRU, "+baseline"]) == 0  # given back: a launch tag again
    assert rows(capsys)[GRU]["tags"] == "baseline,best"
    assert json.loads((outputs / GRU / LABELS).read_text()) == {"added": ["best"]}


def test_a_note_is_set_replaced_and_cleared(outputs, capsys):
    assert main(["runs", "note", LSTM, "cuDNN kernel"]) == 0
    assert rows(capsys)[LSTM]["note"] == "cuDNN kernel"
    assert main(["runs", "note", GRU, "second thoughts"]) == 0  # replaces the launch-time note
    assert rows(capsys)[GRU]["note"] == "second thoughts"
    assert main(["runs", "--format", "table"]) == 0
    table = capsys.readouterr().out
    assert "second thoughts" in table and "cuDNN kernel" in table and "first try" not in table
    assert main(["runs", "note", GRU, ""]) == 0
    assert rows(capsys)[GRU]["note"] == ""


def test_archived_runs_are_hidden_until_asked_for(outputs, capsys):
    assert main(["runs", "archive", GRU]) == 0
    assert sorted(rows(capsys)) == [LSTM]
    assert sorted(rows(capsys, "--archived")) == [GRU]
    everything = rows(capsys, "--all")
    assert sorted(everything) == [GRU, LSTM] and everything[GRU]["archived"] is True
    assert main(["runs", "--all"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:7] == ["run", "date", "data", "model", "backend", "status", "archived"]
    cells = [line.split() for line in table[1:]]  # the date is two words
    assert cells[0][7] == "–" and cells[1][7] == "yes"  # newest first: LSTM, then GRU
    assert main(["runs", "archive", LSTM]) == 0
    assert main(["runs"]) == 0
    assert "2 archived: --all shows them" in capsys.readouterr().err
    assert main(["runs", "unarchive", GRU, LSTM]) == 0
    assert sorted(rows(capsys)) == [GRU, LSTM]
    assert main(["runs"]) == 0
    assert "archived" not in capsys.readouterr().out  # the column only when a run shown is archived


def test_labels_survive_the_record_being_rewritten(outputs, capsys):
    """A resumed run rewrites metrics.json: what was said about it after it ran stays."""
    assert main(["runs", "tag", GRU, "+kept"]) == 0
    assert main(["runs", "archive", GRU]) == 0
    write_record(outputs / GRU, RunRecord(data="jena", model="gru", tags=["baseline"], status=Status.RUNNING))
    row = rows(capsys, "--archived")[GRU]
    assert row["tags"] == "baseline,kept" and row["status"] == "running"


def test_a_damaged_labels_file_is_named_when_changed_and_skipped_when_listed(outputs, capsys):
    (outputs / GRU / LABELS).write_text('{"added": "best"}')
    err = refused(capsys, "tag", GRU, "+x")
    assert f"{LABELS} is damaged or was edited by hand" in err and "'added'" in err
    assert rows(capsys)[GRU]["tags"] == "baseline"


# ---- delete, restore, purge -------------------------------------------------------------------


def test_delete_moves_a_run_to_the_trash_and_restore_puts_it_back_byte_identical(outputs, capsys):
    before = files(outputs / GRU)
    assert main(["runs", "delete", GRU]) == 0
    assert "moved to" in capsys.readouterr().out
    assert not (outputs / GRU).exists() and sorted(rows(capsys)) == [LSTM]
    assert not (outputs / "2026-01-01").exists()  # the date folder it left empty
    (entry,) = (outputs / TRASH).iterdir()
    assert files(entry / "run") == before  # no run.lock left behind either
    assert json.loads((entry / INFO).read_text())["original"] == GRU
    assert main(["runs", "trash"]) == 0
    assert entry.name in capsys.readouterr().out
    assert main(["runs", "restore", GRU]) == 0  # by the run's old name
    assert files(outputs / GRU) == before
    assert sorted(rows(capsys)) == [GRU, LSTM] and not list((outputs / TRASH).iterdir())
    assert main(["runs", "delete", LSTM]) == 0
    (entry,) = (outputs / TRASH).iterdir()
    assert main(["runs", "restore", entry.name]) == 0  # by the entry's name
    assert (outputs / LSTM / "metrics.json").exists()


def test_delete_and_restore_under_another_root(tmp_path, outputs, capsys):
    elsewhere = tmp_path / "scratch"
    (outputs / "2026-01-01").rename(elsewhere)
    run = elsewhere / "10-00-00-000000_jena_gru"
    assert main(["runs", "delete", str(run)]) == 2  # not under outputs/: its trash is not there
    assert "give --root FOLDER" in capsys.readouterr().err and run.exists()
    assert main(["runs", "delete", "10-00-00-000000_jena_gru", "--root", str(elsewhere)]) == 0
    assert not run.exists() and (elsewhere / TRASH).is_dir()
    assert main(["runs", "restore", "10-00-00-000000_jena_gru", "--root", str(elsewhere)]) == 0
    assert (run / "metrics.json").exists()


def test_restore_refuses_a_place_taken_since(outputs, capsys):
    assert main(["runs", "delete", GRU]) == 0
    (outputs / GRU).mkdir(parents=True)
    (outputs / GRU / "train.log").write_text("a new run\n")
    err = refused(capsys, "restore", GRU)
    assert f"cannot restore {GRU}" in err and "is taken" in err
    assert (outputs / GRU / "train.log").read_text() == "a new run\n"  # nothing overwritten
    (entry,) = (outputs / TRASH).iterdir()
    assert (entry / "run" / "metrics.json").exists()  # the deleted run is still in the trash


def test_purge_deletes_the_trash_for_good_only_when_told(outputs, capsys):
    assert main(["runs", "delete", GRU, LSTM, f"outputs/{GRU}"]) == 0  # one run named twice: once
    old, new = sorted(
        (outputs / TRASH).iterdir(), key=lambda p: json.loads((p / INFO).read_text())["original"]
    )
    info = json.loads((old / INFO).read_text())
    long_ago = dt.datetime.now() - dt.timedelta(days=10)  # written by hand: no time zone
    (old / INFO).write_text(json.dumps({**info, "deleted": long_ago.isoformat()}))
    err = refused(capsys, "purge")  # not at a terminal: nobody to ask
    assert "--yes" in err and "2 trash entries" in err and old.exists() and new.exists()
    assert main(["runs", "purge", "--older-than", "7d", "--yes"]) == 0
    assert "1 trash entry" in capsys.readouterr().out
    assert not old.exists() and new.exists()
    assert main(["runs", "purge", "--yes"]) == 0
    assert not new.exists() and sorted(rows(capsys)) == []
    err = refused(capsys, "purge", "--older-than", "a week")
    assert "--older-than 'a week'" in err and "30d" in err


# ---- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "verb", [["tag", "+x"], ["note", "text"], ["archive"], ["unarchive"], ["delete"]], ids=lambda v: v[0]
)
def test_every_change_refuses_a_running_run(outputs, capsys, sleeper, verb):
    hold(outputs / GRU, sleeper.pid)
    before = files(outputs / GRU)
    name, *rest = verb
    err = (
        refused(capsys, name, LSTM, GRU, *rest)
        if name in ("tag", "archive", "unarchive", "delete")
        else (refused(capsys, name, GRU, *rest))
    )
    assert f"{GRU} is running (pid {sleeper.pid} on {socket.gethostname()} holds its run.lock" in err
    assert "Nothing was changed" in err
    assert files(outputs / GRU) == before and not (outputs / LSTM / LABELS).exists()
    assert (outputs / LSTM).exists() and not (outputs / TRASH).exists()


def test_a_lock_left_by_a_dead_process_does_not_refuse(outputs, capsys):
    dead = subprocess.Popen(["true"])
    dead.wait()
    hold(outputs / GRU, dead.pid)
    assert main(["runs", "tag", GRU, "+ok"]) == 0
    assert rows(capsys)[GRU]["tags"] == "baseline,ok" and not (outputs / GRU / LOCK).exists()


def test_unknown_runs_and_bad_arguments_are_refused_clearly(outputs, capsys):
    err = refused(capsys, "tag", "2026-01-09/nope", "+x")
    assert "no run '2026-01-09/nope'" in err and "seqexp runs outputs" in err
    assert not (outputs / GRU / LABELS).exists()
    (outputs / "notes").mkdir()
    assert "is not a run directory" in refused(capsys, "archive", "notes")
    err = refused(capsys, "tga", GRU, "+x")  # a mistyped verb is not taken for a folder
    assert "'tga' is neither a folder of runs nor a verb" in err and "tag, note" in err
    assert "give tags to add (+name) or remove (-name)" in refused(capsys, "tag", GRU)
    assert "'a,b'" in refused(capsys, "tag", GRU, "+a,b")
    assert "both added" in refused(capsys, "tag", GRU, "+a", "-a")
    assert "no trash entry 'nope'" in refused(capsys, "restore", "nope")
    assert main(["runs", "delete", GRU]) == 0
    (entry,) = (outputs / TRASH).iterdir()
    assert "is in the trash" in refused(capsys, "tag", str(entry / "run"), "+x")


def test_the_listing_keeps_its_own_arguments(outputs, capsys):
    """`seqexp runs DIR --filters` is as before; a folder named like a verb is listed as ./tag."""
    assert sorted(rows(capsys, "outputs", "--model", "gru")) == [GRU]
    (outputs / "tag" / "r").mkdir(parents=True)
    write_record(outputs / "tag" / "r", RunRecord(status=Status.COMPLETED))
    os.chdir(outputs)
    assert sorted(rows(capsys, "./tag")) == ["r"]


# ---- through the `seqexp` command, in processes -----------------------------------------------


@pytest.mark.slow
def test_a_run_locked_by_a_live_seqexp_process_is_refused_without_tensorflow(outputs):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys, time
            from seqexp.run.lock import acquire
            acquire({str(outputs / GRU)!r})
            print("held", flush=True)
            time.sleep(120)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    try:
        assert holder.stdout.readline() == "held\n"
        imported, out = imports_tensorflow("runs", "delete", GRU, cwd=outputs.parent)
        assert not imported and (outputs / GRU).exists()
    finally:
        holder.kill()
        holder.wait()
    imported, out = imports_tensorflow("runs", "delete", GRU, cwd=outputs.parent)
    assert not imported and "moved to" in out and not (outputs / GRU).exists()
    imported, out = imports_tensorflow("runs", "tag", LSTM, "+x", "-y", cwd=outputs.parent)
    assert not imported and "tags x" in out


# ---- code.patch -------------------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    """A git checkout, committed clean, as the working directory."""
    repo = tmp_path / "project"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "t")
    (repo / "model.py").write_text("units = 16\n" * 10)
    git(repo, "add", "model.py")
    git(repo, "commit", "-qm", "first")
    monkeypatch.chdir(repo)
    return repo


def test_a_dirty_checkout_keeps_its_diff_as_code_patch(repo, tmp_path, monkeypatch):
    (repo / "model.py").write_text("units = 32\n" + "units = 16\n" * 9)
    (repo / "notes.txt").write_text("untracked\n")
    run_dir = tmp_path / "run"
    env = keep_patch(run_dir, {"git": git_here()})
    assert env["git"]["dirty"] is True and env["git"]["patch"] == PATCH
    patch = (run_dir / PATCH).read_bytes()
    assert b"-units = 16\n+units = 32\n" in patch and b"notes.txt" not in patch
    assert env["git"]["patch_bytes"] == len(patch) and env["git"]["patch_cut"] is False
    assert env["git"]["untracked"] == ["notes.txt"] and env["git"]["untracked_count"] == 1
    (repo / "data").mkdir()
    (repo / "data" / "big.csv").write_text("1,2\n")
    (repo / ".gitignore").write_text("outputs/\n")
    (repo / "outputs").mkdir()
    (repo / "outputs" / "x.json").write_text("{}")
    monkeypatch.chdir(repo / "data")  # deeper in the checkout: still the whole checkout's
    later = keep_patch(tmp_path / "run2", {"git": git_here()})["git"]
    assert later["untracked"] == [".gitignore", "data/", "notes.txt"] and later["untracked_count"] == 3
    # `git apply` puts the change back onto the recorded commit
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    git(clone, "checkout", "-q", env["git"]["commit"])
    git(clone, "apply", str(run_dir / PATCH))
    assert (clone / "model.py").read_text() == (repo / "model.py").read_text()


def test_a_big_diff_is_cut_at_the_bound_and_env_json_says_so(repo, tmp_path):
    (repo / "model.py").write_text("".join(f"units = {i}\n" for i in range(5000)))
    env = keep_patch(tmp_path / "run", {"git": git_here()}, limit=4096)
    patch = (tmp_path / "run" / PATCH).read_bytes()
    assert 4000 < len(patch) <= 4096 and patch.endswith(b"\n")  # whole lines, within the bound
    assert env["git"]["patch_cut"] is True and env["git"]["patch_limit_bytes"] == 4096
    assert env["git"]["patch_bytes"] == len(patch)


def test_a_clean_checkout_writes_no_patch(repo, tmp_path):
    env = keep_patch(tmp_path / "run", {"git": git_here()})
    assert env["git"]["dirty"] is False and "patch" not in env["git"]
    assert not (tmp_path / "run" / PATCH).exists()


def test_training_from_a_dirty_checkout_saves_code_patch(repo, tmp_path, jena_csv):
    from seqexp.run.train import train
    from tests.conftest import TINY_JENA, compose_train

    (repo / "model.py").write_text("units = 8\n")
    run_dir = tmp_path / "run"
    train(compose_train(run_dir, f"data.path={jena_csv}", *TINY_JENA, "experiment=jena_naive"))
    env = json.loads((run_dir / "env.json").read_text())
    assert env["git"]["patch"] == PATCH and env["git"]["checkout"] == "cwd"
    assert b"+units = 8\n" in (run_dir / PATCH).read_bytes()


def test_diff_shows_the_tags_and_note_set_after_the_run(outputs, capsys):
    assert main(["runs", "tag", GRU, "+best"]) == 0
    assert main(["runs", "note", GRU, "kept"]) == 0
    capsys.readouterr()
    assert main(["diff", str(outputs / GRU), str(outputs / LSTM), "--format", "json"]) == 0
    metrics = {row["key"]: (row["a"], row["b"]) for row in json.loads(capsys.readouterr().out)["metrics"]}
    assert metrics["tags"] == ("baseline,best", None) and metrics["note"] == ("kept", None)
