"""data=imdb: Keras load_data + pad_sequences semantics against hand-computed arrays, on imdb.npz
files written here in the real layout; the validation splits; the cache; the real subset."""

from __future__ import annotations

import json

import numpy as np
import pytest

from seqexp.data.download import sha256_of
from seqexp.data.imdb import load_imdb, validation_indices
from seqexp.errors import SeqexpError
from tests.conftest import option_values
from tests.data.imdb_files import SHARED_IMDB, write_imdb_npz, write_word_index

# Bare word ranks, as in the Keras file. With start 1 / oov 2 / index_from 3 they become
#   train[0] [1, 5, 2, 9] -> [1, 4, 8, 5, 12]   train[1] [3, 4] -> [1, 6, 7]
#   train[2] [6]          -> [1, 9]             test[0] [4, 1, 3, 2] -> [1, 7, 4, 6, 5]
X_TRAIN = [[1, 5, 2, 9], [3, 4], [6]]
Y_TRAIN = [1, 0, 1]
X_TEST = [[4, 1, 3, 2]]
Y_TEST = [0]
# validation_split 0.34, mode last: floor(3 * 0.66) = 1 -> train = review 0, val = reviews 1, 2
EXACT = dict(shuffle_seed=None, validation_split=0.34, validation_mode="last", batch_size=8, word_index=None)


def arrays(dataset):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in dataset], strict=True)
    return np.concatenate(xs), np.concatenate(ys)


@pytest.fixture
def tiny_npz(tmp_path):
    return write_imdb_npz(tmp_path / "imdb.npz", X_TRAIN, Y_TRAIN, X_TEST, Y_TEST)


def load(path, **overrides):
    bundle = load_imdb(**option_values("data", "imdb", path=str(path), **{**EXACT, **overrides}))
    return bundle, {name: arrays(getattr(bundle, name)) for name in ("train", "val", "test")}


def test_num_words_maxlen_and_front_padding(tiny_npz):
    bundle, data = load(tiny_npz, num_words=8, maxlen=4)
    # ids >= 8 become 2; keep the last 4 tokens ('pre' truncating), pad at the front
    np.testing.assert_array_equal(data["train"][0], [[4, 2, 5, 2]])
    np.testing.assert_array_equal(data["val"][0], [[0, 1, 6, 7], [0, 0, 1, 2]])
    np.testing.assert_array_equal(data["test"][0], [[7, 4, 6, 5]])
    np.testing.assert_array_equal(data["val"][1], [0.0, 1.0])
    assert bundle.spec.input_shape == (4,) and bundle.spec.vocab_size == 8
    assert bundle.spec.task == "binary" and bundle.spec.input_kind == "tokens"
    assert bundle.spec.info["reviews"] == {"train": 1, "val": 2, "test": 1}
    assert bundle.spec.info["encoding"] == "ranks"


def test_post_padding_and_post_truncating(tiny_npz):
    _, data = load(tiny_npz, num_words=8, maxlen=4, padding="post", truncating="post")
    np.testing.assert_array_equal(data["train"][0], [[1, 4, 2, 5]])
    np.testing.assert_array_equal(data["val"][0], [[1, 6, 7, 0], [1, 2, 0, 0]])
    np.testing.assert_array_equal(data["test"][0], [[1, 7, 4, 6]])


def test_skip_top_replaces_the_most_frequent_ids_start_mark_included(tiny_npz):
    # Keras: an id survives only if skip_top <= id < num_words, so with skip_top=5 even the
    # start mark 1 becomes the OOV mark 2.
    _, data = load(tiny_npz, num_words=8, skip_top=5, maxlen=5)
    np.testing.assert_array_equal(data["train"][0], [[2, 2, 2, 5, 2]])
    np.testing.assert_array_equal(data["val"][0], [[0, 0, 2, 6, 7], [0, 0, 0, 2, 2]])
    np.testing.assert_array_equal(data["test"][0], [[2, 7, 2, 6, 5]])


def test_oov_null_drops_words_and_null_limits_keep_everything(tiny_npz):
    _, data = load(tiny_npz, num_words=8, oov_char=None, maxlen=4)
    np.testing.assert_array_equal(data["train"][0], [[0, 1, 4, 5]])
    bundle, data = load(tiny_npz, num_words=None, maxlen=None)
    # load_data's num_words=None is the largest id (12), so that id itself becomes OOV (2)
    assert bundle.spec.vocab_size == 12
    np.testing.assert_array_equal(data["train"][0], [[1, 4, 8, 5, 2]])
    np.testing.assert_array_equal(data["val"][0], [[0, 0, 1, 6, 7], [0, 0, 0, 1, 9]])


