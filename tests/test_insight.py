"""The HG 8-3 reports of seqexp/insight.py, called directly on small in-memory bundles."""

from __future__ import annotations

import matplotlib.image as mpimg
import numpy as np
import pytest
import tensorflow as tf

from seqexp.data.spec import DataBundle, DataSpec
from seqexp.models.cnn import build_cnn
from seqexp.models.dense import build_dense
from seqexp.reports import insight
from seqexp.reports.insight import class_report, confusion, conv_report
from tests.conftest import option_values

NAMES = ["zero", "one", "two"]


def png(path):
    """A valid PNG of a sensible size that is not one flat colour."""
    image = mpimg.imread(path)
    assert image.ndim == 3 and image.shape[0] >= 150 and image.shape[1] >= 250, image.shape
    assert image[..., :3].std() > 0.02
    return image


def bundle_of(images, labels, names=NAMES, batch_size=4):
    spec = DataSpec(
        task="multiclass",
        input_kind="image",
        input_shape=images.shape[1:],
        num_classes=len(names),
        class_names=names,
    )
    test = tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch_size)
    return DataBundle(train=test, val=None, test=test, spec=spec)


class ReadsThePrediction:
    """A stand-in model: predicts the class written in pixel (0, 0) as class / 10."""

    def predict_on_batch(self, x):
        guess = np.rint(np.asarray(x)[:, 0, 0, 0] * 10).astype(int)
        return np.eye(len(NAMES), dtype=np.float32)[guess]


def test_confusion_counts_true_by_predicted():
    counts = confusion(np.array([0, 0, 1, 2, 2]), np.array([0, 1, 1, 2, 0]), 3)
    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 1]]


def test_class_report_counts_and_per_class_accuracy(tmp_path):
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2], dtype=np.int32)
    guesses = np.array([0, 0, 0, 1, 1, 1, 1, 2, 0, 0])  # zero 3/4, one 3/3, two 1/3
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (10, 28, 28, 1)).astype(np.float32)
    images[:, 0, 0, 0] = guesses / 10
    result = class_report(ReadsThePrediction(), bundle_of(images, labels), tmp_path)

    assert result["test_images"] == 10 and result["accuracy"] == pytest.approx(0.7)
    assert result["per_class_accuracy"] == pytest.approx({"zero": 0.75, "one": 1.0, "two": 1 / 3})
    assert result["confusion_matrix"] == [[3, 1, 0], [0, 3, 0], [2, 0, 1]]
    assert result["shown_wrong"] == 3  # all 10 fit in the grid of 24
    png(tmp_path / "confusion_matrix.png")
    grid = png(tmp_path / "predictions.png")
    reds = (grid[..., 0] > 0.9) & (grid[..., 1] < 0.2) & (grid[..., 2] < 0.2)
    assert reds.sum() > 100  # wrong predictions are framed in red


def test_class_report_handles_a_class_absent_from_the_test_split(tmp_path):
    labels = np.array([0, 1, 1, 0], dtype=np.int32)
    images = np.zeros((4, 8, 8, 1), dtype=np.float32)
    images[:, 0, 0, 0] = np.array([0, 1, 2, 0]) / 10
    result = class_report(ReadsThePrediction(), bundle_of(images, labels), tmp_path)
    assert result["per_class_accuracy"] == {"zero": 1.0, "one": 0.5, "two": None}


def small_cnn(filters=(4, 6)):
    spec = bundle_of(np.zeros((1, 28, 28, 1), np.float32), np.zeros(1, np.int32)).spec
    values = option_values("model", "cnn", filters=list(filters), dense_units=[8], dropout=0.0)
    return build_cnn(spec, **values)


def test_conv_report_draws_trained_kernels_against_fresh_ones(tmp_path):
    model = small_cnn()
    conv1 = model.get_layer("conv1")
    conv1.kernel.assign(np.full(conv1.kernel.shape, 0.25, dtype=np.float32))  # "trained"
    images = np.random.default_rng(1).uniform(0, 1, (5, 28, 28, 1)).astype(np.float32)
    result = conv_report(model, bundle_of(images, np.zeros(5, np.int32)), tmp_path)

    assert result["conv_layers"] == ["conv1", "conv2"]
    assert result["first_layer_kernel_shape"] == [3, 3, 1, 4]
    assert result["feature_map_shapes"] == [[28, 28, 4], [14, 14, 6]]
    assert result["feature_maps_shown"] == [4, 6]
    weights = result["first_layer_weights"]
    trained, fresh = weights["trained"], weights["fresh"]
    assert trained["mean"] == pytest.approx(0.25) and trained["std"] == pytest.approx(0.0)
    assert trained["max_abs"] == pytest.approx(0.25)
    assert fresh["std"] > 0.05  # rebuilt from the config: Glorot-initialised, not the trained copy
    assert np.allclose(model.get_layer("conv1").kernel, 0.25)  # the trained model is untouched
    filters = png(tmp_path / "filters.png")
    assert filters.shape[1] > filters.shape[0]  # one row of 4 tiles: wider than high
    png(tmp_path / "weights_hist.png")
    png(tmp_path / "feature_maps.png")


def test_feature_maps_are_capped_per_layer(tmp_path, monkeypatch):
    assert insight.MAX_MAPS == 64  # HG draws all 64 maps of conv 2
    monkeypatch.setattr(insight, "MAX_MAPS", 4)  # drawing fewer tiles keeps the test fast
    model = small_cnn(filters=(6, 3))
    images = np.random.default_rng(2).uniform(0, 1, (2, 28, 28, 1)).astype(np.float32)
    result = conv_report(model, bundle_of(images, np.zeros(2, np.int32)), tmp_path)
    assert result["feature_map_shapes"] == [[28, 28, 6], [14, 14, 3]]
    assert result["feature_maps_shown"] == [4, 3]
    assert result["first_layer_kernel_shape"] == [3, 3, 1, 6]
    png(tmp_path / "feature_maps.png")
    png(tmp_path / "filters.png")


def test_conv_report_skips_a_model_without_convolutions(tmp_path):
    images = np.zeros((2, 28, 28, 1), np.float32)
    bundle = bundle_of(images, np.zeros(2, np.int32))
    model = build_dense(bundle.spec, **option_values("model", "dense", units=[4]))
    assert conv_report(model, bundle, tmp_path) == {"skipped": "model dense has no Conv2D layer"}
    assert list(tmp_path.iterdir()) == []


def test_a_mosaic_places_each_tile_in_reading_order_with_gaps():
    tiles = np.stack([np.full((2, 3), k, dtype=float) for k in range(5)], axis=-1)  # (2, 3, 5)
    image = insight.mosaic(tiles, cols=3)
    assert image.shape == (2 * 3 - 1, 3 * 4 - 1)  # 2 rows of 2 + a gap; 3 columns of 3 + gaps
    assert (image[0:2, 0:3] == 0).all() and (image[0:2, 8:11] == 2).all()
    assert (image[3:5, 0:3] == 3).all() and (image[3:5, 4:7] == 4).all()
    assert np.isnan(image[2]).all() and np.isnan(image[:, 3]).all()  # the gaps
    assert np.isnan(image[3:5, 8:11]).all()  # the unused sixth cell


def test_each_feature_map_is_stretched_on_its_own_and_a_flat_one_is_zero():
    maps = np.stack([np.array([[1.0, 3.0], [2.0, 5.0]]), np.full((2, 2), 7.0)], axis=-1)
    scaled = insight.each_on_its_own_scale(maps)
    assert scaled[..., 0].tolist() == [[0.0, 0.5], [0.25, 1.0]]
    assert (scaled[..., 1] == 0).all()
