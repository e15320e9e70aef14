"""data=fashion-mnist, model=cnn and experiment=hg_fashion_cnn on IDX gz files written here in the
real format (big-endian header, gzip) and read through the same loader code as downloads."""

from __future__ import annotations

import gzip
import hashlib
import json
import struct
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
import yaml
from hydra.errors import InstantiationException
from hydra.utils import instantiate

from seqexp.data.fashion_mnist import read_idx, validation_indices
from seqexp.errors import SeqexpError
from seqexp.run.train import train

CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
FILES = {
    "train_images": "train-images-idx3-ubyte.gz", "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz", "test_labels": "t10k-labels-idx1-ubyte.gz",
}  # fmt: skip
PNGS = ["filters.png", "weights_hist.png", "feature_maps.png", "confusion_matrix.png", "predictions.png"]
SHORT = ["trainer.epochs=1", "trainer.steps_per_epoch=2", "trainer.validation_steps=2"]


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """An IDX file's bytes: 0x0000, type 0x08 (ubyte), ndim, big-endian uint32 dims, data."""
    magic = 0x0800 + array.ndim if magic is None else magic
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_gz(path: Path, payload: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(payload))
    return path


def separable_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Class k: a bright 10x5 bar in cell k of a 2x5 layout, jittered by up to 2 px, on noise."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)
    images = rng.integers(0, 90, (n, 28, 28)).astype(np.uint8)
    for image, label in zip(images, labels, strict=True):
        row, col = divmod(int(label), 5)
        top, left = 2 + 13 * row + rng.integers(-2, 3), 1 + 5 * col + rng.integers(-1, 2)
        image[max(top, 0) : top + 10, max(left, 0) : left + 5] = rng.integers(160, 256)
    return images, labels


def write_fashion(folder: Path, n_train: int = 200, n_test: int = 50, seed: int = 0) -> dict:
    """The four Fashion-MNIST files with `n_train` / `n_test` separable 28x28 images."""
    x_train, y_train = separable_images(n_train, seed)
    x_test, y_test = separable_images(n_test, seed + 1)
    arrays = {"train_images": x_train, "train_labels": y_train, "test_images": x_test, "test_labels": y_test}
    for role, array in arrays.items():
        write_gz(folder / FILES[role], idx_bytes(array))
    return arrays


@pytest.fixture(scope="module")
def fashion(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fashion")
    return folder, write_fashion(folder)


def load(make_cfg, *overrides):
    """The bundle exactly as train() builds it; a user error surfaces as the SeqexpError."""
    try:
        return instantiate(make_cfg("data=fashion-mnist", *overrides).data)
    except InstantiationException as err:
        raise err.__cause__ from None


def collect(dataset):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in dataset], strict=True)
    return np.concatenate(xs), np.concatenate(ys)


# --- the parser ---------------------------------------------------------------------------------


def test_read_idx_parses_gz_and_plain_files(tmp_path):
    images = np.arange(3 * 28 * 28, dtype=np.int64).reshape(3, 28, 28) % 256
    gz = write_gz(tmp_path / "a-idx3-ubyte.gz", idx_bytes(images))
    plain = tmp_path / "a-idx3-ubyte"
    plain.write_bytes(idx_bytes(images))
    for path in (gz, plain):
        parsed = read_idx(path, ndim=3)
        assert parsed.dtype == np.uint8 and parsed.shape == (3, 28, 28)
        np.testing.assert_array_equal(parsed, images)
    labels = read_idx(write_gz(tmp_path / "l.gz", idx_bytes(np.array([9, 0, 3]))), ndim=1)
    assert labels.tolist() == [9, 0, 3] and labels.dtype == np.uint8


def test_truncated_gzip_is_a_clear_error(tmp_path):
    path = write_gz(tmp_path / "train-images-idx3-ubyte.gz", idx_bytes(np.zeros((20, 28, 28))))
    path.write_bytes(path.read_bytes()[:-40])  # a download cut short
    with pytest.raises(SeqexpError, match="is a damaged or truncated gzip file") as err:
        read_idx(path, ndim=3)
    assert str(path) in str(err.value) and "downloaded again" in str(err.value)