def test_keras_shuffle_with_seed_113(tiny_npz):
    # load_data shuffles train then test with one RandomState(113) before anything else.
    rng = np.random.RandomState(113)
    order = np.arange(3)
    rng.shuffle(order)
    _, data = load(tiny_npz, num_words=None, maxlen=5, shuffle_seed=113, validation_split=0.01)
    expected = [[1] + [w + 3 if w + 3 < 12 else 2 for w in X_TRAIN[i]] for i in order]  # 12: OOV
    padded = [[0] * (5 - len(seq)) + seq for seq in expected]
    assert order.tolist() != [0, 1, 2]  # the check below would not see a missing shuffle
    # validation = the last review after shuffling; training = the others (in any order)
    assert data["val"][0].tolist() == [padded[2]]
    assert data["val"][1].tolist() == [float(Y_TRAIN[order[2]])]
    assert sorted(data["train"][0].tolist()) == sorted(padded[:2])


def test_keras_shuffle_with_seed_113_also_shuffles_the_test_reviews(tmp_path):
    """load_data shuffles the test reviews with the same RandomState(113), right after the
    training reviews: five test reviews of distinct lengths show the order."""
    x_test = [[4] * length for length in (1, 2, 3, 4, 5)]
    path = write_imdb_npz(tmp_path / "imdb.npz", X_TRAIN, Y_TRAIN, x_test, [0, 1, 0, 1, 1])
    rng = np.random.RandomState(113)
    rng.shuffle(np.arange(len(X_TRAIN)))  # the training reviews' permutation comes first
    order = np.arange(len(x_test))
    rng.shuffle(order)
    assert order.tolist() != sorted(order)  # the check below would not see a missing shuffle
    _, data = load(path, num_words=None, maxlen=8, shuffle_seed=113, validation_split=0.34)
    lengths = (data["test"][0] != 0).sum(axis=1).tolist()  # start mark + the review's words
    assert lengths == [len(x_test[i]) + 1 for i in order]
    assert data["test"][1].tolist() == [float([0, 1, 0, 1, 1][i]) for i in order]


def test_an_already_indexed_file_is_not_offset_twice(tmp_path):
    # The shared subset's layout: load_data output saved again (start marks, ids already offset).
    path = write_imdb_npz(tmp_path / "imdb.npz", [[1, 14, 22, 2], [1, 5]], [1, 0], [[1, 9, 600]], [1])
    bundle, data = load(path, num_words=500, maxlen=4, validation_split=0.5)
    assert bundle.spec.info["encoding"] == "indexed"
    np.testing.assert_array_equal(data["train"][0], [[1, 14, 22, 2]])
    np.testing.assert_array_equal(data["val"][0], [[0, 0, 1, 5]])
    np.testing.assert_array_equal(data["test"][0], [[0, 1, 9, 2]])  # 600 >= num_words -> OOV
    _, data = load(path, num_words=500, maxlen=4, validation_split=0.5, encoding="ranks")
    np.testing.assert_array_equal(data["val"][0], [[0, 1, 4, 8]])  # forced: offset as ranks


def test_validation_split_modes():
    train, val = validation_indices(10, 0.2, "last", seed=0)
    assert train.tolist() == list(range(8)) and val.tolist() == [8, 9]  # fit(validation_split)
    train, val = validation_indices(10, 0.2, "random", seed=42)
    # sklearn: train_test_split(np.arange(10), test_size=0.2, random_state=42)
    assert val.tolist() == [8, 1] and train.tolist() == [5, 0, 7, 2, 9, 4, 3, 6]


