"""Fashion-MNIST: 28x28 grey images of 10 kinds of clothing, read from the four IDX gz files.

HG 8-2 protocol: pixels scaled to [0, 1] with a channel axis added (28, 28, 1); 20 % of the
60,000 training images held out for validation with a seeded shuffle (split_seed 42 draws the
same 48,000 / 12,000 split as scikit-learn's `train_test_split(test_size=0.2, random_state=42)`);
the 10,000 t10k images are the test split. Images stay uint8 in memory and are scaled per batch
by the pipeline, so the whole dataset costs ~55 MB.

The loader attaches the HG 8-3 reports (seqexp/reports/insight.py) to the spec: after training they
draw the first conv layer's filters, weight histograms, feature maps, the confusion matrix and
a grid of test predictions, and store per-class accuracy in metrics.json.
"""

from __future__ import annotations

import gzip
import logging
import math
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import numpy as np
from pydantic import ConfigDict, Field
from typing_extensions import TypedDict

from seqexp.config.checks import checked
from seqexp.config.types import BatchSize, PositiveInt, Seed
from seqexp.data.download import fetch
from seqexp.data.pipeline import batches, cast
from seqexp.data.serving import Options, Serving, input_files
from seqexp.data.spec import DataBundle, DataSpec, Report, provides
from seqexp.errors import SeqexpError

log = logging.getLogger(__name__)

CACHE_SUBDIR = "fashion-mnist"  # the Keras cache layout: ~/.keras/datasets/fashion-mnist/
IMAGE_MAGIC, LABEL_MAGIC = 0x00000803, 0x00000801  # ubyte with 3 dims / ubyte with 1 dim
GZIP_MAGIC = b"\x1f\x8b"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def read_idx(path: str | Path, ndim: int) -> np.ndarray:
    """An IDX file (gzipped or not) as a uint8 array of `ndim` dimensions.

    IDX: two zero bytes, an element-type byte (0x08 = ubyte), a dimension-count byte, one
    big-endian uint32 per dimension, then the elements in row-major order.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as err:
            raise SeqexpError(
                f"{path} is a damaged or truncated gzip file ({err}). Delete it so it is "
                f"downloaded again, or replace it with an intact copy."
            ) from None
    kind = "images" if ndim == 3 else "labels"
    expected_magic = IMAGE_MAGIC if ndim == 3 else LABEL_MAGIC
    magic = int.from_bytes(raw[:4], "big")
    if len(raw) >= 4 and magic != expected_magic:
        raise SeqexpError(
            f"{path} is not an IDX {kind} file: its magic number is 0x{magic:08x}, expected "
            f"0x{expected_magic:08x} (unsigned bytes, {ndim} dimension{'s' * (ndim > 1)}). "
            f"Check that the four files are not swapped or renamed."
        )
    if len(raw) < 4 + 4 * ndim:
        raise SeqexpError(
            f"{path} is not an IDX {kind} file: it holds only {len(raw)} bytes, less than its "
            f"{4 + 4 * ndim}-byte header."
        )
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    body = raw[4 + 4 * ndim :]
    expected = math.prod(shape)
    if len(body) != expected:
        raise SeqexpError(
            f"{path} is truncated or padded: its header announces {kind} of shape {shape} "
            f"({expected:,} bytes of data) but the file holds {len(body):,} bytes after the header."
        )
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)


def read_split(images_path: Path, labels_path: Path, num_classes: int):
    """Matching (n, h, w) images and (n,) labels, every label a valid class index."""
    images = read_idx(images_path, ndim=3)
    labels = read_idx(labels_path, ndim=1)
    if len(images) != len(labels):
        raise SeqexpError(
            f"{images_path} holds {len(images):,} images but {labels_path} holds "
            f"{len(labels):,} labels; the two files must come from the same split."
        )
    if len(labels) and labels.max() >= num_classes:
        raise SeqexpError(
            f"{labels_path} has label {int(labels.max())}, but data.class_names names only "
            f"{num_classes} classes (labels 0..{num_classes - 1})."
        )
    return images, labels


def locate(path: str | Path | None, base_url: str, files: Mapping, cache_dir: str | None) -> dict:
    """The local path of each of the four files: from `data.path` or the checked cache."""
    if path is not None:
        folder = Path(path).expanduser()
        if not folder.is_dir():
            raise SeqexpError(
                f"data.path={folder} is not a folder; give the folder that holds "
                f"{', '.join(files[r]['name'] for r in ROLES)}."
            )
        found, missing = {}, []
        for role in ROLES:
            name = files[role]["name"]
            candidates = [folder / name, folder / name.removesuffix(".gz")]
            hit = next((c for c in candidates if c.is_file()), None)
            if hit is None:
                missing.append(name)
            found[role] = hit
        if missing:
            raise SeqexpError(
                f"data.path={folder} lacks {', '.join(missing)} (gzipped or not). It must hold "
                f"the four Fashion-MNIST IDX files: {', '.join(files[r]['name'] for r in ROLES)}."
            )
        return found

    return {
        role: fetch(
            base_url.rstrip("/") + "/" + files[role]["name"],
            files[role]["name"],
            sha256=files[role].get("sha256"),
            size=files[role].get("size"),
            cache_dir=cache_dir,
            subdir=CACHE_SUBDIR,
            how_to_provide="pass data.path=/folder/with/the/four/idx/files",
        )
        for role in ROLES
    }


def validation_indices(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, val) indices: scikit-learn's ShuffleSplit draw, so HG's split is reproduced."""
    n_val = math.ceil(fraction * n)
    order = np.random.RandomState(seed).permutation(n)
    return order[n_val:], order[:n_val]


