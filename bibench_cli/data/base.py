"""What the datamodules share: splits loaded once, seeded loaders, seeded augmentation; and
what every image-classification datamodule adds: normalisation.

Datasets hand out uint8 ``N×C×H×W`` batches; the loader's collate function augments
(training only) and normalises the whole batch at once. The same normalisation backs
:meth:`ImageDataModule.eval_transform`, so the robustness track's corrupted copies of
``test_images_uint8()`` are preprocessed exactly like the clean test set.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset, get_worker_info

from bibench_cli.data.transforms import nhwc_to_nchw, normalize

Batch = tuple[torch.Tensor, torch.Tensor]
Augment = Callable[[torch.Tensor, torch.Generator | None], torch.Tensor]


class InMemoryImages(Dataset):
    """uint8 N×C×H×W images and int64 labels held as tensors; fetches whole batches."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self.images = images
        self.labels = labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> Batch:
        return self.images[index], self.labels[index]

    def __getitems__(self, indices: list[int]) -> Batch:
        """DataLoader calls this with a batch's indices: one gather instead of N lookups."""
        index = torch.as_tensor(indices, dtype=torch.long)
        return self.images[index], self.labels[index]


def augmented(
    batch: torch.Tensor, augment: Augment | None, generator: torch.Generator | None
) -> torch.Tensor:
    """``batch`` through ``augment`` (None: unchanged), drawing from ``generator`` in the main
    process and from torch's RNG in a worker, which the DataLoader seeds per worker from its
    own generator: either way a seed fixes the augmentations."""
    if augment is None:
        return batch
    return augment(batch, generator if get_worker_info() is None else None)


@dataclass
class BatchTransform:
    """Collate function: optional augmentation of a uint8 batch (:func:`augmented`), then
    normalisation."""

    mean: Sequence[float]
    std: Sequence[float]
    augment: Augment | None = None
    generator: torch.Generator | None = None

    def __call__(self, batch: Batch) -> Batch:
        images, labels = batch
        return normalize(
            augmented(images, self.augment, self.generator), self.mean, self.std
        ), labels


@dataclass
class Splits:
    """The three datasets of a task; ``val`` may be empty (validation is then skipped)."""

    train: Dataset
    val: Dataset
    test: Dataset


class SplitDataModule(pl.LightningDataModule):
    """Train/val/test datasets loaded once, served by seeded loaders whose collate function
    a subclass gives (:meth:`collate`); subclasses implement :meth:`load_splits` and may
    override :meth:`augment` (training batches only)."""

    def __init__(self, *, batch_size: int = 128, num_workers: int = 0, seed: int = 0) -> None:
        super().__init__()
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.seed = seed
        self._splits: Splits | None = None

    def load_splits(self) -> Splits:
        """Read the dataset from disk (or memory) into train/val/test datasets."""
        raise NotImplementedError

    def check_data(self) -> None:
        """Raise a one-line DatasetNotFoundError when the dataset is not there, reading as
        little as possible (a sweep checks every grid point before starting)."""

    def augment(self, batch: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """Training-time augmentation of a batch; none by default."""
        return batch

    def collate(self, augment: Augment | None, generator: torch.Generator) -> Callable:
        """The loaders' collate function, augmenting with ``augment`` when given."""
        raise NotImplementedError

    def drop_last(self, dataset: Dataset, train: bool) -> bool:
        """Whether a loader drops the last, incomplete batch; never by default."""
        return False

    def setup(self, stage: str | None = None) -> None:
        """Load the splits once; Lightning calls this for fit and again for test."""
        if self._splits is None:
            self._splits = self.load_splits()

    @property
    def splits(self) -> Splits:
        """The loaded splits (loading them on first use, e.g. outside a Trainer)."""
        self.setup()
        assert self._splits is not None
        return self._splits

    def _loader(self, dataset: Dataset, *, train: bool) -> DataLoader:
        generator = torch.Generator().manual_seed(self.seed)
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=train,
            generator=generator,
            collate_fn=self.collate(self.augment if train else None, generator),
            drop_last=self.drop_last(dataset, train),
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.splits.train, train=True)

    def val_dataloader(self) -> DataLoader | list:
        val = self.splits.val
        return self._loader(val, train=False) if len(val) else []

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.splits.test, train=False)


class ImageDataModule(SplitDataModule):
    """Base for image-classification tasks: uint8 batches, normalised as they are collated.

    Subclasses set ``num_classes``, ``in_channels``, ``image_size``, ``mean`` and ``std``
    (per channel, on the [0, 1] scale) and may override :meth:`augment` for training.
    """

    num_classes: int
    in_channels: int
    image_size: int
    mean: Sequence[float]
    std: Sequence[float]

    def collate(self, augment: Augment | None, generator: torch.Generator) -> BatchTransform:
        return BatchTransform(self.mean, self.std, augment, generator)

    def test_images_uint8(self) -> tuple[np.ndarray, np.ndarray]:
        """The raw test images as N×H×W×C uint8 (before normalisation) and their labels."""
        test = self.splits.test
        assert isinstance(test, InMemoryImages)
        return test.images.permute(0, 2, 3, 1).numpy().copy(), test.labels.numpy().copy()

    def eval_transform(self, batch_uint8_nhwc: np.ndarray) -> torch.Tensor:
        """Test-time preprocessing of raw N×H×W×C uint8 images into a model-ready batch."""
        return normalize(nhwc_to_nchw(batch_uint8_nhwc), self.mean, self.std)
