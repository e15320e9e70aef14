"""Token-input models: every IMDB preset builds the reference architecture (parameter counts of
DLwP / HG), GloVe rows land at the right indices, frozen embeddings stay frozen, one-hot input,
models that cannot take tokens are refused before data, and every preset trains a short epoch."""

from __future__ import annotations

import json
import zipfile

import keras
import numpy as np
import pytest
from hydra.utils import instantiate

from seqexp.data.download import sha256_of
from seqexp.data.spec import DataSpec
from seqexp.errors import SeqexpError
from seqexp.models.glove import glove_matrix
from seqexp.run.train import train
from tests.conftest import option_target, option_values
from tests.data.imdb_files import (
    SHARED_IMDB,
    write_glove,
    write_sentiment_npz,
    write_toy_aclimdb,
)

SHORT = [
    "trainer.epochs=1",
    "trainer.steps_per_epoch=2",
    "trainer.validation_steps=2",
    "trainer.test_steps=2",
]
# experiment -> total parameters of the reference model (the books' model.summary())
PRESETS = {
    "imdb_embedding_flatten": 80_161,  # DLwP 6.1.2
    "imdb_simple_rnn": 322_113,  # DLwP 6.2
    "imdb_lstm": 328_353,  # DLwP 6.2.3
    "imdb_bidirectional": 336_705,  # Embedding 320,000 + 2 x LSTM(32) 8,320 + Dense 65
    "imdb_conv1d": 1_315_937,  # DLwP 6.4.2
    "hg_imdb_onehot_rnn": 4_081,  # HG 9-2: SimpleRNN(8) on 500-wide one-hot 4,072 + 9
    "hg_imdb_embedding_rnn": 8_209,
    "hg_imdb_lstm": 8_809,
    "hg_imdb_lstm_dropout": 8_809,
    "hg_imdb_lstm_stacked": 9_353,
    "hg_imdb_gru": 8_633,
    "imdb_raw_scratch": 1_320_065,  # DLwP 6.1.3
    "imdb_raw_glove": 1_320_065,  # the same, 1,000,000 of them frozen
}
VOCAB = ["", "[UNK]", "good", "bad", "movie", "zzz"]
GLOVE = {"the": [9, 9, 9], "good": [0.5, 1.0, -1.0], "movie": [0.25, 0.0, 2.0], "plot": [1, 1, 1]}


def token_spec(vocab_size=6, maxlen=7, vocabulary=None) -> DataSpec:  # 6 = len(VOCAB)
    return DataSpec(
        task="binary",
        input_kind="tokens",
        input_shape=(maxlen,),
        vocab_size=vocab_size,
        vocabulary=vocabulary,
    )


def spec_of(cfg) -> DataSpec:
    """The spec the preset's data would give, without reading any data."""
    vocab = cfg.data.num_words if "num_words" in cfg.data else cfg.data.max_tokens
    return token_spec(vocab, cfg.data.maxlen, vocabulary=[f"w{i}" for i in range(vocab)])


def built(option: str, spec, embedding: dict | None = None, **values):
    """The builder of conf/model/<option>.yaml on `spec`, with its YAML values, `values` and the
    `embedding` keys given on top."""
    options = option_values("model", option, **values)
    options["embedding"] = {**options["embedding"], **(embedding or {})}
    return option_target("model", option)(spec, **options)


def dense(spec, **values):
    return built("dense", spec, **values)


@pytest.fixture
def glove_file(tmp_path):
    return write_glove(tmp_path / "glove.test.3d.txt", GLOVE)


@pytest.mark.parametrize(("experiment", "params"), PRESETS.items())
def test_presets_build_the_reference_architecture(make_cfg, glove_file, tmp_path, experiment, params):
    glove = write_glove(tmp_path / "glove100.txt", {"w5": list(np.linspace(-1, 1, 100))})
    cfg = make_cfg(
        f"experiment={experiment}",
        f"model.embedding.pretrained={glove}" if experiment == "imdb_raw_glove" else "trainer.seed=0",
    )
    model = instantiate(cfg.model)(spec_of(cfg))
    assert model.count_params() == params
    assert model.layers[-1].activation.__name__ == "sigmoid" and model.output_shape == (None, 1)
    frozen = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    assert frozen == (1_000_000 if experiment == "imdb_raw_glove" else 0)


def test_glove_rows_land_at_the_vocabulary_indices(glove_file):
    matrix, facts = glove_matrix(str(glove_file), VOCAB)
    expected = np.zeros((6, 3), dtype=np.float32)
    expected[2] = GLOVE["good"]
    expected[4] = GLOVE["movie"]
    np.testing.assert_allclose(matrix, expected)
    assert facts["vocabulary_words"] == 4 and facts["covered_words"] == 2
    assert facts["coverage"] == 0.5 and facts["missing_examples"] == ["bad", "zzz"]


