"""data=imdb-raw on aclImdb trees written here (with the unsup folder and loose files of the real
archive): labels, the seeded 200/10,000-style split, a vocabulary fitted on training texts only,
padding, extraction of the downloaded archive, the vocabulary file in the run directory."""

from __future__ import annotations

import numpy as np
import pytest

from seqexp.data.download import sha256_of
from seqexp.data.imdb_raw import load_imdb_raw, read_reviews, save_vocabulary
from seqexp.errors import SeqexpError
from tests.conftest import option_values
from tests.data.imdb_files import tar_gz, write_aclimdb, write_toy_aclimdb


def imdb_raw(**values):
    """load_imdb_raw with conf/data/imdb-raw.yaml's values, `values` on top."""
    return load_imdb_raw(**option_values("data", "imdb-raw", **values))


SMALL = dict(training_samples=6, validation_samples=8, maxlen=12, batch_size=4, seed=3)


def arrays(dataset):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in dataset], strict=True)
    return np.concatenate(xs), np.concatenate(ys)


def words(bundle, x) -> list[list[str]]:
    vocabulary = bundle.spec.vocabulary
    return [[vocabulary[i] for i in row if i] for row in x]


@pytest.fixture
def acl(tmp_path):
    return write_toy_aclimdb(tmp_path, n=10, n_test=4)


def test_reviews_are_labelled_by_folder_and_unsup_is_ignored(acl):
    texts, labels = read_reviews(acl / "train")
    assert len(texts) == 20 and labels.tolist() == [0] * 10 + [1] * 10  # neg 0, pos 1
    assert all(b"awful" in t for t in texts[:10]) and all(b"great" in t for t in texts[10:])
    assert not any(b"unsupword" in t for t in texts)


def test_split_sizes_labels_and_tokens(acl):
    bundle = imdb_raw(path=str(acl), **SMALL)
    spec = bundle.spec
    assert spec.info["reviews"] == {"train": 6, "val": 8, "test": 8}
    assert spec.task == "binary" and spec.input_kind == "tokens" and spec.input_shape == (12,)
    assert spec.vocab_size == len(spec.vocabulary) and spec.vocabulary[:2] == ["", "[UNK]"]
    for name in ("train", "val", "test"):
        x, y = arrays(getattr(bundle, name))
        assert x.shape == (len(y), 12) and x.dtype == np.int32
        for review, label in zip(words(bundle, x), y, strict=True):
            # "This movie<br /><br />was great, great! trainpos3 the end.": lower-cased,
            # punctuation stripped (the <br /> tags leave "moviebr br"), 9 tokens pre-padded to 12
            sentiment = "great" if label else "awful"
            assert len(review) == 9 and review[:4] == ["this", "moviebr", "br", "was"]
            assert review[7:] == ["the", "end"]
            assert review[4] == review[5] in (sentiment, "[UNK]")
            if name == "train":  # the training texts are all in the vocabulary
                assert review[4] == sentiment and review[6].startswith(f"train{('neg', 'pos')[int(label)]}")


def test_vocabulary_is_fitted_on_the_training_split_only(acl):
    bundle = imdb_raw(path=str(acl), **SMALL)
    vocabulary = set(bundle.spec.vocabulary)
    markers = {w for w in vocabulary if w.startswith(("trainneg", "trainpos", "test"))}
    train_markers = {
        w for review in words(bundle, arrays(bundle.train)[0]) for w in review if w.startswith("train")
    }
    assert len(train_markers) == 6  # one unique marker per training review ...
    assert markers == train_markers  # ... and no marker of a validation or test review
    assert "unsupword" not in vocabulary
    x_val, _ = arrays(bundle.val)
    assert (x_val == 1).sum(axis=1).min() >= 1  # every validation marker is out of vocabulary


def test_vocabulary_from_the_whole_train_folder(acl):
    bundle = imdb_raw(path=str(acl), **SMALL, vocabulary_from="train_folder")
    vocabulary = set(bundle.spec.vocabulary)
    assert {f"train{label}{i}" for label in ("neg", "pos") for i in range(10)} <= vocabulary
    assert not any(w.startswith("test") for w in vocabulary) and "unsupword" not in vocabulary