def test_truncated_idx_body_names_the_announced_shape(tmp_path):
    payload = idx_bytes(np.zeros((20, 28, 28)))[:-100]
    path = write_gz(tmp_path / "t10k-images-idx3-ubyte.gz", payload)
    with pytest.raises(
        SeqexpError,
        match=r"truncated or padded: its header announces images of "
        r"shape \(20, 28, 28\) \(15,680 bytes of data\) but "
        r"the file holds 15,580 bytes",
    ):
        read_idx(path, ndim=3)


def test_wrong_magic_number_and_short_header(tmp_path):
    labels_file = write_gz(tmp_path / "swapped.gz", idx_bytes(np.zeros(5)))
    with pytest.raises(
        SeqexpError,
        match=r"not an IDX images file: its magic number is "
        r"0x00000801, expected 0x00000803",
    ):
        read_idx(labels_file, ndim=3)
    floats = write_gz(tmp_path / "floats.gz", idx_bytes(np.zeros(5), magic=0x0D01))
    with pytest.raises(SeqexpError, match="0x00000d01, expected 0x00000801"):
        read_idx(floats, ndim=1)
    stub = write_gz(tmp_path / "stub.gz", b"\x00\x00\x08")
    with pytest.raises(SeqexpError, match="holds only 3 bytes, less than its 16-byte header"):
        read_idx(stub, ndim=3)


def test_label_range_and_count_mismatch_are_refused(make_cfg, tmp_path):
    arrays = write_fashion(tmp_path, n_train=30, n_test=10)
    bad = arrays["test_labels"].copy()
    bad[4] = 12
    write_gz(tmp_path / FILES["test_labels"], idx_bytes(bad))
    with pytest.raises(
        SeqexpError,
        match=r"has label 12, but data.class_names names only 10 "
        r"classes \(labels 0..9\)",
    ):
        load(make_cfg, f"data.path={tmp_path}")
    write_gz(tmp_path / FILES["test_labels"], idx_bytes(arrays["test_labels"][:7]))
    with pytest.raises(SeqexpError, match="holds 10 images but .*t10k-labels-idx1-ubyte.gz holds 7 labels"):
        load(make_cfg, f"data.path={tmp_path}")


# --- the loader ---------------------------------------------------------------------------------


def test_loader_scales_adds_channel_and_splits_with_seed(make_cfg, fashion):
    folder, arrays = fashion
    bundle = load(make_cfg, f"data.path={folder}", "trainer.batch_size=16")
    spec = bundle.spec
    assert (spec.task, spec.input_kind, spec.input_shape) == ("multiclass", "image", (28, 28, 1))
    assert spec.num_classes == 10 and spec.class_names == CLASSES
    assert spec.info["images"] == {"train": 160, "val": 40, "test": 50}
    assert [r.name for r in spec.reports] == ["class_report", "conv_report", "save_serving"]

    x_test, y_test = collect(bundle.test)  # in file order, scaled, with a channel axis
    assert x_test.dtype == np.float32 and x_test.shape == (50, 28, 28, 1)
    assert y_test.dtype == np.int32
    np.testing.assert_allclose(x_test[..., 0], arrays["test_images"] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y_test, arrays["test_labels"])
    assert 0.0 <= x_test.min() and x_test.max() <= 1.0

    # Validation: scikit-learn's train_test_split(test_size=0.2, random_state=42) draw, in order.
    order = np.random.RandomState(42).permutation(200)
    x_val, y_val = collect(bundle.val)
    np.testing.assert_array_equal(y_val, arrays["train_labels"][order[:40]])
    np.testing.assert_allclose(x_val[..., 0], arrays["train_images"][order[:40]] / 255.0, rtol=1e-6)
    x_train, y_train = collect(bundle.train)  # shuffled each epoch, same images
    assert x_train.shape == (160, 28, 28, 1) and next(iter(bundle.train))[0].shape[0] == 16
    assert sorted(y_train.tolist()) == sorted(arrays["train_labels"][order[40:]].tolist())

    other = load(make_cfg, f"data.path={folder}", "data.split_seed=1")
    assert not np.array_equal(collect(other.val)[1], y_val)