def image_dataset(images: np.ndarray, labels: np.ndarray, batch_size: int, shuffle=False, seed=0):
    """Batched (float32 (h, w, 1) in [0, 1], int32 label) pairs; uint8 until a batch is formed."""

    def scale(x, y):  # NumPy or tf batches (seqexp.data.pipeline)
        return cast(x, "float32")[..., None] / 255.0, cast(y, "int32")

    return batches((images, labels), batch_size, shuffle=shuffle, seed=seed, per_batch=scale)


class IdxFile(TypedDict):
    """One of the four files: its name (in data.path or at base_url), sha256 and size in bytes."""

    __pydantic_config__ = ConfigDict(extra="forbid")
    name: str
    sha256: str | None
    size: PositiveInt | None


class Files(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid")
    train_images: IdxFile
    train_labels: IdxFile
    test_images: IdxFile
    test_labels: IdxFile


ROLES = tuple(Files.__annotations__)


@provides("image")
@checked("data")
def load_fashion_mnist(
    *,
    path: str | None,
    base_url: str,
    files: Files,
    cache_dir: str | None,
    class_names: Annotated[list[str], Field(min_length=2)],
    validation_split: Annotated[float, Field(gt=0, lt=1, description="HG: 0.2")],
    split_seed: Seed,
    batch_size: BatchSize,
    seed: Seed,
) -> DataBundle:
    class_names = [str(name) for name in class_names]
    paths = locate(path, base_url, files or {}, cache_dir)
    x_full, y_full = read_split(paths["train_images"], paths["train_labels"], len(class_names))
    x_test, y_test = read_split(paths["test_images"], paths["test_labels"], len(class_names))
    if x_full.shape[1:] != x_test.shape[1:]:
        raise SeqexpError(
            f"Training images are {x_full.shape[1:]} but test images {x_test.shape[1:]}: "
            f"{paths['train_images']} and {paths['test_images']} are not from one dataset."
        )
    train_idx, val_idx = validation_indices(len(x_full), validation_split, split_seed)
    if len(train_idx) == 0 or len(x_test) == 0:
        raise SeqexpError(
            f"data.validation_split={validation_split} of {len(x_full)} training images leaves "
            f"{len(train_idx)} for training and the test file holds {len(x_test)} images; both "
            f"must be more than 0."
        )
    counts = {"train": len(train_idx), "val": len(val_idx), "test": len(x_test)}
    log.info("Fashion-MNIST %s images of %s from %s", counts, x_full.shape[1:], paths["train_images"].parent)

    spec = DataSpec(
        task="multiclass",
        input_kind="image",
        input_shape=(*x_full.shape[1:], 1),
        num_classes=len(class_names),
        class_names=class_names,
        info={
            "images": counts,
            "split_seed": split_seed,
            "files": {role: str(p) for role, p in paths.items()},
        },
        reports=[
            Report("seqexp.reports.insight.class_report"),
            Report("seqexp.reports.insight.conv_report"),
        ],
        serving=FashionServing(scale=255),
    )
    return DataBundle(
        train=image_dataset(x_full[train_idx], y_full[train_idx], batch_size, shuffle=True, seed=seed),
        val=image_dataset(x_full[val_idx], y_full[val_idx], batch_size),
        test=image_dataset(x_test, y_test, batch_size),
        spec=spec,
    )


# --- serving: a trained model on new images ----------------------------------------------------


class FashionServing(Serving):
    """Pixels are divided by `scale` as in training; new images are PNG/JPEG files (any size,
    made grey and resized) or IDX image files; the output is each class's probability."""

    scale: float

    def read(self, inputs, options: Options, run_dir: Path) -> tuple[list[str], np.ndarray]:
        """(names, float32 pixels 0..255 of shape (n, h, w, 1)) from PNG/JPEG or IDX image files."""
        from PIL import Image, UnidentifiedImageError

        height, width = self.input_shape[0], self.input_shape[1]
        expected = f"PNG/JPEG images or an IDX image file ({height}x{width}, like t10k-images-idx3-ubyte)"
        names, pixels = [], []
        for path in input_files(inputs, (*IMAGE_SUFFIXES, ".gz", ".idx3-ubyte"), expected):
            head = path.read_bytes()[:4]
            if head[:2] == GZIP_MAGIC or int.from_bytes(head, "big") == IMAGE_MAGIC:
                array = read_idx(path, ndim=3)
                if array.shape[1:] != (height, width):
                    raise SeqexpError(
                        f"input={path} holds {array.shape[1]}x{array.shape[2]} images; "
                        f"the model takes {height}x{width}."
                    )
                names += [f"{path.name}[{i}]" for i in range(len(array))]
                pixels.append(array.astype(np.float32))
                continue
            try:
                with Image.open(path) as image:
                    grey = image.convert("L").resize((width, height), Image.Resampling.BILINEAR)
            except (UnidentifiedImageError, OSError) as err:
                raise SeqexpError(f"input={path} is not an image ({err}); expected {expected}.") from None
            names.append(path.name)
            pixels.append(np.asarray(grey, dtype=np.float32)[None])
        return names, np.concatenate(pixels)[..., None]

    def serving_model(self, model, run_dir: Path, text: bool = True):
        """Grey pixels 0..255 -> / scale -> the model -> class probabilities."""
        import keras

        inputs = keras.Input(tuple(self.input_shape), dtype="float32", name="pixels")
        x = keras.layers.Rescaling(1.0 / self.scale, name="to_unit_range")(inputs)
        return keras.Model(inputs, model(x), name="classifier")

    def describe(self, text: bool) -> dict:
        return {
            "input": f"grey pixels 0..{self.scale:g}, images resized to "
            f"{self.input_shape[0]}x{self.input_shape[1]}, white object on black",
            "inside": [f"x / {self.scale:g}", "the model"],
            "output": {"class_names": self.class_names, "meaning": "probability of each class"},
        }
