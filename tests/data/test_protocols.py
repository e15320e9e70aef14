"""Every preset's data against its reference's own code, run here on the same file.

The oracles are code nobody here wrote, called with the books' arguments: DLwP 2nd ed.'s
`keras.utils.timeseries_dataset_from_array` windows, a transcription of DLwP 1st ed. listing 6.33's
`generator`, the legacy Keras `Tokenizer` + `pad_sequences` (tf-keras) of the wikidocs book,
`keras.datasets.imdb.load_data` reading the fixture as its download, Keras `fit`'s
validation_split and scikit-learn's `train_test_split(random_state=42)`. Counts and every element
are compared; a shuffled training split is compared as the same multiset of samples.
"""

from __future__ import annotations

import csv
import json
from string import punctuation

import numpy as np
import pytest
from hydra.utils import instantiate

from seqexp.data.jena import load_jena, split_rows
from seqexp.data.synthetic import synthetic_weather, write_jena_csv
from tests.conftest import SHARED_DATA, option_values
from tests.data.imdb_files import sentiment_reviews, write_imdb_npz
from tests.data.test_headlines import write_articles

T = 1  # "T (degC)", the second of the 14 columns


def collect(dataset):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in dataset], strict=True)
    return np.concatenate(xs), np.concatenate(ys)


def as_multiset(x, y) -> np.ndarray:
    """Samples (flattened input + target) as rows in a fixed order, for order-free comparison."""
    rows = np.column_stack([x.reshape(len(x), -1), y]).astype(np.float64)
    return rows[np.lexsort(rows.T[::-1])]


def row_numbered_jena(path, rows: int):
    """A Jena csv whose first column holds the row number, so every window names its rows."""
    values = synthetic_weather(rows, seed=11)
    values[:, 0] = np.arange(rows)
    return write_jena_csv(path, values)


def book_read(path) -> tuple[np.ndarray, np.ndarray]:
    """DLwP's parsing loop (both editions): float() of every field but Date Time, in float64."""
    with open(path) as f:
        data = f.read()
    lines = data.rstrip("\n").split("\n")  # the book's file has no final newline; ours has one
    header = lines[0].split(",")
    lines = lines[1:]
    temperature = np.zeros((len(lines),))
    raw_data = np.zeros((len(lines), len(header) - 1))
    for i, line in enumerate(lines):
        values = [float(x) for x in line.split(",")[1:]]
        temperature[i] = values[1]
        raw_data[i, :] = values[:]
    return temperature, raw_data


def jena(**values):
    """load_jena with conf/data/jena.yaml's values, `values` on top."""
    return load_jena(**option_values("data", "jena", **values))


# ---- Jena, DLwP 2nd ed. (jena2_* presets) -------------------------------------------------------


def book_second_edition(path, batch_size=256):
    """DLwP 2nd ed. 10.2, verbatim but for shuffle=False (the book shuffles val/test too; the
    order does not change their metrics, and in order they compare element by element)."""
    import keras

    temperature, raw_data = book_read(path)
    num_train_samples = int(0.5 * len(raw_data))
    num_val_samples = int(0.25 * len(raw_data))
    mean = raw_data[:num_train_samples].mean(axis=0)
    raw_data -= mean
    std = raw_data[:num_train_samples].std(axis=0)
    raw_data /= std

    sampling_rate = 6
    sequence_length = 120
    delay = sampling_rate * (sequence_length + 24 - 1)
    common = dict(
        sampling_rate=sampling_rate, sequence_length=sequence_length, shuffle=False, batch_size=batch_size
    )
    datasets = {
        "train": keras.utils.timeseries_dataset_from_array(
            raw_data[:-delay],
            targets=temperature[delay:],
            start_index=0,
            end_index=num_train_samples,
            **common,
        ),
        "val": keras.utils.timeseries_dataset_from_array(
            raw_data[:-delay],
            targets=temperature[delay:],
            start_index=num_train_samples,
            end_index=num_train_samples + num_val_samples,
            **common,
        ),
        "test": keras.utils.timeseries_dataset_from_array(
            raw_data[:-delay],
            targets=temperature[delay:],
            start_index=num_train_samples + num_val_samples,
            **common,
        ),
    }
    rows = {
        "train": [0, num_train_samples],
        "val": [num_train_samples, num_train_samples + num_val_samples],
        "test": [num_train_samples + num_val_samples, len(raw_data)],
    }
    return datasets, rows, mean, std


