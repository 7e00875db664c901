"""ModelNet40 classification batches: ``(points (B, C, P), labels (B,))``.

Options (``task.data``): ``layout`` (``hdf5``: ``modelnet40_ply_hdf5_2048/``, xyz, the
default; ``text``: ``modelnet40_normal_resampled/``, optionally with normals), ``normals``
(text only: C = 6), ``num_points`` (the first P stored points of each shape, 1024 as
PointNet), ``val_size`` (training shapes held out for validation; 0, the default, trains on
all 9,840 and tests the final model, as PointNet's own training does) and ``augment``.

Augmentation (training only): each cloud scaled by one factor ~ U(0.8, 1.25) and shifted by
a vector ~ U(-0.1, 0.1)³ (xyz only; see ``modelnet40.augment_point_clouds``), the scale +
shift recipe of PointNet++ and the common PyTorch PointNet training. PointNet's TF script
rotates and jitters instead; the official BiBench code re-samples points from the meshes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from bibench_cli.data.base import Splits
from bibench_cli.data.errors import DataOptionError
from bibench_cli.data.modelnet40 import (
    DEFAULT_NUM_POINTS,
    augment_point_clouds,
    check_layout,
    check_release,
    read_modelnet40,
)
from bibench_cli.data.points_datamodule import PointCloudDataModule, TensorRows

SPLIT_SEED = 0  # which training shapes are held out is part of the task, not of the run
NUM_CLASSES = 40


class ModelNet40DataModule(PointCloudDataModule):
    """ModelNet40 from either official release (see the module docstring)."""

    def __init__(
        self,
        *,
        root: str | Path = "data",
        layout: str = "hdf5",
        normals: bool = False,
        num_points: int = DEFAULT_NUM_POINTS,
        val_size: int = 0,
        augment: bool = True,
        batch_size: int = 256,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        check_layout(layout, normals)
        if num_points < 1:
            raise DataOptionError(f"task.data.num_points must be >= 1, got {num_points}")
        self.root = Path(root).expanduser().absolute()
        self.layout = layout
        self.normals = normals
        self.num_points = num_points
        self.val_size = val_size
        self.use_augment = augment
        self.class_names: list[str] = []

    @property
    def num_classes(self) -> int:
        """Classes of the release read (40; the demo set has fewer)."""
        self.setup()
        return len(self.class_names)

    def check_data(self) -> None:
        """One line when the release is missing (cheap: reads its class-name file only)."""
        check_release(self.root, self.layout)

    def _read(self, split: str):
        return read_modelnet40(
            self.root, split, layout=self.layout, num_points=self.num_points, normals=self.normals
        )

    def load_splits(self) -> Splits:
        train, test = self._read("train"), self._read("test")
        self.class_names = train.class_names
        if not 0 <= self.val_size < len(train.labels):
            raise DataOptionError(
                f"task.data.val_size must be in 0..{len(train.labels) - 1} for the "
                f"{len(train.labels)} ModelNet40 training shapes at {self.root}, "
                f"got {self.val_size}"
            )
        order = np.random.default_rng(SPLIT_SEED).permutation(len(train.labels))
        val, kept = order[: self.val_size], order[self.val_size :]
        points, labels = torch.from_numpy(train.points), torch.from_numpy(train.labels)
        return Splits(
            train=TensorRows(points[kept], labels[kept]),
            val=TensorRows(points[val], labels[val]),
            test=TensorRows(torch.from_numpy(test.points), torch.from_numpy(test.labels)),
        )

    def augment(self, points: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return augment_point_clouds(points, generator) if self.use_augment else points
