"""Writers of tiny datasets in the official on-disk formats, for tests (no downloads).

Each writer returns what it wrote so a test can check a reader round-trips it exactly.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
from PIL import Image

CIFAR10_CLASSES = [
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
]  # fmt: skip


def _cifar_batch(rng: np.random.Generator, count: int, label: str) -> dict[bytes, object]:
    """One batch dict exactly as the release pickles it (bytes keys, list labels)."""
    return {
        b"batch_label": label.encode(),
        b"labels": rng.integers(0, 10, count).tolist(),
        b"data": rng.integers(0, 256, (count, 3072), dtype=np.uint8),
        b"filenames": [f"img_{i}.png".encode() for i in range(count)],
    }


def write_fake_cifar10(
    root: str | Path, *, per_batch: int = 4, test_size: int = 6, seed: int = 0
) -> dict[str, np.ndarray]:
    """Write ``root/cifar-10-batches-py`` in the official pickle layout (protocol 2).

    Returns ``train_data`` (5·per_batch × 3072 uint8, batches 1..5 in order), ``train_labels``,
    ``test_data`` and ``test_labels``.
    """
    directory = Path(root) / "cifar-10-batches-py"
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    batches = [_cifar_batch(rng, per_batch, f"training batch {i} of 5") for i in range(1, 6)]
    test = _cifar_batch(rng, test_size, "testing batch 1 of 1")
    files = {f"data_batch_{i}": batch for i, batch in enumerate(batches, start=1)}
    files["test_batch"] = test
    files["batches.meta"] = {
        b"num_cases_per_batch": per_batch,
        b"label_names": [name.encode() for name in CIFAR10_CLASSES],
        b"num_vis": 3072,
    }
    for name, content in files.items():
        with (directory / name).open("wb") as handle:
            pickle.dump(content, handle, protocol=2)
    return {
        "train_data": np.concatenate([b[b"data"] for b in batches]),
        "train_labels": np.concatenate([b[b"labels"] for b in batches]),
        "test_data": test[b"data"],
        "test_labels": np.asarray(test[b"labels"]),
    }


def write_fake_imagenet(
    root: str | Path,
    *,
    classes: tuple[str, ...] = ("n01440764", "n01443537", "n01484850"),
    train_per_class: int = 2,
    val_per_class: int = 1,
    size: tuple[int, int] = (40, 30),
    seed: int = 0,
) -> dict[str, list[tuple[Path, int]]]:
    """Write ``root/train/<wnid>/*.JPEG`` and ``root/val/<wnid>/*.JPEG`` of random RGB images.

    ``size`` is (width, height). Returns the (path, class index) lists per split, sorted as a
    reader sorts them.
    """
    rng = np.random.default_rng(seed)
    written: dict[str, list[tuple[Path, int]]] = {"train": [], "val": []}
    for split, count in (("train", train_per_class), ("val", val_per_class)):
        for index, wnid in enumerate(classes):
            folder = Path(root) / split / wnid
            folder.mkdir(parents=True, exist_ok=True)
            for number in range(count):
                pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
                path = folder / f"{wnid}_{number}.JPEG"
                Image.fromarray(pixels).save(path, format="JPEG")
                written[split].append((path, index))
    return written


def write_fake_cifar10c(root: str | Path, *, per_severity: int = 4, seed: int = 0) -> Path:
    """Write ``root/CIFAR-10-C`` in the release layout: every corruption's ``.npy`` of
    5 severities × ``per_severity`` random 32×32×3 uint8 images, plus ``labels.npy``."""
    from bibench_cli.data.corruptions import CORRUPTIONS

    directory = Path(root) / "CIFAR-10-C"
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    np.save(directory / "labels.npy", np.tile(rng.integers(0, 10, per_severity), 5))
    for name in CORRUPTIONS:
        np.save(
            directory / f"{name}.npy",
            rng.integers(0, 256, (5 * per_severity, 32, 32, 3), dtype=np.uint8),
        )
    return directory