SECOND_EDITION = ["jena2_naive", "jena2_lstm", "jena2_gru_stacked"]


def test_second_edition_presets_give_the_books_windows(tmp_path, make_cfg):
    # 8,003 rows: odd, and 0.5 * n = 4001.5 rounds to 4002 where the book's int() gives 4001.
    path = row_numbered_jena(tmp_path / "jena_climate_2009_2016.csv", 8003)
    cfgs = [make_cfg(f"experiment={preset}", f"data.path={path}") for preset in SECOND_EDITION]
    # The windows come from data.* and the batch size alone, the same in every 2nd-ed. preset
    # (protocol/jena_dlwp2): the book's code runs against the first.
    cfg = cfgs[0]
    for other in cfgs[1:]:
        assert other.data == cfg.data and other.trainer.batch_size == cfg.trainer.batch_size
    bundle = instantiate(cfg.data)
    book, book_rows, mean, std = book_second_edition(path, batch_size=cfg.trainer.batch_size)

    assert bundle.spec.info["split_rows"] == book_rows
    assert book_rows["train"] == [0, 4001] and book_rows["val"] == [4001, 6001]
    assert bundle.spec.input_shape == (120, 14)
    for name in ("train", "val", "test"):
        x, y = collect(getattr(bundle, name))
        ref_x, ref_y = collect(book[name])
        assert bundle.spec.info["windows"][name] == len(y) == len(ref_y) > 0, name
        assert x.dtype == np.float32
        # seqexp's targets are the normalised temperature; the book's are in degC.
        ref_y = (ref_y - mean[T]) / std[T]
        if name == "train":  # shuffled by seqexp's seed: the same windows, in another order
            assert not np.array_equal(x[:, 0, 0], np.sort(x[:, 0, 0]))
            np.testing.assert_allclose(as_multiset(x, y), as_multiset(ref_x, ref_y), rtol=0, atol=2e-6)
            continue
        np.testing.assert_allclose(x, ref_x, rtol=0, atol=2e-6, err_msg=name)  # float32 rounding
        np.testing.assert_allclose(y, ref_y, rtol=0, atol=2e-6, err_msg=name)
    assert bundle.spec.target_scale == pytest.approx(std[T], rel=1e-12)
    assert bundle.spec.info["target_mean"] == pytest.approx(mean[T], rel=1e-12)


def test_second_edition_window_counts_of_the_issue(tmp_path):
    """On 20,003 rows the book has 9,287 / 4,286 / 3,430 windows (the DLwP 1st ed. rule gave
    9,282 / 4,280 / 4,143, and round() moved every boundary by one row)."""
    import keras

    path = row_numbered_jena(tmp_path / "jena.csv", 20_003)
    bundle = jena(
        path=str(path),
        split={"train": [0, 0.5], "val": [0.5, 0.75], "test": [0.75, 1.0]},
        lookback=720,
        step=6,
        delay=138,
        batch_size=256,
        windows="dlwp2",
    )
    assert bundle.spec.info["windows"] == {"train": 9287, "val": 4286, "test": 3430}
    assert bundle.spec.info["split_rows"] == {
        "train": [0, 10001],
        "val": [10001, 15001],
        "test": [15001, 20003],
    }
    # and the book's own counts, from keras (one window a batch: cardinality = windows)
    data, delay = np.zeros((20_003 - 858, 1)), 858
    counts = [
        int(
            keras.utils.timeseries_dataset_from_array(
                data,
                targets=np.zeros(20_003 - delay),
                sampling_rate=6,
                sequence_length=120,
                batch_size=1,
                start_index=start,
                end_index=end,
            ).cardinality()
        )
        for start, end in [(0, 10001), (10001, 15001), (15001, None)]
    ]
    assert counts == [9287, 4286, 3430]