def test_max_tokens_and_the_seeded_split(acl):
    assert len(imdb_raw(path=str(acl), **SMALL, max_tokens=5).spec.vocabulary) == 5

    def split(seed):
        bundle = imdb_raw(path=str(acl), **{**SMALL, "seed": seed})
        return sorted(
            w for review in words(bundle, arrays(bundle.train)[0]) for w in review if w.startswith("train")
        )

    assert split(3) == split(3) and split(3) != split(4)


def test_pre_and_post_padding_and_truncation(tmp_path):
    long = "one two three four five six"
    acl = write_aclimdb(
        tmp_path, train={"neg": [long, "one"], "pos": [long, "two"]}, test={"neg": [long], "pos": ["three"]}
    )
    common = dict(
        training_samples=2, validation_samples=2, batch_size=8, maxlen=4, vocabulary_from="train_folder"
    )
    for padding, truncating, expected_long, expected_short in [
        ("pre", "pre", ["three", "four", "five", "six"], ["", "", "", "three"]),
        ("post", "post", ["one", "two", "three", "four"], ["three", "", "", ""]),
    ]:
        bundle = imdb_raw(path=str(acl), **common, padding=padding, truncating=truncating)
        x, _ = arrays(bundle.test)
        vocabulary = bundle.spec.vocabulary
        assert [vocabulary[i] for i in x[0]] == expected_long
        assert [vocabulary[i] for i in x[1]] == expected_short


def test_save_vocabulary_writes_one_token_a_line(acl, tmp_path):
    bundle = imdb_raw(path=str(acl), **SMALL)
    facts = save_vocabulary(None, bundle, tmp_path)
    lines = (tmp_path / "vocabulary.txt").read_text(encoding="utf-8").split("\n")[:-1]
    assert lines == bundle.spec.vocabulary and facts == {"file": "vocabulary.txt", "size": len(lines)}


def test_the_downloaded_archive_is_extracted_once_without_unsup(acl, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    archive = tar_gz(acl, cache / "aclImdb_v1.tar.gz")
    kwargs = dict(
        url="http://127.0.0.1:9/aclImdb_v1.tar.gz",
        sha256=sha256_of(archive),
        size=archive.stat().st_size,
        cache_dir=str(cache),
        **SMALL,
    )
    bundle = imdb_raw(**kwargs)
    extracted = cache / "aclImdb"
    assert bundle.spec.info["reviews"] == {"train": 6, "val": 8, "test": 8}
    assert (extracted / "train" / "pos").is_dir() and not (extracted / "train" / "unsup").exists()
    assert not list(cache.glob("aclImdb.extracting-*"))  # never half-written
    stamp = (extracted / "train" / "pos" / "0_8.txt").stat().st_mtime_ns
    imdb_raw(**kwargs)
    assert (extracted / "train" / "pos" / "0_8.txt").stat().st_mtime_ns == stamp  # not again


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"padding": "both"}, "data.padding=both must be one of pre, post"),
        (
            {"vocabulary_from": "test"},
            "data.vocabulary_from=test must be one of training_split, train_folder",
        ),
        ({"training_samples": 15}, "data.training_samples=15 \\+ data.validation_samples=8 need more"),
        ({"max_tokens": 2}, "data.max_tokens=2"),
    ],
)
def test_bad_values_are_refused_by_name(acl, override, message):
    with pytest.raises(SeqexpError, match=message):
        imdb_raw(path=str(acl), **{**SMALL, **override})


def test_a_folder_that_is_not_aclimdb_is_explained(tmp_path):
    (tmp_path / "train" / "neg").mkdir(parents=True)
    with pytest.raises(SeqexpError, match="has no pos folder; data.path must be an extracted"):
        imdb_raw(path=str(tmp_path), **SMALL)
    with pytest.raises(SeqexpError, match="is not a folder"):
        imdb_raw(path=str(tmp_path / "missing"), **SMALL)
