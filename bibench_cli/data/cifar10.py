"""``cifar10``: CIFAR-10 read from the official python release (``cifar-10-batches-py``).

The release holds five training pickles ``data_batch_1..5``, ``test_batch`` and
``batches.meta``; each batch is a dict with ``b"data"`` (N×3072 uint8, channel-major rows
of 32×32 RGB) and ``b"labels"``. The official test set gives the reported metric; a fixed
``val_size`` images of the training set are held out for validation (the official BiBench
configs validate on the test set; ``val_size=0`` trains on all 50,000 and skips validation).

The release is a set of Python pickles, so only read copies from a source you trust.
"""

from __future__ import annotations

import hashlib
import pickle
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import torch

from bibench_cli.data.base import ImageDataModule, InMemoryImages, Splits
from bibench_cli.data.errors import CorruptDatasetError, DataOptionError, DatasetNotFoundError
from bibench_cli.data.synthetic import balanced_labels, grating_images
from bibench_cli.data.transforms import random_crop_padded, random_hflip
from bibench_cli.runs.atomic import write_atomic

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
MD5 = "c58f30108f718f92721af3b95e74349a"
ARCHIVE = "cifar-10-python.tar.gz"
DIRNAME = "cifar-10-batches-py"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
META_FILE = "batches.meta"
FILES = (*TRAIN_FILES, TEST_FILE, META_FILE)
EXPECTED = "data_batch_1..5, test_batch and batches.meta"
HOW_TO_GET = f"pass data.download=true or download {URL} and extract it there"
CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
SPLIT_SEED = 0  # which training images are held out is part of the task, not of the run
# Per-channel statistics of the training set, as in the official BiBench/mmcls configs
# (mean [125.307, 122.961, 113.8575], std [51.5865, 50.847, 51.255] on the 0..255 scale).
MEAN = (125.307 / 255, 122.961 / 255, 113.8575 / 255)
STD = (51.5865 / 255, 50.847 / 255, 51.255 / 255)


def cifar10_dir(root: str | Path) -> Path:
    """The release directory: ``root/cifar-10-batches-py``, or ``root`` if it is that dir."""
    root = Path(root)
    nested = root / DIRNAME
    if nested.is_dir():
        return nested
    if root.is_dir() and any((root / name).exists() for name in FILES):
        return root
    raise DatasetNotFoundError(
        f"CIFAR-10 not found at {root}: expected {nested}/ holding {EXPECTED}; {HOW_TO_GET}"
    )


# What unpickling a damaged or foreign file can raise.
UNPICKLING_ERRORS = (
    pickle.UnpicklingError,
    EOFError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    ImportError,
    OverflowError,
)


def _corrupt(path: Path, problem: str) -> CorruptDatasetError:
    return CorruptDatasetError(
        f"corrupt CIFAR-10 file {path}: {problem}; delete it and download the release again"
    )


def _unpickle(path: Path, keys: tuple[bytes, ...]) -> dict:
    """A release pickle (Python 2 protocol, bytes keys) that must be a dict with ``keys``."""
    try:
        with path.open("rb") as handle:
            content = pickle.load(handle, encoding="bytes")
    except UNPICKLING_ERRORS as error:
        raise _corrupt(path, f"{type(error).__name__}: {error}") from None
    if not isinstance(content, dict) or any(key not in content for key in keys):
        raise _corrupt(path, f"expected a dict with keys {', '.join(map(repr, keys))}")
    return content


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One official batch file as (N×3×32×32 uint8 images, int64 labels)."""
    batch = _unpickle(path, (b"data", b"labels"))
    data, labels = batch[b"data"], np.asarray(batch[b"labels"], dtype=np.int64)
    shape_ok = isinstance(data, np.ndarray) and data.ndim == 2 and data.shape[1] == 3072
    if not (shape_ok and data.dtype == np.uint8 and len(data) == len(labels)):
        raise _corrupt(
            path,
            f"expected b'data' uint8 N×3072 and N b'labels', got data "
            f"{getattr(data, 'shape', type(data).__name__)} and {len(labels)} labels",
        )
    return data.reshape(-1, 3, 32, 32), labels


def check_release(root: str | Path) -> Path:
    """The release directory, after checking every file is there (reads nothing)."""
    directory = cifar10_dir(root)
    missing = [name for name in FILES if not (directory / name).is_file()]
    if missing:
        raise DatasetNotFoundError(
            f"CIFAR-10 at {directory} is incomplete: missing {', '.join(missing)} "
            f"(expected {EXPECTED}); {HOW_TO_GET}"
        )
    return directory


def read_cifar10(
    root: str | Path,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Train images, train labels, test images, test labels (N×3×32×32 uint8), class names."""
    directory = check_release(root)
    train = [read_batch(directory / name) for name in TRAIN_FILES]
    test_images, test_labels = read_batch(directory / TEST_FILE)
    meta = _unpickle(directory / META_FILE, (b"label_names",))
    names = [name.decode() for name in meta[b"label_names"]]
    train_images = np.concatenate([images for images, _ in train])
    train_labels = np.concatenate([labels for _, labels in train])
    return train_images, train_labels, test_images, test_labels, names