def test_glove_from_a_zip_and_in_the_embedding_layer(tmp_path):
    archive = write_glove(tmp_path / "glove.zip", GLOVE, as_zip_member="glove.test.3d.txt")
    model = dense(
        token_spec(vocabulary=VOCAB),
        units=[],
        embedding={"dim": 3, "pretrained": str(archive), "trainable": False},
    )
    weights = model.get_layer("embedding").get_weights()[0]
    np.testing.assert_allclose(weights[[2, 4]], [GLOVE["good"], GLOVE["movie"]])
    assert not weights[[0, 1, 3, 5]].any()
    assert model.get_layer("embedding").trainable is False


@pytest.mark.parametrize(
    ("embedding", "vocabulary", "message"),
    [
        ({"dim": 50}, VOCAB, "model.embedding.dim=50 does not match the 3-dimensional vectors"),
        ({"dim": 3}, None, "needs the words behind the token ids"),
        ({"dim": 3, "one_hot": True}, VOCAB, "one_hot=true excludes model.embedding.pretrained="),
        ({"dim": 3, "mask": True}, VOCAB, r"model.embedding.mask=true is not a key of model.embedding"),
    ],
)
def test_bad_embedding_settings_are_explained(glove_file, embedding, vocabulary, message):
    with pytest.raises(SeqexpError, match=message):
        dense(
            token_spec(vocabulary=vocabulary),
            units=[],
            embedding={"pretrained": str(glove_file), **embedding},
        )


def test_glove_by_name_reads_its_member_from_the_cached_glove_6b_zip(tmp_path, monkeypatch):
    import seqexp.models.glove as glove

    archive = tmp_path / "glove.6B.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("glove.6B.50d.txt", "good 1 2\n")
        zf.writestr("glove.6B.100d.txt", "".join(f"{w} {' '.join(map(str, v))}\n" for w, v in GLOVE.items()))
    # the real archive's pinned size and sha256, swapped for the fixture's
    monkeypatch.setattr(glove, "GLOVE_6B_SHA256", sha256_of(archive))
    monkeypatch.setattr(glove, "GLOVE_6B_SIZE", archive.stat().st_size)
    monkeypatch.setenv("SEQEXP_CACHE_DIR", str(tmp_path))
    matrix, facts = glove_matrix("glove.6B.100d", VOCAB)
    assert facts["source"] == f"{archive}:glove.6B.100d.txt" and facts["covered_words"] == 2
    np.testing.assert_allclose(matrix[4], GLOVE["movie"])
    # paths.cache_dir (model.embedding.cache_dir) wins over the environment
    monkeypatch.setenv("SEQEXP_CACHE_DIR", str(tmp_path / "elsewhere"))
    _, facts = glove_matrix("glove.6B.100d", VOCAB, cache_dir=str(tmp_path))
    assert facts["source"] == f"{archive}:glove.6B.100d.txt"


def test_missing_glove_file_names_the_choices(tmp_path):
    with pytest.raises(SeqexpError, match="glove.6B.50d / 100d / 200d / 300d"):
        dense(
            token_spec(vocabulary=VOCAB),
            units=[],
            embedding={"dim": 3, "pretrained": str(tmp_path / "glove.txt")},
        )


@pytest.mark.parametrize("trainable", [False, True])
def test_frozen_glove_stays_put_and_trainable_glove_moves(glove_file, trainable):
    keras.utils.set_random_seed(0)
    model = dense(
        token_spec(vocabulary=VOCAB),
        units=[4],
        embedding={"dim": 3, "pretrained": str(glove_file), "trainable": trainable},
    )
    model.compile(optimizer=keras.optimizers.RMSprop(0.05), loss="binary_crossentropy")
    before = model.get_layer("embedding").get_weights()[0].copy()
    x = np.tile(np.array([[2, 4, 3, 5, 2, 1, 0]]), (16, 1))
    y = np.tile([1.0, 0.0], 8)
    x[1::2] = [[3, 3, 5, 1, 0, 4, 2]]
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    after = model.get_layer("embedding").get_weights()[0]
    assert np.array_equal(before, after) is (not trainable)
    assert len(model.non_trainable_weights) == (0 if trainable else 1)


