"""data=headlines: NYT Articles*.csv fixtures in the real column layout, prefixes by hand."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from seqexp.data.headlines import load_headlines
from seqexp.errors import SeqexpError
from seqexp.text.vocabulary import clean
from tests.conftest import PROJECT_ROOT, SHARED_DATA, option_values

REAL_FILE = SHARED_DATA / "nyt-headlines" / "ArticlesApril2018.csv"
COLUMNS = [
    "articleID",
    "articleWordCount",
    "byline",
    "documentType",
    "headline",
    "keywords",
    "multimedia",
    "newDesk",
    "printPage",
    "pubDate",
    "sectionName",
    "snippet",
    "source",
    "typeOfMaterial",
    "webURL",
]


def headlines(path=None, **overrides):
    """load_headlines with conf/data/headlines.yaml's values (no vocabulary file written)."""
    path = None if path is None else str(path)
    return load_headlines(
        **option_values("data", "headlines", **{"vocabulary_file": None, "path": path, **overrides})
    )


def write_articles(path: Path, headlines, snippets=None) -> Path:
    """An Articles*.csv with the Kaggle file's 15 columns; fields with commas and quotes quoted."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for i, headline in enumerate(headlines):
            row = dict.fromkeys(COLUMNS, "Unknown")
            row.update(
                articleID=f"5adf{i:020x}",
                articleWordCount=str(100 + i),
                headline=headline,
                keywords="['Dogs', 'Cats, Domestic']",
                snippet=(snippets or {}).get(i, f"“A snippet,” number {i}."),
            )
            writer.writerow([row[c] for c in COLUMNS])
    return path


# Three kept headlines (plus the NYT placeholder), prefixes worked out by hand:
# cleaned: "cats chase dogs" / "dogs chase cats  again" / "caf dogs"
# counts dogs 3, cats 2, chase 2, again 1, caf 1 -> ["", dogs, cats, chase, again, caf]
# sequences [2, 3, 1], [1, 3, 2, 4], [5, 1]
THREE = ["Cats Chase Dogs", "Unknown", "Dogs chase cats — again!", "Café: Dogs"]
VOCAB = ["", "dogs", "cats", "chase", "again", "caf"]
INPUTS = [[0, 0, 2], [0, 2, 3], [0, 0, 1], [0, 1, 3], [1, 3, 2], [0, 0, 5]]
TARGETS = [3, 1, 3, 2, 4, 1]


def all_batches(dataset):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in dataset], strict=True)
    return np.concatenate(xs), np.concatenate(ys)


def test_prefixes_front_padding_and_sparse_targets_by_hand(tmp_path):
    csv_path = write_articles(tmp_path / "ArticlesJan2017.csv", THREE)
    bundle = headlines(csv_path, batch_size=4, vocabulary_file=str(tmp_path / "run" / "vocabulary.json"))
    spec = bundle.spec
    assert spec.task == "next_token" and spec.input_kind == "tokens"
    assert spec.vocabulary == VOCAB and spec.vocab_size == 6 and spec.input_shape == (3,)
    x, y = all_batches(bundle.test)  # the test split is the training samples, in order
    assert x.dtype == np.int32 and y.dtype == np.int32
    assert x.tolist() == INPUTS
    assert y.shape == (6,) and y.tolist() == TARGETS  # class indices, not one-hot rows
    assert bundle.val is None
    x_train, y_train = all_batches(bundle.train)  # shuffled: same samples, other order
    assert sorted(zip(map(tuple, x_train.tolist()), y_train.tolist(), strict=True)) == sorted(
        zip(map(tuple, INPUTS), TARGETS, strict=True)
    )
    assert spec.info | {"files": None} == {
        "files": None,
        "column": "headline",
        "headlines": 4,
        "kept": 3,
        "vocab_size": 6,
        "longest": 4,
        "input_length": 3,
        "samples": 6,
        "split_samples": {"train": 6},
        "test_split": "train",
    }
    saved = json.loads((tmp_path / "run" / "vocabulary.json").read_text(encoding="utf-8"))
    assert saved["tokens"] == VOCAB and saved["input_length"] == 3
    assert saved["preprocessing"] == {"fold_ascii": True, "strip_punctuation": True, "lowercase": True}


def test_max_length_keeps_the_last_tokens(tmp_path):
    csv_path = write_articles(tmp_path / "ArticlesJan2017.csv", THREE)
    bundle = headlines(csv_path, max_length=3)
    x, y = all_batches(bundle.test)
    assert x.tolist() == [[0, 2], [2, 3], [0, 1], [1, 3], [3, 2], [0, 5]]
    assert y.tolist() == TARGETS and bundle.spec.info["longest"] == 4


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, "cats chase dogs  again caf"),
        ({"fold_ascii": False}, "cats chase dogs  again café"),  # the dash is punctuation too
        ({"strip_punctuation": False}, "cats chase dogs  again! caf:"),
        ({"lowercase": False}, "Cats chase dogs  again Caf"),
        ({"fold_ascii": False, "strip_punctuation": False}, "cats chase dogs — again! café:"),
    ],
)
def test_each_preprocessing_step_is_an_option(options, expected):
    assert clean("Cats chase dogs — again! Café:", **options) == expected


def test_ascii_folding_off_keeps_korean_intact(tmp_path):
    korean = ["경마장에 있는 말이 뛰고 있다", "그의 말이 법이다", "가는 말이 고와야 오는 말이 곱다"]
    csv_path = write_articles(tmp_path / "ArticlesKo.csv", korean)
    spec = headlines(csv_path, fold_ascii=False).spec
    assert spec.vocab_size == 12 and spec.info["samples"] == 11  # WD 11-1's numbers
    assert spec.vocabulary[:3] == ["", "말이", "경마장에"]
    with pytest.raises(SeqexpError, match="no sample.*fold_ascii=false"):
        headlines(csv_path)  # folded to ASCII nothing is left


def test_a_folder_reads_every_articles_file_and_the_column_is_configurable(tmp_path):
    write_articles(tmp_path / "nyt" / "ArticlesFeb2017.csv", ["dogs bark"], {0: "a b c"})
    write_articles(tmp_path / "nyt" / "ArticlesJan2017.csv", ["cats purr loudly"], {0: "a b"})
    write_articles(tmp_path / "nyt" / "CommentsJan2017.csv", ["ignored words here"])
    spec = headlines(tmp_path / "nyt").spec
    assert [Path(f).name for f in spec.info["files"]] == ["ArticlesFeb2017.csv", "ArticlesJan2017.csv"]
    assert spec.info["samples"] == 1 + 2 and "ignored" not in spec.vocabulary
    snippets = headlines(tmp_path / "nyt", column="snippet").spec
    assert snippets.vocabulary == ["", "a", "b", "c"] and snippets.info["samples"] == 2 + 1


def test_validation_fraction_holds_out_whole_headlines(tmp_path):
    texts = [f"w{i} shared word{i} tail" for i in range(10)]
    csv_path = write_articles(tmp_path / "ArticlesJan2017.csv", texts)
    bundle = headlines(csv_path, val_fraction=0.2, seed=3)
    info = bundle.spec.info
    assert info["split_samples"] == {"train": 8 * 3, "val": 2 * 3} and info["test_split"] == "val"
    x_val, y_val = all_batches(bundle.val)
    x_train, _ = all_batches(bundle.train)
    first_word = {row[row > 0][0] for row in x_val}  # each headline starts with its own word
    assert len(first_word) == 2 and first_word.isdisjoint({row[row > 0][0] for row in x_train})
    assert x_val.shape == (6, 3) and y_val.shape == (6,)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"path": None}, r"needs data.path.*Kaggle.*nyt-comments"),
        ({"path": "gone/ArticlesMay2017.csv"}, r"gone/ArticlesMay2017.csv does not exist.*Kaggle"),
        ({"path": "."}, r"folder without any Articles\*.csv"),
        ({"column": "title"}, r"data.column='title' is not a column.*'headline'"),
        ({"val_fraction": 1.5}, r"data.val_fraction=1.5 must be a number strictly between 0 and 1, or null"),
        ({"max_length": 1}, r"data.max_length=1"),
    ],
)
def test_user_mistakes_are_named(tmp_path, monkeypatch, kwargs, message):
    monkeypatch.chdir(tmp_path)
    write_articles(tmp_path / "sub" / "ArticlesJan2017.csv", THREE)
    with pytest.raises(SeqexpError, match=message):
        headlines(**{"path": "sub/ArticlesJan2017.csv", **kwargs})


def test_perplexity_is_exp_of_mean_cross_entropy():
    from seqexp.models.metrics import Perplexity

    metric = Perplexity()
    probs = np.array([[0.1, 0.6, 0.3], [0.2, 0.2, 0.6]], dtype="float32")
    metric.update_state(np.array([1, 0]), probs)
    assert metric.name == "perplexity"
    assert float(metric.result()) == pytest.approx(math.exp(-(math.log(0.6) + math.log(0.2)) / 2), rel=1e-5)


def test_metric_names_resolve_for_compile_and_monitor():
    from seqexp.models.heads import TASK_HEADS
    from seqexp.models.metrics import Perplexity, resolve

    assert TASK_HEADS["next_token"][2] == ["accuracy", "perplexity"]
    accuracy, perplexity = resolve(["accuracy", "perplexity"])
    assert accuracy == "accuracy" and isinstance(perplexity, Perplexity)
    assert perplexity.name == "perplexity"


def test_text_lstm_preset_builds_embedding_lstm_softmax(tmp_path, make_cfg):
    from hydra.utils import instantiate

    csv_path = write_articles(tmp_path / "ArticlesJan2017.csv", THREE)
    cfg = make_cfg("data=headlines", f"data.path={csv_path}", "model=text_lstm")
    spec = instantiate(cfg.data).spec
    model = instantiate(cfg.model)(spec)
    embedding, head = model.get_layer("embedding"), model.get_layer("head")
    [lstm] = [layer for layer in model.layers if type(layer).__name__ == "LSTM"]
    assert (embedding.input_dim, embedding.output_dim) == (6, 10)
    assert lstm.units == 128
    assert head.units == 6 and head.activation.__name__ == "softmax"
    assert model.output_shape == (None, 6)


def test_training_with_a_validation_fraction_logs_validation_perplexity(tmp_path, make_cfg):
    from seqexp.run.train import train

    texts = [f"w{i} shared word{i} tail" for i in range(10)]
    csv_path = write_articles(tmp_path / "ArticlesJan2017.csv", texts)
    run = tmp_path / "run"
    train(
        make_cfg(
            "data=headlines",
            f"data.path={csv_path}",
            "data.val_fraction=0.2",
            "model=text_lstm",
            "model.units=[8]",
            "trainer.epochs=1",
            "data.sample_prompts=[w1,nothing]",
            "data.sample_words=2",
        )
    )
    header = (run / "history.csv").read_text().splitlines()[0].split(",")
    assert {"perplexity", "val_loss", "val_perplexity", "val_accuracy"} <= set(header)
    report = json.loads((run / "metrics.json").read_text())
    assert report["monitor"] == "val_loss" and report["data_info"]["test_split"] == "val"
    assert "val_perplexity" in report["best"] and "perplexity" in report["test"]
    # an unknown sample prompt does not fail the run: samples.txt says why it stays as it is
    samples = (run / "samples.txt").read_text().splitlines()
    assert len(samples) == 2 and samples[0].startswith("w1 ") and len(samples[0].split()) == 3
    assert samples[1] == "# prompt 'nothing': not in the vocabulary: nothing (nothing to continue)"


def test_monitoring_perplexity_picks_the_lowest_epoch(tmp_path, make_cfg):
    """Keras cannot tell which way perplexity improves; seqexp settles mode=auto to min."""
    from seqexp.run.train import train

    csv_path = write_articles(tmp_path / "ArticlesJan2017.csv", [f"w{i} a b c" for i in range(10)])
    best = train(
        make_cfg(
            "data=headlines",
            f"data.path={csv_path}",
            "model=text_lstm",
            "model.units=[8]",
            "trainer.epochs=3",
            "trainer.monitor=perplexity",
            "optimizer=adam",
            "optimizer.learning_rate=0.05",
        )
    )
    report = json.loads((tmp_path / "run" / "metrics.json").read_text())
    rows = (tmp_path / "run" / "history.csv").read_text().splitlines()[1:]
    values = [float(row.split(",")[3]) for row in rows]  # the perplexity column
    assert report["monitor"] == "perplexity" and best == pytest.approx(min(values))
    assert report["best_epoch"] == values.index(min(values)) + 1


RECURRENT = sorted(
    p.stem for p in (PROJECT_ROOT / "conf" / "model").glob("*.yaml") if "build_recurrent" in p.read_text()
)


@pytest.mark.parametrize("model", RECURRENT)
def test_every_recurrent_model_takes_the_next_token_task(tmp_path, make_cfg, model):
    from hydra.utils import instantiate

    csv_path = write_articles(tmp_path / "ArticlesJan2017.csv", THREE)
    cfg = make_cfg("data=headlines", f"data.path={csv_path}", f"model={model}")
    bundle = instantiate(cfg.data)
    net = instantiate(cfg.model)(bundle.spec)
    x, _ = next(iter(bundle.test))
    probs = net(x).numpy()
    assert probs.shape == (6, 6) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.skipif(
    not REAL_FILE.exists(),
    reason=f"real NYT file not found at {REAL_FILE} (../shared/data is only on the project's machines)",
)
def test_real_april_2018_numbers_in_log_and_metrics(tmp_path, make_cfg):
    from seqexp.run.train import train

    run = tmp_path / "run"
    train(
        make_cfg(
            "experiment=headlines_text_lstm",
            f"data.path={REAL_FILE}",
            "trainer.epochs=1",
            "trainer.steps_per_epoch=2",
            "trainer.test_steps=2",
            "data.sample_prompts=[i]",
            "data.sample_words=3",
            run_dir=run,
        )
    )
    report = json.loads((run / "metrics.json").read_text())
    info = report["data_info"]
    assert {"loss", "accuracy", "perplexity"} <= set(report["best"]) and report["monitor"] == "loss"
    assert (info["headlines"], info["kept"], info["vocab_size"], info["longest"], info["samples"]) == (
        1324,
        1214,
        3494,
        24,
        7803,
    )
    log = (run / "train.log").read_text()
    assert (
        "1,324 headlines in 1 file(s), 1,214 kept after dropping ['Unknown']; vocabulary "
        "3,494 (with padding); longest 24 tokens; 7,803 samples"
    ) in log
    assert "monitor loss instead of val_loss" not in log  # the preset monitors loss itself
    vocabulary = json.loads((run / "vocabulary.json").read_text())["tokens"]
    assert len(vocabulary) == 3494 and vocabulary[:4] == ["", "the", "a", "to"]
    samples = (run / "samples.txt").read_text().splitlines()
    assert len(samples) == 1 and samples[0].startswith("i ") and len(samples[0].split()) == 4
