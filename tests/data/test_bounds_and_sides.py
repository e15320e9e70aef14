"""Breaks that went unnoticed once: a fraction split bound floored instead of rounded, and IMDB's
truncating side taken from its padding side (the other tests only used pre/pre and post/post)."""

from __future__ import annotations

import numpy as np

from seqexp.data.jena import fraction_rows
from tests.data.test_imdb import load, tiny_npz  # noqa: F401 - tiny_npz is a fixture

SPLIT = {"train": [0.0, 0.25], "val": [0.25, 0.5], "test": [0.5, None]}


def test_fraction_bounds_round_in_dlwp1_and_follow_the_books_int_arithmetic_in_dlwp2():
    # 0.25 * 1803 = 450.75: round, not floor; 0.5 * 1803 = 901.5 rounds to the even 902
    assert fraction_rows(SPLIT, 1803) == {0.0: 0, 0.25: 451, 0.5: 902}
    # the book: int(0.25 * n) rows per stretch, and the test split is the rest of the file
    assert fraction_rows(SPLIT, 1803, "dlwp2") == {0.0: 0, 0.25: 450, 0.5: 900, 1.0: 1803}
    three = {"train": [0.0, 0.3], "val": [0.3, 0.65], "test": [0.65, None]}
    assert fraction_rows(three, 1001, "dlwp2") == {0.0: 0, 0.3: 300, 0.65: 650, 1.0: 1001}


def test_padding_and_truncating_sides_are_independent(tiny_npz):  # noqa: F811
    # train[0] is [1, 4, 2, 5, 2] after num_words=8 (see tests/data/test_imdb.py)
    _, data = load(tiny_npz, num_words=8, maxlen=4, padding="post", truncating="pre")
    np.testing.assert_array_equal(data["train"][0], [[4, 2, 5, 2]])  # its end kept
    np.testing.assert_array_equal(data["val"][0], [[1, 6, 7, 0], [1, 2, 0, 0]])  # zeros after
    _, data = load(tiny_npz, num_words=8, maxlen=4, padding="pre", truncating="post")
    np.testing.assert_array_equal(data["train"][0], [[1, 4, 2, 5]])  # its start kept
    np.testing.assert_array_equal(data["val"][0], [[0, 1, 6, 7], [0, 0, 1, 2]])  # zeros before
