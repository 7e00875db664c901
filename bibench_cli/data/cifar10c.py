"""Reader for the official CIFAR-10-C release (Hendrycks & Dietterich, Zenodo record 2535967).

The release is a directory of ``<corruption>.npy`` files, each 50,000 uint8 ``32×32×3``
images: the 10,000 CIFAR-10 test images at severity 1, then 2, ... 5; plus ``labels.npy``
(50,000 labels, the test labels repeated per severity). Files are memory-mapped, so
reading one severity touches 10,000 images, not 50,000.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bibench_cli.data.corruptions import CORRUPTIONS, SEVERITIES
from bibench_cli.data.errors import CorruptDatasetError, DatasetNotFoundError

CIFAR10C_URL = "https://zenodo.org/record/2535967"
HOW_TO_GET = (
    f"download CIFAR-10-C.tar from {CIFAR10C_URL} and extract it "
    "(the CIFAR-10-C/ directory holds the .npy files)"
)
LABELS_FILE = "labels.npy"
IMAGE_SHAPE = (32, 32, 3)


def release_files(root: Path) -> list[Path]:
    """The ``.npy`` files of the release found in ``root`` (labels excluded), by name."""
    return sorted(p for p in root.glob("*.npy") if p.name != LABELS_FILE)


def available_cifar10c(root: str | Path) -> list[str]:
    """Corruption names with a ``<name>.npy`` in ``root``, in release (registry) order."""
    root = Path(root)
    check_root(root)
    present = {p.stem for p in release_files(root)}
    return [name for name in CORRUPTIONS if name in present]


def check_root(root: Path) -> None:
    """A missing directory gets the one-line message: where, what, how to get it."""
    if not root.is_dir():
        raise DatasetNotFoundError(
            f"CIFAR-10-C not found: {root} is not a directory; expected <corruption>.npy "
            f"files and {LABELS_FILE} there; {HOW_TO_GET}"
        )


def memmap(path: Path) -> np.ndarray:
    """Memory-map one release file; missing or unreadable files get one-line messages."""
    if not path.is_file():
        raise DatasetNotFoundError(
            f"CIFAR-10-C file missing: {path}; expected {path.name} beside the other "
            f"release files in {path.parent}; {HOW_TO_GET}"
        )
    try:
        return np.load(path, mmap_mode="r")
    except (ValueError, OSError, EOFError) as error:
        reason = " ".join(str(error).split())
        raise CorruptDatasetError(
            f"CIFAR-10-C file unreadable: {path} ({reason}); re-extract it; {HOW_TO_GET}"
        ) from None


def malformed(path: Path, array: np.ndarray, expected: str) -> CorruptDatasetError:
    """The one-line message for a readable file of the wrong type or shape."""
    return CorruptDatasetError(
        f"CIFAR-10-C file malformed: {path} holds {array.dtype} {array.shape}, expected "
        f"{expected}; re-extract it; {HOW_TO_GET}"
    )


def open_labels(root: Path) -> np.ndarray:
    """``labels.npy``: integer labels, one per image, a multiple of the 5 severities long."""
    path = root / LABELS_FILE
    labels = memmap(path)
    if (
        labels.ndim != 1
        or not np.issubdtype(labels.dtype, np.integer)
        or len(labels) == 0
        or len(labels) % len(SEVERITIES)
    ):
        raise malformed(path, labels, f"1-D integer labels, a multiple of {len(SEVERITIES)}")
    return labels


def open_images(root: Path, corruption: str, count: int) -> np.ndarray:
    """``<corruption>.npy``: uint8 images, as many as there are labels."""
    path = root / f"{corruption}.npy"
    images = memmap(path)
    expected = (count, *IMAGE_SHAPE)
    if images.dtype != np.uint8 or images.shape != expected:
        raise malformed(path, images, f"uint8 {expected} like {LABELS_FILE}")
    return images


def load_cifar10c(
    root: str | Path, corruption: str, severity: int
) -> tuple[np.ndarray, np.ndarray]:
    """One corruption at one severity: uint8 ``N×32×32×3`` images and their int64 labels.

    ``N`` is a fifth of the file (10,000 for the official release). Only that slice is read
    from disk; the returned arrays are ordinary in-memory copies.
    """
    if corruption not in CORRUPTIONS:
        raise ValueError(
            f"unknown CIFAR-10-C corruption {corruption!r}; expected one of: "
            f"{', '.join(CORRUPTIONS)}"
        )
    if isinstance(severity, bool) or severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}, got {severity!r}")
    root = Path(root)
    check_root(root)
    labels = open_labels(root)
    images = open_images(root, corruption, len(labels))
    per_severity = len(labels) // len(SEVERITIES)
    rows = slice((severity - 1) * per_severity, severity * per_severity)
    return np.array(images[rows]), np.array(labels[rows], dtype=np.int64)