def file_md5(path: Path) -> str:
    """Hex md5 of a file, read in 1 MiB chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_cifar10(root: str | Path) -> Path:
    """Fetch, md5-check and extract the release into ``root`` unless it is already there.

    An archive already in ``root`` is checked rather than fetched again, so a mismatching
    one fails with its path instead of being silently overwritten.
    """
    root = Path(root)
    if all((root / DIRNAME / name).is_file() for name in FILES):
        return root / DIRNAME
    archive = root / ARCHIVE
    if not archive.is_file():
        root.mkdir(parents=True, exist_ok=True)
        partial = archive.with_name(ARCHIVE + ".part")
        try:
            urllib.request.urlretrieve(URL, partial)
        except (urllib.error.URLError, OSError) as error:
            raise DatasetNotFoundError(
                f"could not download {URL} to {archive}: {error}; "
                f"download it by hand and extract it in {root}"
            ) from None
        partial.replace(archive)
    actual = file_md5(archive)
    if actual != MD5:
        raise CorruptDatasetError(
            f"md5 mismatch for {archive}: got {actual}, expected {MD5}; "
            "delete it and download again"
        )
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(root, filter="data")
    except (tarfile.TarError, EOFError, OSError) as error:
        raise CorruptDatasetError(f"cannot extract {archive}: {error}") from None
    return root / DIRNAME


def write_cifar10(
    root: str | Path,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    class_names: tuple[str, ...] = CLASSES,
) -> Path:
    """Write ``root/cifar-10-batches-py`` in the release's layout: the training (N×3×32×32
    uint8 images, labels) pair split over ``data_batch_1..5``, ``test_batch`` and
    ``batches.meta``, pickled with protocol 2 and bytes keys as the release is."""
    directory = Path(root) / DIRNAME
    images, labels = train
    chunks = np.array_split(np.arange(len(labels)), len(TRAIN_FILES))
    batches = {name: (images[c], labels[c]) for name, c in zip(TRAIN_FILES, chunks, strict=True)}
    batches[TEST_FILE] = test
    for name, (data, targets) in batches.items():
        content = {
            b"batch_label": name.encode(),
            b"labels": [int(t) for t in targets],
            b"data": np.ascontiguousarray(data.reshape(len(data), -1), dtype=np.uint8),
            b"filenames": [f"{name}_{i}.png".encode() for i in range(len(data))],
        }
        write_atomic(directory / name, lambda f, c=content: pickle.dump(c, f, protocol=2))
    meta = {
        b"num_cases_per_batch": len(chunks[0]),
        b"label_names": [n.encode() for n in class_names],
        b"num_vis": 3072,
    }
    write_atomic(directory / META_FILE, lambda f: pickle.dump(meta, f, protocol=2))
    return directory


def write_cifar10_demo(root: str | Path, seed: int = 0, train: int = 6000, test: int = 1000) -> str:
    """A synthetic stand-in for CIFAR-10 in the release's layout: ten classes of coloured
    gratings (enough training images for the default 5,000 held out for validation)."""
    rng = np.random.default_rng(seed)
    splits = []
    for count in (train, test):
        labels = balanced_labels(count, len(CLASSES), rng)
        splits.append((grating_images(labels, len(CLASSES), 32, 3, rng), labels))
    directory = write_cifar10(root, splits[0], splits[1])
    return f"CIFAR-10 layout, {train} training and {test} test images of 10 classes: {directory}"


class Cifar10DataModule(ImageDataModule):
    """3×32×32 CIFAR-10: pad-4 random crop + horizontal flip for training, per-channel norm.

    ``root`` is the directory holding ``cifar-10-batches-py/`` (or that directory itself).
    """

    num_classes = 10
    in_channels = 3
    image_size = 32
    mean = MEAN
    std = STD

    def __init__(
        self,
        *,
        root: str | Path = "data",
        download: bool = False,
        val_size: int = 5000,
        augment: bool = True,
        batch_size: int = 128,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        self.root = Path(root).expanduser().absolute()
        self.download = download
        self.val_size = val_size
        self.use_augment = augment
        self.class_names: list[str] = []

    def prepare_data(self) -> None:
        if self.download:
            download_cifar10(self.root)

    def check_data(self) -> None:
        """One line when the release is missing (cheap: reads nothing)."""
        if not self.download:
            check_release(self.root)

    def load_splits(self) -> Splits:
        self.prepare_data()
        train_x, train_y, test_x, test_y, self.class_names = read_cifar10(self.root)
        if not 0 <= self.val_size < len(train_y):
            raise DataOptionError(
                f"task.data.val_size must be in 0..{len(train_y) - 1} for the {len(train_y)} "
                f"CIFAR-10 training images at {self.root} (held out for validation), "
                f"got {self.val_size}"
            )
        order = np.random.default_rng(SPLIT_SEED).permutation(len(train_y))
        val, train = order[: self.val_size], order[self.val_size :]
        images, labels = torch.from_numpy(train_x), torch.from_numpy(train_y)
        return Splits(
            train=InMemoryImages(images[train], labels[train]),
            val=InMemoryImages(images[val], labels[val]),
            test=InMemoryImages(torch.from_numpy(test_x), torch.from_numpy(test_y)),
        )

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        if not self.use_augment:
            return images
        return random_hflip(random_crop_padded(images, 4, generator), generator)
