"""A look inside a trained image classifier (HG 8-3), as task reports of the data contract.

Each report is `report(model, bundle, run_dir) -> dict`: it writes its PNGs into the run
directory and returns the figures stored under its name in metrics.json["extras"].

- class_report: confusion_matrix.png, predictions.png, per-class test accuracy.
- conv_report: filters.png (first Conv2D's kernels on one colour scale), weights_hist.png
  (that layer's weights trained vs freshly initialised), feature_maps.png (one test image and
  the maps each Conv2D layer makes of it). Models without a Conv2D layer skip it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from seqexp.reports.curves import plt, save_figure

MAX_MAPS = 64  # feature maps drawn per conv layer (HG: 32 after conv 1, 64 after conv 2)


def class_labels(spec) -> list[str]:
    return list(spec.class_names or [str(i) for i in range(spec.num_classes)])


def collect_test(model, bundle, keep_images: int = 0):
    """(first `keep_images` test images, all true labels, all predicted labels) in test order."""
    images, labels, predicted = [], [], []
    kept = 0
    for x, y in bundle.test:
        probs = model.predict_on_batch(x)  # compiled: ~3x faster than eager model(x)
        predicted.append(np.argmax(np.asarray(probs), axis=-1))
        labels.append(np.asarray(y).reshape(-1))
        if kept < keep_images:
            images.append(np.asarray(x)[: keep_images - kept])
            kept += len(images[-1])
    images = np.concatenate(images) if images else np.zeros((0, *bundle.spec.input_shape))
    return images, np.concatenate(labels).astype(int), np.concatenate(predicted).astype(int)


def confusion(labels: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """counts[true, predicted]."""
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (labels, predicted), 1)
    return counts


def drawable(image) -> tuple[np.ndarray, str | None]:
    """A (h, w, 1) grey image as (h, w) with the grey colour map; a (h, w, 3) one as it is."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    return image, "gray_r" if image.ndim == 2 else None


def show_image(ax, image, **kwargs):
    """A (h, w, 1) grey or (h, w, 3) colour image without axes."""
    image, cmap = drawable(image)
    ax.imshow(image, cmap=cmap, **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_confusion(counts: np.ndarray, names: list[str], path: Path, accuracy: float) -> None:
    rows = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, rows, out=np.zeros(counts.shape, dtype=float), where=rows > 0)
    n = len(names)
    size = max(5.0, 0.6 * n + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")
    for i in range(n):
        for j in range(n):
            if counts[i, j]:
                ax.text(
                    j,
                    i,
                    str(counts[i, j]),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if share[i, j] > 0.5 else "black",
                )
    ax.set_xticks(range(n), names, rotation=45, ha="right")
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"Test confusion matrix (accuracy {accuracy:.3f})")
    save_figure(fig, path)


def plot_predictions(images, labels, predicted, names, path: Path, cols: int = 6) -> int:
    """A grid of test images titled `predicted (true)`; wrong ones in red with a red frame.

    One Axes holds the whole grid (titles are text, frames rectangles): a subplot per image cost
    ~10 ms each.
    """
    from matplotlib.patches import Rectangle

    n = len(images)
    rows = max(1, math.ceil(n / cols))
    fig, ax = plt.subplots(figsize=(2.0 * cols, 2.3 * rows))
    ax.set_axis_off()
    if n == 0:
        ax.text(0.5, 0.5, "no test images", ha="center", va="center", transform=ax.transAxes)
    wrong = 0
    for k in range(n):
        r, c = divmod(k, cols)
        image, cmap = drawable(images[k])
        # each image in a unit cell with room above it for its title; y grows downwards
        left, top = c * 1.1, r * 1.45 + 0.4
        extent = (left, left + 1, top + 1, top)
        ax.imshow(image, cmap=cmap, vmin=0, vmax=1, extent=extent)
        ok = labels[k] == predicted[k]
        wrong += not ok
        colour = "black" if ok else "red"
        label = f"{names[predicted[k]]}\n(true: {names[labels[k]]})"
        ax.text(left + 0.5, top - 0.04, label, ha="center", va="bottom", fontsize=8, color=colour)
        if not ok:
            ax.add_patch(Rectangle((left, top), 1, 1, fill=False, edgecolor="red", linewidth=3))
    ax.set_xlim(-0.05, cols * 1.1)
    ax.set_ylim(rows * 1.45 + 0.05, 0)
    fig.suptitle(f"First {n} test images: predicted (true); {wrong} wrong, in red")
    save_figure(fig, path)
    return wrong