def test_loader_config_errors(make_cfg, fashion, tmp_path):
    folder, _ = fashion
    with pytest.raises(
        SeqexpError, match="data.validation_split=1.0 must be a number strictly between 0 and 1"
    ):
        load(make_cfg, f"data.path={folder}", "data.validation_split=1.0")
    with pytest.raises(SeqexpError, match=f"data.path={tmp_path / 'nope'} is not a folder"):
        load(make_cfg, f"data.path={tmp_path / 'nope'}")
    partial = tmp_path / "partial"
    write_gz(partial / FILES["train_images"], idx_bytes(np.zeros((2, 28, 28))))
    with pytest.raises(
        SeqexpError,
        match=r"lacks train-labels-idx1-ubyte.gz, t10k-images-"
        r"idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz "
        r"\(gzipped or not\)",
    ):
        load(make_cfg, f"data.path={partial}")


def test_real_source_is_pinned():
    conf = yaml.safe_load((Path(__file__).parents[2] / "conf/data/fashion-mnist.yaml").read_text())
    assert conf["base_url"].startswith("https://")
    assert {role: f["name"] for role, f in conf["files"].items()} == FILES
    sizes = {role: f["size"] for role, f in conf["files"].items()}
    assert sizes == {
        "train_images": 26421880,
        "train_labels": 29515,
        "test_images": 4422102,
        "test_labels": 5148,
    }
    assert conf["files"]["train_images"]["sha256"] == (
        "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc"
    )
    assert all(len(f["sha256"]) == 64 for f in conf["files"].values())
    assert conf["class_names"] == CLASSES


def pinned(folder: Path) -> list[str]:
    """Overrides pinning the fixture files' own sha256 and size instead of the real ones."""
    out = []
    for role, name in FILES.items():
        data = (folder / name).read_bytes()
        out += [
            f"data.files.{role}.sha256={hashlib.sha256(data).hexdigest()}",
            f"data.files.{role}.size={len(data)}",
        ]
    return out


def test_downloads_into_the_cache_checked_then_reuses_it(make_cfg, fashion, tmp_path):
    folder, arrays = fashion
    cache = tmp_path / "cache"
    args = [f"data.base_url={folder.as_uri()}", f"paths.cache_dir={cache}", *pinned(folder)]
    bundle = load(make_cfg, *args)
    for name in FILES.values():
        assert (cache / "fashion-mnist" / name).read_bytes() == (folder / name).read_bytes()
    assert bundle.spec.info["images"]["test"] == 50

    # A damaged cached copy with no reachable source: a clear error, nothing half-written.
    (cache / "fashion-mnist" / FILES["test_images"]).write_bytes(b"x" * 10)
    offline = [
        f"data.base_url={(tmp_path / 'offline').as_uri()}",
        f"paths.cache_dir={cache}",
        *pinned(folder),
    ]
    with pytest.raises(SeqexpError, match="Could not download t10k-images-idx3-ubyte.gz") as err:
        load(make_cfg, *offline)
    assert "data.path=/folder/with/the/four/idx/files" in str(err.value)
    assert not (cache / "fashion-mnist" / FILES["test_images"]).exists()
    assert (cache / "fashion-mnist" / (FILES["test_images"] + ".corrupt")).read_bytes() == b"x" * 10
    assert "was damaged (it has 10 bytes, expected" in str(err.value)
    assert not list((cache / "fashion-mnist").glob("*.part"))