def test_one_hot_input_as_in_hg():
    model = built(
        "simple_rnn",
        token_spec(vocab_size=500, maxlen=100),
        units=[8],
        embedding={"dim": 16, "one_hot": True},
    )
    assert model.layers[1].name == "one_hot" and model.layers[1].output.shape == (None, 100, 500)
    vectors = model.layers[1](np.array([[0, 3, 499]]))
    np.testing.assert_array_equal(np.argmax(vectors, axis=-1), [[0, 3, 499]])
    assert float(np.sum(vectors)) == 3.0 and model.count_params() == 4_081


@pytest.mark.parametrize("model", ["naive", "cnn"])
def test_models_that_cannot_take_tokens_are_refused_before_data(make_cfg, tmp_path, model):
    missing = tmp_path / "never-read.npz"
    # in-process runs are named after the builders (build_naive, load_imdb)
    with pytest.raises(SeqexpError, match=rf"model=(build_)?{model} cannot take the tokens input"):
        train(make_cfg("data=imdb", f"data.path={missing}", f"model={model}", *SHORT))
    assert not missing.exists()


@pytest.fixture(scope="module")
def imdb_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("imdb")
    npz = write_sentiment_npz(folder)
    acl = write_toy_aclimdb(folder, n=12, n_test=4)
    glove = write_glove(
        folder / "glove.test.100d.txt",
        {
            w: list(np.linspace(-1, 1, 100) * (i + 1))
            for i, w in enumerate(["this", "was", "great", "awful", "the", "end", "nothere"])
        },
    )
    return {"npz": npz, "acl": acl, "glove": glove}


# One preset per kind of input layer runs in the fast suite; the other recurrent presets differ
# from these only in cell and sizes (checked by the parameter counts) and are marked slow.
FAST = {"imdb_embedding_flatten", "imdb_conv1d", "hg_imdb_onehot_rnn", "imdb_raw_glove"}


@pytest.mark.parametrize(
    "experiment",
    [name if name in FAST else pytest.param(name, marks=pytest.mark.slow) for name in PRESETS],
)
def test_every_imdb_preset_trains_a_short_epoch(make_cfg, tmp_path, imdb_files, experiment):
    run = tmp_path / "run"
    if experiment.startswith("imdb_raw"):
        data = [f"data.path={imdb_files['acl']}", "data.training_samples=8", "data.validation_samples=12"]
        if experiment == "imdb_raw_glove":
            data.append(f"model.embedding.pretrained={imdb_files['glove']}")
    else:
        # shorter reviews than the presets' 100 / 500 tokens keep this fast; the architecture at
        # full length is checked by the parameter counts above
        data = [f"data.path={imdb_files['npz']}", "data.maxlen=60"]
    value = train(make_cfg(f"experiment={experiment}", *data, *SHORT, run_dir=run))

    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["epochs_run"] == 1
    assert metrics["task"] == "binary" and 0.0 <= metrics["test"]["accuracy"] <= 1.0
    assert value == pytest.approx(metrics["best"][metrics["monitor"]])
    for name in (
        "train.log",
        "model_summary.txt",
        "history.csv",
        "loss.png",
        "accuracy.png",
        "checkpoints/best.keras",
    ):
        assert (run / name).is_file(), name
    assert len((run / "history.csv").read_text().splitlines()) == 2  # header + one epoch
    if experiment.startswith("imdb_raw"):
        vocabulary = (run / "vocabulary.txt").read_text(encoding="utf-8").split("\n")[:-1]
        assert metrics["extras"]["save_vocabulary"] == {"file": "vocabulary.txt", "size": len(vocabulary)}
        assert vocabulary[:2] == ["", "[UNK]"] and "great" in vocabulary
    if experiment == "imdb_raw_glove":
        glove = metrics["extras"]["glove_coverage"]
        assert glove["dim"] == 100 and glove["trainable"] is False
        assert glove["covered_words"] == 6 and glove["vocabulary_words"] == len(vocabulary) - 2
        assert (
            "GloVe" in (run / "train.log").read_text()
            and "covers 6 of the" in (run / "train.log").read_text()
        )


@pytest.mark.slow
@pytest.mark.skipif(
    not SHARED_IMDB.exists(),
    reason=f"the real IMDB subset is not here ({SHARED_IMDB}); a clone has no shared/",
)
def test_lstm_learns_on_the_real_subset(make_cfg, tmp_path):
    run = tmp_path / "run"
    best = train(
        make_cfg(
            "experiment=hg_imdb_lstm",
            f"data.path={SHARED_IMDB}",
            "optimizer.learning_rate=3e-3",
            "trainer.epochs=4",
            "trainer.monitor=val_accuracy",
            run_dir=run,
        )
    )
    metrics = json.loads((run / "metrics.json").read_text())
    assert best > 0.65, f"val accuracy {best:.3f} after 4 epochs: not clearly better than chance"
    assert metrics["test"]["accuracy"] > 0.6