def class_report(model, bundle, run_dir) -> dict:
    """confusion_matrix.png, predictions.png and the per-class accuracy of the test split."""
    run_dir = Path(run_dir)
    names = class_labels(bundle.spec)
    images, labels, predicted = collect_test(model, bundle, keep_images=24)
    counts = confusion(labels, predicted, len(names))
    accuracy = float(np.mean(labels == predicted)) if len(labels) else float("nan")
    per_class = {
        name: (float(counts[i, i] / counts[i].sum()) if counts[i].sum() else None)
        for i, name in enumerate(names)
    }
    plot_confusion(counts, names, run_dir / "confusion_matrix.png", accuracy)
    wrong = plot_predictions(images, labels, predicted, names, run_dir / "predictions.png")
    return {
        "test_images": int(len(labels)),
        "accuracy": accuracy,
        "per_class_accuracy": per_class,
        "confusion_matrix": counts.tolist(),  # rows: true class, columns: predicted class
        "shown_wrong": wrong,
        "files": ["confusion_matrix.png", "predictions.png"],
    }


def conv_layers(model) -> list:
    import keras

    return [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


def fresh_copy(model):
    """The same architecture with newly initialised weights, rebuilt from the model's config."""
    import keras

    return keras.models.clone_model(model)


def mosaic(tiles: np.ndarray, cols: int) -> np.ndarray:
    """(h, w, n) tiles as one (rows*(h+1)-1, cols*(w+1)-1) image, a NaN gap between tiles.

    One imshow of the mosaic draws in a few milliseconds what n subplots draw in about a second
    (matplotlib's cost is per Axes: ~8 ms each for the 96 tiles of HG's feature maps).
    """
    h, w, n = tiles.shape
    rows = math.ceil(n / cols)
    out = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan)
    for k in range(n):
        r, c = divmod(k, cols)
        out[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = tiles[..., k]
    return out


def show_mosaic(ax, image: np.ndarray, cmap: str, **kwargs):
    """A mosaic without axes; the gaps drawn white."""
    colours = plt.get_cmap(cmap).with_extremes(bad="white")
    im = ax.imshow(image, cmap=colours, interpolation="nearest", **kwargs)
    ax.set_axis_off()
    return im


def plot_filters(kernel: np.ndarray, path: Path, layer_name: str, cols: int = 16) -> float:
    """Every kernel of a (kh, kw, in, out) weight tensor as one tile, all on one colour scale.

    A multi-channel input shows each kernel's mean over the input channels.
    """
    tiles = kernel.mean(axis=2)  # (kh, kw, out)
    n = tiles.shape[-1]
    cols = min(cols, n)
    rows = math.ceil(n / cols)
    limit = float(np.abs(tiles).max()) or 1.0
    fig, ax = plt.subplots(figsize=(0.9 * cols + 1.2, 0.9 * rows + 0.8))
    im = show_mosaic(ax, mosaic(tiles, cols), "RdBu_r", vmin=-limit, vmax=limit)
    fig.colorbar(im, ax=ax, fraction=0.02, pad=0.02, label="weight")
    fig.suptitle(
        f"{layer_name}: {n} kernels of {tiles.shape[0]}x{tiles.shape[1]} (one colour scale, ±{limit:.2f})"
    )
    save_figure(fig, path)
    return limit


def each_on_its_own_scale(maps: np.ndarray) -> np.ndarray:
    """(h, w, n) maps each stretched to [0, 1], as imshow shows a lone map (a flat one is 0)."""
    low = maps.min(axis=(0, 1), keepdims=True)
    span = maps.max(axis=(0, 1), keepdims=True) - low
    return np.divide(maps - low, span, out=np.zeros(maps.shape), where=span > 0)


def plot_weight_hist(trained: np.ndarray, fresh: np.ndarray, path: Path, layer_name: str) -> None:
    trained, fresh = trained.ravel(), fresh.ravel()
    low = min(trained.min(), fresh.min())
    high = max(trained.max(), fresh.max())
    bins = np.linspace(low, high, 41) if high > low else 40
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharex=True)
    panels = ((axes[0], trained, "trained"), (axes[1], fresh, "freshly initialised"))
    for ax, values, title in panels:
        ax.hist(values, bins=bins, color="tab:blue" if title == "trained" else "tab:gray")
        ax.set_title(f"{title}: mean {values.mean():.3f}, std {values.std():.3f}")
        ax.set_xlabel("weight")
        ax.set_ylabel("count")
        ax.grid(alpha=0.3)
    fig.suptitle(f"{layer_name} kernel weights")
    save_figure(fig, path)


