"""What the point-cloud datamodules share: splits held in memory as tensors, whole-batch
fetches, seeded shuffling and augmentation, and channels-first batches for the model.

Readers give points as (N, P, C); a batch is augmented as (B, P, C) (training only) and
handed to the model channels first, (B, C, P), with the split's other tensors (labels, or
categories and part ids) as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset, get_worker_info

from bibench_cli.data.base import Splits

Augment = Callable[[torch.Tensor, torch.Generator | None], torch.Tensor]


class TensorRows(Dataset):
    """Equal-length tensors (points first) held in memory; a batch is one gather each."""

    def __init__(self, *tensors: torch.Tensor) -> None:
        if len({len(tensor) for tensor in tensors}) != 1:
            raise ValueError(f"tensors of different lengths: {[len(t) for t in tensors]}")
        self.tensors = tensors

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        return tuple(tensor[index] for tensor in self.tensors)

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, ...]:
        """DataLoader calls this with a batch's indices: one gather instead of N lookups."""
        index = torch.as_tensor(indices, dtype=torch.long)
        return tuple(tensor[index] for tensor in self.tensors)


@dataclass
class PointBatch:
    """Collate function: augment the (B, P, C) points (training), then make them (B, C, P).

    In the main process augmentation draws from ``generator`` (seeded by the run), in a
    worker process from torch's RNG, which the DataLoader seeds per worker from its own
    generator; either way a seed fixes the augmentations.
    """

    augment: Augment | None = None
    generator: torch.Generator | None = None

    def __call__(self, batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        points, *rest = batch
        if self.augment is not None:
            generator = self.generator if get_worker_info() is None else None
            points = self.augment(points, generator)
        return (points.transpose(1, 2).contiguous(), *rest)


class PointCloudDataModule(pl.LightningDataModule):
    """Base of the point-cloud datamodules; subclasses implement :meth:`load_splits` and may
    override :meth:`augment` (training batches only)."""

    def __init__(self, *, batch_size: int, num_workers: int = 0, seed: int = 0) -> None:
        super().__init__()
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.seed = seed
        self._splits: Splits | None = None

    def load_splits(self) -> Splits:
        raise NotImplementedError

    def augment(self, points: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return points

    def setup(self, stage: str | None = None) -> None:
        """Load the splits once; Lightning calls this for fit and again for test."""
        if self._splits is None:
            self._splits = self.load_splits()

    @property
    def splits(self) -> Splits:
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
            collate_fn=PointBatch(self.augment if train else None, generator),
            # a lone last shape would stop training: BatchNorm needs two values per channel
            drop_last=train and len(dataset) % self.batch_size == 1,
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
