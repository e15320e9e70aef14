"""seqexp predict / export for imdb-raw, imdb, fashion-mnist and headlines runs trained here."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
from PIL import Image

from seqexp.data.fashion_mnist import read_idx
from seqexp.data.imdb import encode, pad
from seqexp.errors import SeqexpError
from seqexp.serve.export import export
from seqexp.serve.predict import predict
from tests.conftest import compose_train
from tests.data.imdb_files import write_sentiment_npz, write_toy_aclimdb
from tests.data.test_fashion_mnist import FILES, write_fashion
from tests.data.test_headlines import write_articles
from tests.serve.conftest import as_legacy
from tests.serve.test_jena import compose_cmd

# One module fixture trains four runs (imdb-raw builds a SavedModel): make test-slow.
pytestmark = pytest.mark.slow

SHORT = ["trainer.epochs=1", "trainer.steps_per_epoch=2", "trainer.validation_steps=2"]
TOLERANCE = 1e-5  # probabilities, float32 kernels of another runtime


def train_run(run, *overrides):
    from seqexp.run.train import train

    train(compose_train(run, *overrides, *SHORT))
    return run


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    fashion = root / "fashion"
    write_fashion(fashion)
    acl = write_toy_aclimdb(root, n=12, n_test=4)
    npz = write_sentiment_npz(root / "imdb")
    articles = write_articles(root / "Articles.csv", ["new york is big", "how to cook rice", "new york rain"])
    return {
        "fashion": train_run(root / "f", "data=fashion-mnist", "model=cnn", f"data.path={fashion}"),
        "fashion_files": fashion,
        "imdb_raw": train_run(
            root / "r",
            "experiment=imdb_raw_scratch",
            f"data.path={acl}",
            "data.training_samples=8",
            "data.validation_samples=12",
        ),
        "imdb": train_run(root / "i", "experiment=imdb_lstm", f"data.path={npz}", "data.maxlen=40"),
        "headlines": train_run(
            root / "h",
            "data=headlines",
            "model=simple_rnn",
            f"data.path={articles}",
            "data.sample_prompts=[]",
        ),
    }


def test_imdb_raw_predicts_reviews_and_its_savedmodel_takes_the_strings(runs, tmp_path):
    import keras
    import onnxruntime
    import tensorflow as tf

    from seqexp.data.imdb_raw import vectorize

    run = runs["imdb_raw"]
    reviews = tmp_path / "reviews.txt"
    texts = ["This movie was great, great!", "awful. AWFUL, the end", "great " * 150]
    reviews.write_text("\n".join(texts) + "\n\n")
    rows = predict(compose_cmd("predict", f"run={run}", f"input={reviews}", "lines=true"))
    assert [r["input"] for r in rows] == ["reviews.txt:1", "reviews.txt:2", "reviews.txt:3"]

    # by hand: the run's vocabulary, training's vectorize (pre-padding to 100), the checkpoint
    vocabulary = (run / "vocabulary.txt").read_text().split("\n")[:-1]
    vectorizer = keras.layers.TextVectorization(vocabulary=vocabulary, ragged=True)
    ids = vectorize(vectorizer, np.array(texts), 100, "pre", "pre")
    model = keras.models.load_model(run / "checkpoints" / "best.keras", compile=False)
    expected = model.predict(ids, verbose=0)[:, 0]
    np.testing.assert_allclose([r["p(pos)"] for r in rows], expected, atol=TOLERANCE)
    assert [r["label"] for r in rows] == ["pos" if p >= 0.5 else "neg" for p in expected]

    saved = export(compose_cmd("export", f"run={run}", "format=saved_model"))
    loaded = tf.saved_model.load(str(saved / "saved_model"))
    np.testing.assert_allclose(loaded.serve(tf.constant(texts)).numpy()[:, 0], expected, atol=TOLERANCE)
    onnx = export(compose_cmd("export", f"run={run}", "format=onnx"))
    session = onnxruntime.InferenceSession(str(onnx / "model.onnx"))
    out = session.run(None, {session.get_inputs()[0].name: ids})[0][:, 0]
    np.testing.assert_allclose(out, expected, atol=TOLERANCE)
    info = json.loads((onnx / "export.json").read_text())
    assert info["input"]["dtype"] == "int32" and info["input"]["shape"] == [None, 100]
    assert (onnx / "vocabulary.txt").read_text() == (run / "vocabulary.txt").read_text()
    assert json.loads((saved / "export.json").read_text())["input"]["dtype"] == "string"


def test_imdb_predicts_rank_lists_and_text_through_the_word_index(runs, tmp_path):
    import keras

    run = runs["imdb"]
    ranks = [[4, 5, 6, 30, 31], [10, 11, 12, 13, 90000]]
    (tmp_path / "ranks.json").write_text(json.dumps(ranks))
    (tmp_path / "review.txt").write_text("W4 w5, w6!\n")
    rows = predict(
        compose_cmd("predict", f"run={run}", f"input=[{tmp_path / 'ranks.json'},{tmp_path / 'review.txt'}]")
    )
    ids = pad(encode(ranks + [[4, 5, 6]], num_words=10000), maxlen=40)
    model = keras.models.load_model(run / "checkpoints" / "best.keras", compile=False)
    np.testing.assert_allclose(
        [r["p(positive)"] for r in rows], model.predict(ids, verbose=0)[:, 0], atol=TOLERANCE
    )
    assert [r["input"] for r in rows] == ["ranks.json[0]", "ranks.json[1]", "review.txt"]
    (tmp_path / "bad.json").write_text('{"review": [1, 2]}')
    with pytest.raises(SeqexpError, match=r"bad.json does not hold a JSON list of word-rank lists"):
        predict(compose_cmd("predict", f"run={run}", f"input={tmp_path / 'bad.json'}"))


def test_fashion_predicts_images_and_idx_files_and_exports_the_scaling(runs, tmp_path):
    import keras
    import onnxruntime
    from ai_edge_litert.interpreter import Interpreter

    run, folder = runs["fashion"], runs["fashion_files"]
    test_images = read_idx(folder / FILES["test_images"], ndim=3)[:3]
    Image.fromarray(test_images[0]).resize((56, 56)).save(tmp_path / "big.png")
    Image.fromarray(test_images[1]).save(tmp_path / "same.jpg", quality=100)
    idx = tmp_path / "three-idx3-ubyte.gz"
    idx.write_bytes(gzip.compress(gzip.decompress((folder / FILES["test_images"]).read_bytes())))
    rows = predict(compose_cmd("predict", f"run={run}", f"input=[{tmp_path / 'big.png'},{idx}]", "top_k=2"))
    model = keras.models.load_model(run / "checkpoints" / "best.keras", compile=False)
    grey = np.asarray(
        Image.open(tmp_path / "big.png").convert("L").resize((28, 28), Image.Resampling.BILINEAR)
    )
    all_images = read_idx(idx, ndim=3)
    pixels = np.concatenate([grey[None], all_images]).astype(np.float32)[..., None]
    probs = model.predict(pixels / 255.0, verbose=0)
    assert len(rows) == 2 * (1 + len(all_images)) and rows[0]["input"] == "big.png"
    names = json.loads((run / "serving.json").read_text())["class_names"]
    best = probs.argsort(axis=1, kind="stable")[:, ::-1]
    assert [r["class"] for r in rows[::2]] == [names[i] for i in best[:, 0]]
    np.testing.assert_allclose(
        [r["probability"] for r in rows[1::2]], probs[np.arange(len(probs)), best[:, 1]], atol=TOLERANCE
    )

    lite = export(compose_cmd("export", f"run={run}", "format=litert"))
    interpreter = Interpreter(model_path=str(lite / "model.tflite"))
    interpreter.allocate_tensors()
    (inp,), (outp,) = interpreter.get_input_details(), interpreter.get_output_details()
    interpreter.set_tensor(inp["index"], pixels[:1])  # raw 0..255 pixels: the scaling is inside
    interpreter.invoke()
    np.testing.assert_allclose(interpreter.get_tensor(outp["index"])[0], probs[0], atol=TOLERANCE)
    onnx = export(compose_cmd("export", f"run={run}", "format=onnx"))
    session = onnxruntime.InferenceSession(str(onnx / "model.onnx"))
    np.testing.assert_allclose(
        session.run(None, {session.get_inputs()[0].name: pixels})[0], probs, atol=TOLERANCE
    )
    assert json.loads((onnx / "export.json").read_text())["output"]["class_names"] == names

    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(SeqexpError, match=r"notes.png is not an image .*expected PNG/JPEG images"):
        predict(compose_cmd("predict", f"run={run}", f"input={tmp_path / 'notes.png'}"))


def test_headlines_predict_continues_each_line_like_generate(runs, tmp_path):
    from seqexp.text.generate import continue_prompts, load_run

    prompts = tmp_path / "prompts.txt"
    prompts.write_text("new\nhow to\n")
    rows = predict(compose_cmd("predict", f"run={runs['headlines']}", f"input={prompts}", "words=3"))
    model, vocab = load_run(runs["headlines"])
    expected = continue_prompts(model, vocab, ["new", "how to"], 3)
    assert [r["continuation"] for r in rows] == [r.text for r in expected]
    assert len(rows[1]["continuation"].split()) == 5


def test_headlines_and_imdb_export_their_token_models(runs):
    import keras
    import onnxruntime
    import tensorflow as tf

    onnx = export(compose_cmd("export", f"run={runs['headlines']}", "format=onnx"))
    model = keras.models.load_model(runs["headlines"] / "checkpoints" / "best.keras", compile=False)
    ids = np.array([[0, 0, 1, 2], [0, 0, 0, 3]], dtype=np.int32)[:, -model.input_shape[1] :]
    session = onnxruntime.InferenceSession(str(onnx / "model.onnx"))
    out = session.run(None, {session.get_inputs()[0].name: ids})[0]
    np.testing.assert_allclose(out, model.predict(ids, verbose=0), atol=TOLERANCE)
    assert (onnx / "vocabulary.json").exists()

    saved = export(compose_cmd("export", f"run={runs['imdb']}", "format=saved_model"))
    model = keras.models.load_model(runs["imdb"] / "checkpoints" / "best.keras", compile=False)
    ids = pad(encode([[4, 5, 6, 7]], num_words=10000), maxlen=40)
    loaded = tf.saved_model.load(str(saved / "saved_model"))
    np.testing.assert_allclose(loaded.serve(ids).numpy(), model.predict(ids, verbose=0), atol=TOLERANCE)
    info = json.loads((saved / "export.json").read_text())
    assert info["input"]["shape"] == [None, 40] and "word rank + 3" in info["outside"]


def test_older_runs_of_every_kind_predict_as_before(runs, tmp_path):
    """Run directories written before serving.json (preprocessing.json, or a next-word run's
    vocabulary.json alone) give the same predictions as the runs they were copied from."""
    (tmp_path / "reviews.txt").write_text("great movie\nawful, the end\n")
    (tmp_path / "ranks.json").write_text(json.dumps([[4, 5, 6, 30], [10, 11]]))
    (tmp_path / "prompts.txt").write_text("new\nhow to\n")
    idx = runs["fashion_files"] / FILES["test_images"]
    cases = {
        "imdb_raw": [f"input={tmp_path / 'reviews.txt'}", "lines=true"],
        "imdb": [f"input={tmp_path / 'ranks.json'}"],
        "fashion": [f"input={idx}", "top_k=2"],
        "headlines": [f"input={tmp_path / 'prompts.txt'}", "words=2"],
    }
    for name, options in cases.items():
        old = as_legacy(runs[name], tmp_path / name)
        assert not (old / "serving.json").exists()
        expected = predict(compose_cmd("predict", f"run={runs[name]}", *options, "format=csv"))
        got = predict(compose_cmd("predict", f"run={old}", *options, "format=csv"))
        assert [list(r) for r in got] == [list(r) for r in expected], name
        for row, want in zip(got, expected, strict=True):
            assert row == pytest.approx(want, abs=1e-6), name
