"""What the point-cloud datamodules share: splits held in memory as tensors, whole-batch
fetches, seeded shuffling and augmentation, and channels-first batches for the model.

Readers give points as (N, P, C); a batch is augmented as (B, P, C) (training only) and
handed to the model channels first, (B, C, P), with the split's other tensors (labels, or
categories and part ids) as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.data import Dataset

from bibench_cli.data.base import Augment, SplitDataModule, augmented


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
    """Collate function: augment the (B, P, C) points (training, :func:`augmented`), then
    make them (B, C, P)."""

    augment: Augment | None = None
    generator: torch.Generator | None = None

    def __call__(self, batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        points, *rest = batch
        points = augmented(points, self.augment, self.generator)
        return (points.transpose(1, 2).contiguous(), *rest)


class PointCloudDataModule(SplitDataModule):
    """Base of the point-cloud datamodules; subclasses implement :meth:`load_splits` and may
    override :meth:`augment` (training batches only)."""

    def collate(self, augment: Augment | None, generator: torch.Generator) -> PointBatch:
        return PointBatch(augment, generator)

    def drop_last(self, dataset: Dataset, train: bool) -> bool:
        # a lone last shape would stop training: BatchNorm needs two values per channel
        return train and len(dataset) % self.batch_size == 1