@pytest.mark.parametrize("n", [1000, 8003, 20_003, 420_551, 420_451])
def test_second_edition_split_rows_are_the_books_int_sizes(n):
    num_train_samples = int(0.5 * n)
    num_val_samples = int(0.25 * n)
    split = {"train": [0, 0.5], "val": [0.5, 0.75], "test": [0.75, 1.0]}
    assert split_rows(split, n, windows="dlwp2") == {
        "train": (0, num_train_samples),
        "val": (num_train_samples, num_train_samples + num_val_samples),
        "test": (num_train_samples + num_val_samples, n),
    }


def test_second_edition_needs_whole_timesteps(tmp_path):
    from seqexp.errors import SeqexpError

    path = row_numbered_jena(tmp_path / "jena.csv", 2000)
    with pytest.raises(SeqexpError, match=r"data.lookback=100 must be a multiple of data.step=6"):
        jena(
            path=str(path),
            split={"train": [0, 0.5], "val": [0.5, 0.75], "test": [0.75, 1.0]},
            lookback=100,
            step=6,
            delay=10,
            windows="dlwp2",
        )
    with pytest.raises(SeqexpError, match=r"data.windows=dlwp3 must be one of dlwp1, dlwp2"):
        jena(path=str(path), windows="dlwp3")


# ---- Jena, DLwP 1st ed. (jena_* and jena20k_* presets) ------------------------------------------