def plot_feature_maps(
    image: np.ndarray, maps: list[np.ndarray], names: list[str], path: Path, title: str, cols: int = 8
) -> list[int]:
    """The image on top, then one mosaic of maps per conv layer; returns how many each shows."""
    counts = [min(m.shape[-1], MAX_MAPS) for m in maps]
    cols = min(cols, max(counts))
    tile = 1.1
    heights = [2.6] + [tile * math.ceil(c / min(cols, c)) + 0.5 for c in counts]
    fig, axes = plt.subplots(
        len(heights), 1, figsize=(tile * cols, sum(heights)), height_ratios=heights, squeeze=False
    )
    show_image(axes[0, 0], image, vmin=0, vmax=1)
    axes[0, 0].set_title(title)
    for ax, fmap, name, count in zip(axes[1:, 0], maps, names, counts, strict=True):
        show_mosaic(ax, mosaic(each_on_its_own_scale(fmap[..., :count]), min(cols, count)), "viridis")
        ax.set_title(
            f"after {name}: {fmap.shape[-1]} maps of {fmap.shape[0]}x{fmap.shape[1]}"
            + (f" (first {count} shown)" if count < fmap.shape[-1] else ""),
            fontsize=10,
        )
    save_figure(fig, path)
    return counts


def conv_report(model, bundle, run_dir) -> dict:
    """filters.png, weights_hist.png and feature_maps.png of a model with Conv2D layers."""
    import keras

    run_dir = Path(run_dir)
    convs = conv_layers(model)
    if not convs:
        return {"skipped": f"model {model.name} has no Conv2D layer"}
    first = convs[0]
    kernel = np.asarray(first.kernel)
    limit = plot_filters(kernel, run_dir / "filters.png", first.name)

    fresh_model = fresh_copy(model)
    fresh_first = conv_layers(fresh_model)[0]
    fresh_kernel = np.asarray(fresh_first.kernel)
    plot_weight_hist(kernel, fresh_kernel, run_dir / "weights_hist.png", first.name)

    x, y = next(iter(bundle.test))
    image, label = np.asarray(x)[:1], int(np.asarray(y).reshape(-1)[0])
    probe = keras.Model(model.input, [layer.output for layer in convs])
    maps = probe(image, training=False)
    maps = [np.asarray(m)[0] for m in (maps if isinstance(maps, list | tuple) else [maps])]
    names = class_labels(bundle.spec)
    shown = plot_feature_maps(
        image[0],
        maps,
        [layer.name for layer in convs],
        run_dir / "feature_maps.png",
        f"first test image (true class: {names[label]})",
    )
    return {
        "conv_layers": [layer.name for layer in convs],
        "first_layer_kernel_shape": list(kernel.shape),
        "first_layer_weights": {
            "trained": {"mean": float(kernel.mean()), "std": float(kernel.std()), "max_abs": limit},
            "fresh": {"mean": float(fresh_kernel.mean()), "std": float(fresh_kernel.std())},
        },
        "feature_map_shapes": [list(m.shape) for m in maps],
        "feature_maps_shown": shown,  # at most MAX_MAPS per layer
        "files": ["filters.png", "weights_hist.png", "feature_maps.png"],
    }
