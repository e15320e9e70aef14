"""seqexp generate: WD 11-1's memorisation check through the CLI, sampling, prompts, errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from seqexp.config import CONF_DIR
from seqexp.errors import SeqexpError
from seqexp.text.generate import generate, pick_next
from tests.conftest import PROJECT_ROOT, compose_train
from tests.data.test_headlines import write_articles

KOREAN = ["경마장에 있는 말이 뛰고 있다", "그의 말이 법이다", "가는 말이 고와야 오는 말이 곱다"]
SEQEXP = Path(sys.executable).parent / "seqexp"


def compose_generate(*overrides: str):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose("generate", overrides=list(overrides))


def seqexp(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SEQEXP), *args], capture_output=True, text=True, timeout=600, cwd=PROJECT_ROOT)


@pytest.fixture(scope="module")
def korean_run(tmp_path_factory) -> Path:
    """WD 11-1: the three Korean sentences, ASCII folding off, a small RNN, 200 quick steps."""
    from seqexp.run.train import train

    root = tmp_path_factory.mktemp("korean")
    data = write_articles(root / "ArticlesKo.csv", KOREAN)
    run = root / "run"
    train(
        compose_train(
            run,
            "data=headlines",
            f"data.path={data}",
            "data.fold_ascii=false",
            "data.sample_prompts=['경마장에','그의']",
            "data.sample_words=4",
            "model=simple_rnn",
            "model.embedding.dim=10",
            "optimizer=adam",
            "optimizer.learning_rate=0.01",
            "trainer.batch_size=11",
            "trainer.epochs=4",
            "trainer.steps_per_epoch=50",
            "callbacks.early_stopping.enabled=false",
        )
    )
    return run


@pytest.mark.slow
def test_korean_memorisation_through_seqexp_generate(korean_run):
    result = seqexp("generate", str(korean_run), "prompt='경마장에'", "words=4")  # the run dir first
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "경마장에 있는 말이 뛰고 있다"
    # the run itself: training metrics include perplexity, samples.txt holds the configured prompts
    history = (korean_run / "history.csv").read_text().splitlines()
    assert history[0].split(",")[:3] == ["epoch", "accuracy", "loss"] and "perplexity" in history[0]
    samples = (korean_run / "samples.txt").read_text(encoding="utf-8").splitlines()
    assert samples[0] == "경마장에 있는 말이 뛰고 있다"
    assert samples[1].startswith("그의 말이 법이다")
    report = json.loads((korean_run / "metrics.json").read_text())
    assert report["extras"]["samples"]["경마장에"] == "경마장에 있는 말이 뛰고 있다"
    assert report["best"]["perplexity"] < 1.1 and report["data_info"]["vocab_size"] == 12
    assert ("no validation split: checkpoint and early stopping monitor loss instead of val_loss") in (
        korean_run / "train.log"
    ).read_text(encoding="utf-8")


def test_several_prompts_and_unknown_words_are_reported(korean_run, capsys):
    results = generate(compose_generate(f"run={korean_run}", "prompt=['그의 망아지', '경마장에']", "words=2"))
    out = capsys.readouterr().out.splitlines()
    assert [r.text for r in results] == ["그의 말이 법이다", "경마장에 있는 말이"]
    assert results[0].unknown == ["망아지"]
    assert out == [
        "# prompt '그의 망아지': not in the vocabulary: 망아지 (continued from '그의')",
        "그의 말이 법이다",
        "경마장에 있는 말이",
    ]


def test_sampling_is_seeded_and_top_k_1_is_greedy(korean_run, capsys):
    def text(*overrides):
        return generate(compose_generate(f"run={korean_run}", "prompt='가는'", "words=5", *overrides))[0].text

    greedy = text()
    assert greedy == "가는 말이 고와야 오는 말이 곱다"
    assert text("top_k=1", "temperature=2.0", "seed=4") == greedy
    hot = [text("temperature=50.0", f"seed={seed}") for seed in (1, 1, 2)]
    assert hot[0] == hot[1] and len(hot[0].split()) == 6
    assert len({*hot, greedy}) > 1  # a very high temperature leaves the memorised path


def test_pick_next_never_picks_padding_and_samples_within_top_k():
    probs = np.array([[0.9, 0.05, 0.03, 0.02], [0.5, 0.1, 0.05, 0.35]])
    assert pick_next(probs, 0.0, None, None).tolist() == [1, 3]
    rng = np.random.default_rng(0)
    picks = np.concatenate([pick_next(probs, 1.0, 2, rng) for _ in range(200)])
    assert set(picks[0::2]) == {1, 2} and set(picks[1::2]) == {1, 3}
    # a temperature near 0 is greedy, not nan probabilities (log p / 1e-320 overflows to -inf)
    assert pick_next(probs, 1e-320, None, rng).tolist() == [1, 3]


def test_a_run_without_a_text_model_fails_clearly_through_the_cli(tmp_path):
    run = tmp_path / "jena_run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "best.keras").write_bytes(b"")
    (run / "metrics.json").write_text(json.dumps({"data": "jena", "model": "gru", "task": "regression"}))
    result = seqexp("generate", f"run={run}", "prompt=how")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert (
        f"seqexp: error: run={run} holds no text model (a data=jena / model=gru run (task "
        "regression)): it has no vocabulary.json"
    ) in result.stderr


def test_a_missing_checkpoint_fails_clearly(korean_run, tmp_path):
    run = tmp_path / "interrupted"
    run.mkdir()
    shutil.copy(korean_run / "vocabulary.json", run)
    with pytest.raises(
        SeqexpError,
        match=r"has no checkpoint at .*checkpoints/best.keras.*"
        r"callbacks.checkpoint.enabled=false",
    ):
        generate(compose_generate(f"run={run}", "prompt=x"))


def test_a_checkpoint_of_another_vocabulary_is_refused(korean_run, tmp_path):
    run = tmp_path / "mixed"
    shutil.copytree(korean_run / "checkpoints", run / "checkpoints")
    saved = json.loads((korean_run / "vocabulary.json").read_text())
    saved["tokens"] = saved["tokens"][:5]
    (run / "vocabulary.json").write_text(json.dumps(saved))
    with pytest.raises(SeqexpError, match="not a next-word model over the run's 5-word vocab"):
        generate(compose_generate(f"run={run}", "prompt='경마장에'"))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ([], r"needs a run directory, as its first argument: `seqexp generate <run dir> prompt=how"),
        (["run=nowhere/run"], r"run=nowhere/run is not a directory"),
        (["run=RUN", "prompt=null"], r"needs prompt=\.\.\."),
        (["run=RUN", "words=0"], r"words=0 must be a whole number from 1 to 1000"),
        (["run=RUN", "temperature=-1"], r"temperature=-1 must be 0"),
        (["run=RUN", "temperature=nan"], r"temperature=nan must be 0 \(greedy\) or a positive finite"),
        (["run=RUN", "temperature=inf"], r"temperature=inf must be 0 \(greedy\) or a positive finite"),
        (["run=RUN", "temperature=-inf"], r"temperature=-inf must be 0"),
        (["run=RUN", "temperature=true"], r"temperature=True must be 0"),
        (["run=RUN", "words=true"], r"words=True must be a whole number"),
        (["run=RUN", "top_k=true"], r"top_k=True must be null"),
        (["run=RUN", "top_k=0"], r"top_k=0 must be null"),
        (["run=RUN", "prompt='how'"], r"No word of prompt\(s\) \['how'\] is in the vocabulary"),
    ],
)
def test_option_mistakes_are_named(korean_run, overrides, message):
    defaults = {"prompt": "prompt='경마장에'"}
    overrides = [o.replace("RUN", str(korean_run)) for o in overrides]
    if not any(o.startswith("prompt=") for o in overrides):
        overrides.append(defaults["prompt"])
    with pytest.raises(SeqexpError, match=message):
        generate(compose_generate(*overrides))