def generator(data, lookback, delay, min_index, max_index, shuffle=False, batch_size=128, step=6):
    """DLwP 1st ed. listing 6.33, verbatim (but `row`, unused there too, renamed `_row` for ruff)."""
    if max_index is None:
        max_index = len(data) - delay - 1
    i = min_index + lookback
    while 1:
        if shuffle:
            rows = np.random.randint(min_index + lookback, max_index, size=batch_size)
        else:
            if i + batch_size >= max_index:
                i = min_index + lookback
            rows = np.arange(i, min(i + batch_size, max_index))
            i += len(rows)
        samples = np.zeros((len(rows), lookback // step, data.shape[-1]))
        targets = np.zeros((len(rows),))
        for j, _row in enumerate(rows):
            indices = range(rows[j] - lookback, rows[j], step)
            samples[j] = data[indices]
            targets[j] = data[rows[j] + delay][1]
        yield samples, targets


def clean_batches(min_index, max_index, lookback, batch_size) -> int:
    """Full batches the sequential generator yields before it wraps around to min_index."""
    return (max_index - (min_index + lookback) - 1) // batch_size


@pytest.mark.parametrize("preset", ["jena_gru", "jena20k_lstm", "jena_conv1d_gru"])
def test_first_edition_presets_give_listing_6_33_batches(tmp_path, make_cfg, preset):
    """The preset's own windows (step, delay, batch) on a small file with DLwP's row
    pattern [0, a], [a+1, b], [b+1, end): the validation batches DLwP's val_steps reads and the
    test batches up to where the generator wraps around equal the generator's, in order; the
    windows after them are the generator's too; the training windows are the set it samples."""
    a, b, n = 2000, 3000, 4206
    path = row_numbered_jena(tmp_path / "jena_climate_2009_2016.csv", n)
    cfg = make_cfg(
        f"experiment={preset}",
        f"data.path={path}",
        f"data.split.train=[0,{a}]",
        f"data.split.val=[{a + 1},{b}]",
        f"data.split.test=[{b + 1},null]",
        "data.lookback=480",
        "trainer.batch_size=32",
    )
    lookback, step, delay, batch_size = (
        cfg.data.lookback,
        cfg.data.step,
        cfg.data.delay,
        cfg.trainer.batch_size,
    )
    bundle = instantiate(cfg.data)

    _, float_data = book_read(path)
    mean = float_data[:a].mean(axis=0)
    float_data -= mean
    std = float_data[:a].std(axis=0)
    float_data /= std
    val_steps = (b - (a + 1) - lookback) // batch_size
    assert val_steps == clean_batches(a + 1, b, lookback, batch_size)  # as 769 on the real file
    for name, (low, high), steps in (
        ("val", (a + 1, b), val_steps),
        ("test", (b + 1, None), clean_batches(b + 1, n - delay - 1, lookback, batch_size)),
    ):
        x, y = collect(getattr(bundle, name))
        gen = generator(float_data, lookback, delay, low, high, step=step, batch_size=batch_size)
        ref = [next(gen) for _ in range(steps)]
        # the windows after those: rows up to the last one with a target (the generator's
        # max_index=None default stops one row short of it, and its last batch would wrap)
        rest = (high or n - delay) - (low + lookback + steps * batch_size)
        ref.append(
            next(
                generator(
                    float_data,
                    lookback,
                    delay,
                    low + steps * batch_size,
                    high or n - delay,
                    step=step,
                    batch_size=rest,
                )
            )
        )
        ref_x, ref_y = (np.concatenate(part) for part in zip(*ref, strict=True))
        assert steps > 1 and len(y) == len(ref_y) == bundle.spec.info["windows"][name], name
        np.testing.assert_allclose(x, ref_x, rtol=0, atol=2e-6, err_msg=name)  # float32 rounding
        np.testing.assert_allclose(y, ref_y, rtol=0, atol=2e-6, err_msg=name)
    # Training: the generator draws rows from [lookback, a) at random; seqexp shuffles exactly
    # those windows. One sequential batch of all of them is the generator's own window set.
    everything = a - lookback
    ref_x, ref_y = next(generator(float_data, lookback, delay, 0, a, batch_size=everything, step=step))
    x, y = collect(bundle.train)
    assert bundle.spec.info["windows"]["train"] == len(y) == everything
    np.testing.assert_allclose(as_multiset(x, y), as_multiset(ref_x, ref_y), rtol=0, atol=2e-6)


def test_first_edition_validation_steps_read_no_wrapped_batch_on_the_real_file(make_cfg, tmp_path):
    """On the real 420,551 rows the presets' 769 validation steps stop before DLwP's generator
    wraps around, so they are the same 98,432 windows; its 930 test steps would wrap once."""
    cfg = make_cfg("experiment=jena_gru")
    lookback, delay, batch_size = cfg.data.lookback, cfg.data.delay, cfg.trainer.batch_size
    assert cfg.trainer.validation_steps == 769 == clean_batches(200001, 300000, lookback, batch_size)
    test_steps = (420_551 - 300001 - lookback) // batch_size
    assert test_steps == 930 == clean_batches(300001, 420_551 - delay - 1, lookback, batch_size) + 1


def test_second_edition_run_records_windows_and_split_rows(tmp_path, make_cfg):
    from seqexp.run.train import train

    path = row_numbered_jena(tmp_path / "jena_climate_2009_2016.csv", 8003)
    run = tmp_path / "run"
    train(
        make_cfg(
            "experiment=jena2_naive",
            f"data.path={path}",
            "trainer.validation_steps=1",
            "trainer.test_steps=1",
            run_dir=run,
        )
    )
    info = json.loads((run / "metrics.json").read_text())["data_info"]
    assert info["window_rule"] == "dlwp2"
    assert info["split_rows"] == {"train": [0, 4001], "val": [4001, 6001], "test": [6001, 8003]}
    # the book's counts: first rows of windows in [start, end - 714), end capped at 8003 - 858
    assert info["windows"] == {"train": 4001 - 714, "val": 2000 - 714, "test": 8003 - 858 - 6001 - 714}


# ---- Headlines (headlines_text_lstm) -------------------------------------------------------------


def wikidocs(headlines: list[str]):
    """WD 11-2 verbatim, with the legacy Keras Tokenizer (tf-keras); the headline column is read
    before (WD: pandas.read_csv(...).headline)."""
    from tf_keras.preprocessing.sequence import pad_sequences
    from tf_keras.preprocessing.text import Tokenizer

    headline = [word for word in headlines if word != "Unknown"]

    def repreprocessing(raw_sentence):
        preproceseed_sentence = raw_sentence.encode("utf8").decode("ascii", "ignore")
        return "".join(word for word in preproceseed_sentence if word not in punctuation).lower()

    preprocessed_headline = [repreprocessing(x) for x in headline]
    tokenizer = Tokenizer()
    tokenizer.fit_on_texts(preprocessed_headline)
    vocab_size = len(tokenizer.word_index) + 1
    sequences = list()
    for sentence in preprocessed_headline:
        encoded = tokenizer.texts_to_sequences([sentence])[0]
        for i in range(1, len(encoded)):
            sequence = encoded[: i + 1]
            sequences.append(sequence)
    max_len = max(len(line) for line in sequences)
    sequences = pad_sequences(sequences, maxlen=max_len, padding="pre")
    sequences = np.array(sequences)
    X = sequences[:, :-1]
    y = sequences[:, -1]
    return tokenizer, vocab_size, X, y


def check_headlines(make_cfg, path, headlines):
    cfg = make_cfg("experiment=headlines_text_lstm", f"data.path={path}")
    bundle = instantiate(cfg.data)
    tokenizer, vocab_size, ref_x, ref_y = wikidocs(headlines)
    vocabulary = bundle.spec.vocabulary
    assert len(vocabulary) == vocab_size
    assert {word: i for i, word in enumerate(vocabulary) if i} == tokenizer.word_index
    x, y = collect(bundle.train)
    assert x.shape == ref_x.shape and len(y) == len(ref_y) == bundle.spec.info["samples"]
    np.testing.assert_array_equal(as_multiset(x, y), as_multiset(ref_x, ref_y))
    return bundle, ref_x


def test_headlines_equal_tokenizer_and_pad_sequences_on_a_fixture(tmp_path, make_cfg):
    headlines = [
        "Trump’s Tariffs: What’s Next?",
        "Unknown",
        "The Well-Known Cat, the Dog",
        "the dog  and the cat",
        "Café au lait — and Tea",
        "Lone",
        "Dog dog DOG cat 2018",
        "Unknown",
        "A 10-year-old’s “secret” plan",
        "cat the",
    ]
    path = write_articles(tmp_path / "ArticlesApril2018.csv", headlines)
    check_headlines(make_cfg, path, headlines)


REAL_HEADLINES = SHARED_DATA / "nyt-headlines" / "ArticlesApril2018.csv"


@pytest.mark.skipif(not REAL_HEADLINES.exists(), reason=f"the real NYT file is not at {REAL_HEADLINES}")
def test_headlines_equal_tokenizer_and_pad_sequences_on_the_real_file(make_cfg):
    with open(REAL_HEADLINES, encoding="utf-8-sig", newline="") as f:
        headlines = [row["headline"] for row in csv.DictReader(f)]
    bundle, ref_x = check_headlines(make_cfg, REAL_HEADLINES, headlines)
    assert (len(headlines), bundle.spec.vocab_size, len(ref_x), ref_x.shape[1] + 1) == (1324, 3494, 7803, 24)


# ---- IMDB (imdb_* and hg_imdb_* presets) ---------------------------------------------------------


@pytest.fixture
def imdb_download(tmp_path, monkeypatch):
    """An imdb.npz fixture (bare ranks up to 12,000, reviews up to 700 words) where
    `keras.datasets.imdb.load_data` looks for its download: $KERAS_HOME/datasets/imdb.npz.

    The fixture is not the real file, so get_file's sha256 check is the one thing switched off
    (with it, get_file would try to download the real one)."""
    import keras.src.backend.config
    import keras.src.datasets.imdb
    from keras.src.utils.file_utils import get_file

    x_train, y_train = sentiment_reviews(300, seed=5, vocab=12_000, length=(5, 700))
    x_test, y_test = sentiment_reviews(80, seed=6, vocab=12_000, length=(5, 700))
    x_train[7] = [*x_train[7], 11_999]  # the highest rank: num_words=None turns it into OOV
    path = write_imdb_npz(tmp_path / "keras" / "datasets" / "imdb.npz", x_train, y_train, x_test, y_test)
    monkeypatch.setattr(keras.src.backend.config, "_KERAS_DIR", str(tmp_path / "keras"))
    monkeypatch.setattr(
        keras.src.datasets.imdb,
        "get_file",
        lambda *args, **kwargs: get_file(*args, **{**kwargs, "file_hash": None}),
    )
    return path


def dlwp_imdb(num_words, maxlen):
    """DLwP 6.1/6.2: load_data(num_words), pad_sequences(maxlen), fit(validation_split=0.2)."""
    import keras
    from keras.src.trainers.data_adapters.array_slicing import train_validation_split

    (x_train, y_train), (x_test, y_test) = keras.datasets.imdb.load_data(num_words=num_words)
    x_train = keras.utils.pad_sequences(x_train, maxlen=maxlen)
    x_test = keras.utils.pad_sequences(x_test, maxlen=maxlen)
    (x_train, y_train), (x_val, y_val) = train_validation_split((x_train, y_train), 0.2)
    return {"train": (x_train, y_train), "val": (x_val, y_val), "test": (x_test, y_test)}


def hg_imdb(num_words, maxlen):
    """HG 9-2: load_data(num_words=500), train_test_split(test_size=0.2, random_state=42),
    pad_sequences(maxlen=100)."""
    import keras
    from sklearn.model_selection import train_test_split

    (train_input, train_target), (test_input, test_target) = keras.datasets.imdb.load_data(
        num_words=num_words
    )
    train_input, val_input, train_target, val_target = train_test_split(
        train_input, train_target, test_size=0.2, random_state=42
    )
    pad = keras.utils.pad_sequences
    return {
        "train": (pad(train_input, maxlen=maxlen), train_target),
        "val": (pad(val_input, maxlen=maxlen), val_target),
        "test": (pad(test_input, maxlen=maxlen), test_target),
    }


# (preset, the book's code, num_words, maxlen), as the books (docs/protocols.md) set them
IMDB_PRESETS = [
    ("imdb_embedding_flatten", dlwp_imdb, 10000, 20),
    ("imdb_simple_rnn", dlwp_imdb, 10000, 500),
    ("imdb_lstm", dlwp_imdb, 10000, 500),
    ("imdb_bidirectional", dlwp_imdb, 10000, 500),
    ("imdb_conv1d", dlwp_imdb, 10000, 500),
    *[
        (f"hg_imdb_{name}", hg_imdb, 500, 100)
        for name in ("onehot_rnn", "embedding_rnn", "lstm", "lstm_dropout", "lstm_stacked", "gru")
    ],
]


def check_imdb(bundle, reference):
    for name in ("train", "val", "test"):
        x, y = collect(getattr(bundle, name))
        ref_x, ref_y = reference[name]
        assert x.shape == ref_x.shape and len(y) == len(ref_y), name
        if name == "train":  # seqexp shuffles every epoch (so does fit): the same reviews
            np.testing.assert_array_equal(as_multiset(x, y), as_multiset(ref_x, ref_y))
        else:
            np.testing.assert_array_equal(x, ref_x, err_msg=name)
            np.testing.assert_array_equal(y, ref_y, err_msg=name)


@pytest.mark.parametrize(("preset", "book", "num_words", "maxlen"), IMDB_PRESETS)
def test_imdb_presets_equal_load_data_and_the_books_split(
    imdb_download, make_cfg, preset, book, num_words, maxlen
):
    cfg = make_cfg(f"experiment={preset}", f"data.path={imdb_download}", "data.word_index=null")
    bundle = instantiate(cfg.data)
    assert bundle.spec.vocab_size == num_words
    check_imdb(bundle, book(num_words, maxlen))


def test_imdb_num_words_null_equals_load_data(imdb_download):
    from seqexp.data.imdb import load_imdb

    bundle = load_imdb(
        **option_values("data", "imdb", path=str(imdb_download), word_index=None, num_words=None, maxlen=None)
    )
    reference = dlwp_imdb(None, None)
    longest = max(len(r) for r in np.load(imdb_download, allow_pickle=True)["x_train"]) + 1
    assert reference["train"][0].shape[1] == longest  # the start mark added; nothing truncated
    check_imdb(bundle, reference)
    # Keras's num_words is the highest id (12,002 = rank 11,999 + 3), which itself becomes OOV
    assert bundle.spec.vocab_size == 11_999 + 3
    assert 12_002 not in reference["train"][0] and bundle.spec.vocab_size > reference["train"][0].max()


def test_fashion_mnist_validation_split_is_train_test_split():
    from sklearn.model_selection import train_test_split

    from seqexp.data.fashion_mnist import validation_indices

    train, val = validation_indices(60_000, 0.2, 42)
    ref_train, ref_val = train_test_split(np.arange(60_000), test_size=0.2, random_state=42)
    np.testing.assert_array_equal(train, ref_train)
    np.testing.assert_array_equal(val, ref_val)