def test_wrong_sha256_download_is_refused(make_cfg, fashion, tmp_path):
    folder, _ = fashion
    cache = tmp_path / "cache"
    with pytest.raises(
        SeqexpError,
        match="train-images-idx3-ubyte.gz .* is not the expected file: it has .* bytes, expected 26,421,880",
    ):
        load(make_cfg, f"data.base_url={folder.as_uri()}", f"paths.cache_dir={cache}")
    assert not (cache / "fashion-mnist" / FILES["train_images"]).exists()


# --- models -------------------------------------------------------------------------------------


def image_spec(shape=(28, 28, 1)):
    from seqexp.data.spec import DataSpec

    return DataSpec(
        task="multiclass", input_kind="image", input_shape=shape, num_classes=10, class_names=CLASSES
    )


def test_cnn_preset_is_the_hg_model(make_cfg):
    model = instantiate(make_cfg("model=cnn").model)(image_spec())
    shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in model.layers}
    assert shapes == {
        "image": (28, 28, 1), "conv1": (28, 28, 32), "pool1": (14, 14, 32),
        "conv2": (14, 14, 64), "pool2": (7, 7, 64), "flatten": (3136,), "dense1": (100,),
        "dropout1": (100,), "head": (10,),
    }  # fmt: skip
    assert model.count_params() == 333_526  # HG 8-2's summary
    assert model.get_layer("head").activation.__name__ == "softmax"
    assert model.get_layer("dropout1").rate == pytest.approx(0.4)


def test_cnn_parameters_are_overridable_and_checked(make_cfg):
    cfg = make_cfg(
        "model=cnn",
        "model.filters=[8,8,16]",
        "model.kernel_size=[5,3,3]",
        "model.pool_size=2",
        "model.padding=valid",
        "model.dense_units=[]",
    )
    model = instantiate(cfg.model)(image_spec())
    assert model.get_layer("conv1").output.shape[1:] == (24, 24, 8)
    assert model.get_layer("conv3").output.shape[1:] == (3, 3, 16)
    assert model.get_layer("conv1").kernel.shape == (5, 5, 1, 8)
    assert not any(layer.name.startswith("dense") for layer in model.layers)
    too_deep = make_cfg("model=cnn", "model.filters=[8,8,8,8,8]")
    with pytest.raises(SeqexpError, match=r"shrink the \(28, 28\) images to nothing"):
        instantiate(too_deep.model)(image_spec())
    with pytest.raises(SeqexpError, match=r"model.kernel_size=\[3, 3\] has 2 values for 3 layers"):
        instantiate(make_cfg("model=cnn", "model.filters=[4,4,4]", "model.kernel_size=[3,3]").model)(
            image_spec()
        )


@pytest.mark.parametrize("model", ["lstm", "gru", "conv1d", "bidirectional_lstm", "naive"])
def test_sequence_models_are_refused_for_images_before_loading(make_cfg, tmp_path, model):
    cfg = make_cfg("data=fashion-mnist", f"model={model}", f"data.path={tmp_path / 'absent'}")
    with pytest.raises(SeqexpError, match="cannot take the image input of data=") as err:
        train(cfg)
    assert "Pick a model built for image input" in str(err.value)


def test_dense_trains_on_images_and_conv_report_is_skipped(make_cfg, fashion, tmp_path):
    folder, _ = fashion
    run = tmp_path / "dense"
    train(make_cfg("data=fashion-mnist", "model=dense", f"data.path={folder}", *SHORT, run_dir=run))
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "completed"
    assert metrics["extras"]["conv_report"] == {"skipped": "model dense has no Conv2D layer"}
    assert metrics["extras"]["class_report"]["test_images"] == 50
    assert (run / "confusion_matrix.png").exists() and not (run / "filters.png").exists()


def test_the_reports_see_the_test_batches_the_test_metrics_saw(make_cfg, fashion, tmp_path):
    """trainer.test_steps limits the test split for the metrics and the reports alike: one
    accuracy per run, over the same images (the first batch of 16 of the 50 test images)."""
    folder, _ = fashion
    run = tmp_path / "limited"
    train(
        make_cfg(
            "data=fashion-mnist",
            "model=dense",
            f"data.path={folder}",
            *SHORT,
            "trainer.batch_size=16",
            "trainer.test_steps=1",
            run_dir=run,
        )
    )
    metrics = json.loads((run / "metrics.json").read_text())
    report = metrics["extras"]["class_report"]
    assert report["test_images"] == 16 and np.array(report["confusion_matrix"]).sum() == 16
    assert report["accuracy"] == pytest.approx(metrics["test"]["accuracy"], abs=1e-6)