def test_word_index_gives_the_vocabulary_beside_the_npz(tiny_npz):
    write_word_index(tiny_npz.with_name("imdb_word_index.json"), ["the", "and", "a", "of", "film"])
    bundle, _ = load(tiny_npz, word_index="auto", num_words=8)
    assert bundle.spec.vocabulary == ["", "[START]", "[OOV]", "", "the", "and", "a", "of"]
    bundle, _ = load(tiny_npz, num_words=8)
    assert bundle.spec.vocabulary is None  # word_index=null


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"padding": "middle"}, "data.padding=middle must be one of pre, post"),
        ({"validation_mode": "first"}, "data.validation_mode=first must be one of last, random"),
        ({"num_words": 3}, "data.num_words=3 keeps no word"),
        ({"maxlen": 0}, "data.maxlen=0 must be an integer of at least 1, or null"),
        ({"validation_split": 1.5}, "data.validation_split=1.5 must be a number strictly between 0 and 1"),
        ({"encoding": "utf8"}, "data.encoding=utf8 must be one of auto, ranks, indexed"),
    ],
)
def test_bad_values_are_refused_by_name(tiny_npz, override, message):
    with pytest.raises(SeqexpError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load(tiny_npz, **override)


def test_missing_and_foreign_files_are_explained(tmp_path):
    with pytest.raises(SeqexpError, match="does not exist; give an imdb.npz"):
        load(tmp_path / "nope.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(SeqexpError, match=r"lacks \['x_train', 'y_train', 'x_test', 'y_test'\]"):
        load(tmp_path / "other.npz")


def test_the_cached_download_is_used_and_checked(tmp_path, tiny_npz, make_cfg):
    """path null: imdb.npz and the word index come from the cache, checked by size and sha256."""
    from hydra.utils import instantiate

    cache = tmp_path / "cache"
    cache.mkdir()
    cached = cache / "imdb.npz"
    cached.write_bytes(tiny_npz.read_bytes())
    write_word_index(cache / "imdb_word_index.json", ["the", "and"])
    words = (cache / "imdb_word_index.json").stat().st_size
    cfg = make_cfg(
        "data=imdb",
        f"data.cache_dir={cache}",
        f"data.sha256={sha256_of(cached)}",
        f"data.size={cached.stat().st_size}",
        f"data.word_index_size={words}",
        "data.maxlen=5",
        "data.validation_split=0.34",
    )
    bundle = instantiate(cfg.data)
    assert bundle.spec.info["word_index"] == str(cache / "imdb_word_index.json")
    assert bundle.spec.vocabulary[4:6] == ["the", "and"]
    assert bundle.spec.info["reviews"] == {"train": 1, "val": 2, "test": 1}
    # A damaged cached copy is not used: it is moved aside and fetched again (here: offline).
    original = cached.read_bytes()
    with pytest.raises(SeqexpError) as err:
        load_imdb(
            **option_values(
                "data",
                "imdb",
                path=None,
                url="http://127.0.0.1:9/imdb.npz",
                sha256="0" * 64,
                size=None,
                cache_dir=str(cache),
                word_index=None,
            )
        )
    assert f"The cached copy at {cached} was damaged (its sha256 is" in str(err.value)
    assert f"moved to {cache / 'imdb.npz.corrupt'} and not used" in str(err.value)
    assert "pass data.path=/path/to/imdb.npz" in str(err.value)
    assert not cached.exists() and (cache / "imdb.npz.corrupt").read_bytes() == original


@pytest.mark.skipif(
    not SHARED_IMDB.exists(),
    reason=f"the real IMDB subset is not here ({SHARED_IMDB}); a clone has no shared/",
)
def test_the_real_subset_loads_with_hg_settings():
    bundle = load_imdb(
        **option_values(
            "data",
            "imdb",
            path=str(SHARED_IMDB),
            num_words=500,
            maxlen=100,
            validation_split=0.2,
            validation_mode="random",
            validation_seed=42,
            batch_size=500,
            word_index=None,
        )
    )
    spec = bundle.spec
    assert spec.info["encoding"] == "indexed"  # the subset holds load_data's output
    assert spec.info["reviews"] == {"train": 4000, "val": 1000, "test": 1000}
    assert spec.input_shape == (100,) and spec.vocab_size == 500
    x, y = arrays(bundle.test)
    assert x.shape == (1000, 100) and x.dtype == np.int32
    assert 0 <= x.min() and x.max() < 500 and set(np.unique(y)) == {0.0, 1.0}
    lengths = (x != 0).sum(axis=1)
    assert (lengths <= 100).all() and (lengths == 100).mean() > 0.8  # most reviews are longer
    assert x[lengths < 100][:, 0].max() == 0  # short ones are padded at the front ...
    assert (x[lengths < 100, -lengths[lengths < 100]] == 1).all()  # ... right before their start mark
    assert 0.4 < spec.info["positive_fraction"]["train"] < 0.6
    json.dumps(spec.info)  # plain values only: it goes into metrics.json
