"""ShapeNet part-segmentation batches: ``(points (B, C, P), categories (B,), parts (B, P))``,
part ids global (0-49) whatever the model predicts.

Options (``task.data``):

- ``per_category``: false (default) trains one model on all categories, which takes each
  shape's category as a one-hot (PointNet); true trains on the shapes of ``category`` only
  (BiPointNet: one model per category, predicting that category's parts).
- ``category``: the category of a per-category model; the task YAML sets it from
  ``task.subtask``, so a per-category run is named by its category.
- ``num_points``: points per shape (4096, BiPointNet's ``repeat_to``; shapes with fewer are
  completed by repeats, see ``shapenet.sample_indices``), ``normals`` (xyz + normals, C = 6,
  as both papers), ``use_val_split`` (false: train on train + val and test the final model,
  as PointNet and BiPointNet train; true: train on train and keep the best model on the
  official val list) and ``augment``.

Augmentation (training only), BiPointNet's: each shape rotated about x, y and z by angles
~ U(-15°, 15°), then every point moved by ~ U(-0.01, 0.01)³. Normals are rotated with the
shape (the official code rotates positions only) and not moved.

The per-shape point sample is drawn once (seed 0) and cached next to the data, so every run
sees the same points; the run's seed drives shuffling and augmentation.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from bibench_cli.data.base import Splits
from bibench_cli.data.errors import DataOptionError
from bibench_cli.data.points_datamodule import PointCloudDataModule, TensorRows
from bibench_cli.data.shapenet import (
    CATEGORIES,
    CATEGORY_INDEX,
    PartShapes,
    read_shapenet_part,
    shapenet_part_dir,
)

SAMPLE_SEED = 0  # which points of a shape are used is part of the data, not of the run
DEFAULT_NUM_POINTS = 4096
ROTATION_DEGREES = 15.0
JITTER = 0.01


def check_category(per_category: bool, category: str) -> None:
    """A per-category model needs a category, the all-category model none."""
    names = ", ".join(c.name for c in CATEGORIES)
    if per_category and category not in CATEGORY_INDEX:
        raise DataOptionError(
            f"task.data.per_category=true trains one model per category: task.subtask must "
            f"be one of {names}, got {category!r}"
        )
    if not per_category and category:
        raise DataOptionError(
            f"task.subtask={category} needs task.data.per_category=true (the all-category "
            "model reports every category as a subtask result); or leave task.subtask empty"
        )


def _rotation(axis: int, angle: torch.Tensor) -> torch.Tensor:
    """(B, 3, 3) rotations by ``angle`` (B,) radians about ``axis``."""
    cos, sin = angle.cos(), angle.sin()
    matrix = torch.eye(3, dtype=angle.dtype).repeat(len(angle), 1, 1)
    first, second = [i for i in range(3) if i != axis]
    matrix[:, first, first], matrix[:, first, second] = cos, -sin
    matrix[:, second, first], matrix[:, second, second] = sin, cos
    return matrix


def random_rotation(
    points: torch.Tensor, generator: torch.Generator | None, degrees: float = ROTATION_DEGREES
) -> torch.Tensor:
    """Rotate each (P, 3 or 6) cloud of a batch about x, then y, then z by its own angles
    ~ U(-degrees, degrees); normals (channels 3-5) turn with it."""
    angles = torch.empty(len(points), 3, dtype=points.dtype)
    angles = angles.uniform_(-degrees, degrees, generator=generator) * (math.pi / 180)
    matrix = _rotation(2, angles[:, 2]) @ _rotation(1, angles[:, 1]) @ _rotation(0, angles[:, 0])
    matrix = matrix.to(points.device).transpose(1, 2)  # row vectors: x · Rᵀ
    pieces = [points[..., start : start + 3] @ matrix for start in range(0, points.shape[-1], 3)]
    return torch.cat(pieces, dim=-1)


def random_jitter(
    points: torch.Tensor, generator: torch.Generator | None, scale: float = JITTER
) -> torch.Tensor:
    """Move every point by its own offset ~ U(-scale, scale)³ (xyz only)."""
    offsets = torch.empty(*points.shape[:-1], 3, dtype=points.dtype)
    offsets = offsets.uniform_(-scale, scale, generator=generator).to(points.device)
    return torch.cat([points[..., :3] + offsets, points[..., 3:]], dim=-1)


class ShapeNetPartDataModule(PointCloudDataModule):
    """ShapeNet part from the official release with normals (see the module docstring)."""

    def __init__(
        self,
        *,
        root: str | Path = "data",
        per_category: bool = False,
        category: str = "",
        num_points: int = DEFAULT_NUM_POINTS,
        normals: bool = True,
        use_val_split: bool = False,
        augment: bool = True,
        batch_size: int = 96,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        check_category(per_category, category)
        if num_points < 1:
            raise DataOptionError(f"task.data.num_points must be >= 1, got {num_points}")
        self.root = Path(root).expanduser().absolute()
        self.category = category if per_category else ""
        self.num_points = num_points
        self.normals = normals
        self.use_val_split = use_val_split
        self.use_augment = augment

    def check_data(self) -> None:
        """One line when the release is missing (cheap: looks for its category file)."""
        shapenet_part_dir(self.root)

    def _split(self, split: str) -> TensorRows:
        shapes = read_shapenet_part(
            self.root, split, num_points=self.num_points, seed=SAMPLE_SEED, normals=self.normals
        )
        if self.category:
            shapes = _only(shapes, CATEGORY_INDEX[self.category])
            if not len(shapes.categories):
                raise DataOptionError(
                    f"no {self.category} shapes in the ShapeNet part {split} split at "
                    f"{self.root}: train task.subtask={self.category} on a release that has some"
                )
        return TensorRows(
            torch.from_numpy(shapes.points),
            torch.from_numpy(shapes.categories),
            torch.from_numpy(shapes.parts),
        )

    def load_splits(self) -> Splits:
        if self.use_val_split:
            train, val = self._split("train"), self._split("val")
        else:
            train, val = self._split("trainval"), TensorRows(torch.empty(0))
        return Splits(train=train, val=val, test=self._split("test"))

    def augment(self, points: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        if not self.use_augment:
            return points
        return random_jitter(random_rotation(points, generator), generator)


def _only(shapes: PartShapes, category: int) -> PartShapes:
    chosen = np.flatnonzero(shapes.categories == category)
    return PartShapes(
        shapes.points[chosen],
        shapes.parts[chosen],
        shapes.categories[chosen],
        [shapes.shape_ids[i] for i in chosen],
    )