# --- the HG 8-2 / 8-3 preset ---------------------------------------------------------------------


def test_preset_config_is_hg_8_2(make_cfg):
    cfg = make_cfg("experiment=hg_fashion_cnn")
    assert cfg.data._target_.endswith("load_fashion_mnist")
    assert cfg.model._target_.endswith("build_cnn") and list(cfg.model.filters) == [32, 64]
    assert cfg.optimizer._target_ == "seqexp.run.optimizers.adam"
    assert (cfg.trainer.epochs, cfg.trainer.batch_size, cfg.trainer.monitor) == (20, 32, "val_loss")
    assert cfg.callbacks.early_stopping.patience == 2
    assert cfg.callbacks.early_stopping.restore_best_weights is True
    assert cfg.callbacks.checkpoint.enabled is True
    assert (cfg.data.validation_split, cfg.data.split_seed) == (0.2, 42)


def test_preset_short_run_writes_every_image_and_per_class_accuracy(make_cfg, fashion, tmp_path):
    folder, _ = fashion
    run = tmp_path / "preset"
    train(make_cfg("experiment=hg_fashion_cnn", f"data.path={folder}", *SHORT, run_dir=run))
    assert (run / "checkpoints" / "best.keras").exists()
    for name in PNGS:
        image = mpimg.imread(run / name)
        assert image.ndim == 3 and image.shape[0] >= 200 and image.shape[1] >= 300, name
        assert image[..., :3].std() > 0.05, f"{name} is blank"
    metrics = json.loads((run / "metrics.json").read_text())
    report = metrics["extras"]["class_report"]
    assert list(report["per_class_accuracy"]) == CLASSES
    assert all(0.0 <= v <= 1.0 for v in report["per_class_accuracy"].values())
    counts = np.array(report["confusion_matrix"])
    assert counts.shape == (10, 10) and counts.sum() == 50
    assert report["accuracy"] == pytest.approx(metrics["test"]["accuracy"], abs=1e-6)
    conv = metrics["extras"]["conv_report"]
    assert conv["conv_layers"] == ["conv1", "conv2"]
    assert conv["first_layer_kernel_shape"] == [3, 3, 1, 32]
    assert conv["feature_map_shapes"] == [[28, 28, 32], [14, 14, 64]]


def test_cnn_learns_separable_images_well_above_chance(make_cfg, tmp_path):
    folder = tmp_path / "data"
    write_fashion(folder, n_train=300, n_test=100, seed=5)
    run = tmp_path / "learn"
    train(
        make_cfg(
            "experiment=hg_fashion_cnn",
            f"data.path={folder}",
            "trainer.epochs=3",
            "model.filters=[8,16]",
            "model.dense_units=[32]",
            run_dir=run,
        )
    )
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] >= 0.8  # chance: 0.1
    per_class = metrics["extras"]["class_report"]["per_class_accuracy"]
    assert sum(v >= 0.5 for v in per_class.values()) >= 8


@pytest.mark.parametrize(("n", "fraction", "held_out"), [(10, 0.25, 3), (60000, 0.2, 12000), (7, 0.1, 1)])
def test_the_validation_split_rounds_up_as_shufflesplit_does(n, fraction, held_out):
    """scikit-learn's ShuffleSplit holds out ceil(fraction * n) (HG's split): 10 * 0.25 -> 3."""
    train_idx, val_idx = validation_indices(n, fraction, seed=42)
    assert len(val_idx) == held_out and len(train_idx) == n - held_out
    assert sorted([*train_idx, *val_idx]) == list(range(n))
