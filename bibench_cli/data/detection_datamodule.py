"""Detection datamodules: ``voc07`` (VOC2007+2012 trainval / VOC2007 test) and ``coco17``
(train2017 / val2017), read from the official layouts.

A batch is ``(images, targets)``: a list of 3×H×W float images in [0, 1] at their own size
and a list of target dicts (``boxes`` xyxy, ``labels`` with 0 the background,
``difficult``), what torchvision's detectors take; each detector resizes and normalises
inside. Training batches drop difficult objects (VOC ``difficult``, COCO crowd), as mmdet
does, and flip left-right at random (seeded); evaluation batches keep them for the metric
to ignore.

As in the official protocol, every training image trains and the test split is evaluated
once, at the end (``val_size: 0``, no best-checkpoint choice); ``val_size`` > 0 holds that
many training images out for validation (the same ones whatever the run's seed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Subset, get_worker_info

from bibench_cli.data.coco import COCO_CATEGORIES, CocoDetectionDataset, check_split
from bibench_cli.data.detection_transforms import drop_difficult, random_hflip
from bibench_cli.data.errors import DataOptionError
from bibench_cli.data.voc import VOC_CLASSES, VOCDetectionDataset, present_parts

SPLIT_SEED = 0  # which training images are held out does not depend on the run's seed

Target = dict[str, Tensor]
Batch = tuple[list[Tensor], list[Target]]


@dataclass
class DetectionCollate:
    """Collate function: samples -> (images, targets). For training (``flip`` given) each
    target loses its difficult objects and each pair is flipped with probability ``flip``,
    drawing from ``generator`` in the main process and from torch's RNG (seeded per worker
    by the DataLoader) in a worker."""

    flip: float | None = None
    generator: torch.Generator | None = None

    def __call__(self, samples: list[tuple[Tensor, Target]]) -> Batch:
        images, targets = [], []
        generator = self.generator if get_worker_info() is None else None
        for image, target in samples:
            if self.flip is not None:
                image, target = random_hflip(image, drop_difficult(target), self.flip, generator)
            images.append(image)
            targets.append(target)
        return images, targets


def _images(count: int) -> str:
    return f"{count} image{'s' if count != 1 else ''}"


class DetectionDataModule(pl.LightningDataModule):
    """Splits, loaders and the record's one-line summary; subclasses read the dataset."""

    classes: tuple[str, ...]  # label i + 1 is classes[i]

    def __init__(
        self,
        *,
        root: str | Path = "data",
        batch_size: int = 16,
        num_workers: int = 0,
        seed: int = 0,
        val_size: int = 0,
        flip: float = 0.5,
    ) -> None:
        super().__init__()
        self.root = Path(root).expanduser().absolute()
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.seed = seed
        self.val_size = val_size
        self.flip = flip
        self._splits: dict[str, Dataset] | None = None
        self._sources: dict[str, str] = {}

    def check_data(self) -> None:
        """One line when the dataset is not there (cheap: reads no image)."""
        raise NotImplementedError

    def read(self, split: str) -> tuple[Dataset, str]:
        """The ``train`` or ``test`` dataset and which official parts it holds, in words."""
        raise NotImplementedError

    def setup(self, stage: str | None = None) -> None:
        if self._splits is not None:
            return
        if not 0.0 <= self.flip <= 1.0:
            raise DataOptionError(f"task.data.flip must be a probability in 0..1, got {self.flip}")
        train, self._sources["train"] = self.read("train")
        if not 0 <= self.val_size < len(train):
            raise DataOptionError(
                f"task.data.val_size must be in 0..{len(train) - 1} for the "
                f"{_images(len(train))} of {self._sources['train']} at {self.root} (held out "
                f"for validation), got {self.val_size}"
            )
        order = np.random.default_rng(SPLIT_SEED).permutation(len(train)).tolist()
        test, self._sources["test"] = self.read("test")
        self._splits = {
            "train": Subset(train, order[self.val_size :]),
            "val": Subset(train, order[: self.val_size]),
            "test": test,
        }

    @property
    def splits(self) -> dict[str, Dataset]:
        self.setup()
        assert self._splits is not None
        return self._splits

    @property
    def summary(self) -> str:
        """What the run read, for its record: the official parts and image counts."""
        splits = self.splits
        return (
            f"train: {self._sources['train']}, {_images(len(splits['train']))} used; "
            f"val: {_images(len(splits['val']))} held out; test: {self._sources['test']}"
        )

    def _loader(self, split: str) -> DataLoader:
        train = split == "train"
        generator = torch.Generator().manual_seed(self.seed)
        return DataLoader(
            self.splits[split],
            batch_size=self.batch_size,
            shuffle=train,
            generator=generator,
            collate_fn=DetectionCollate(self.flip if train else None, generator),
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train")

    def val_dataloader(self) -> DataLoader | list:
        return self._loader("val") if len(self.splits["val"]) else []

    def test_dataloader(self) -> DataLoader:
        return self._loader("test")


class VOCDataModule(DetectionDataModule):
    """PASCAL VOC: trains on VOC2007 + VOC2012 trainval (whichever are present under
    ``root/VOCdevkit``), tests on VOC2007 test; 20 classes in the devkit's order."""

    classes = VOC_CLASSES

    def check_data(self) -> None:
        for split in ("train", "test"):
            present_parts(self.root, split)

    def read(self, split: str) -> tuple[Dataset, str]:
        dataset = VOCDetectionDataset(self.root, split)
        return dataset, dataset.summary


class CocoDataModule(DetectionDataModule):
    """COCO 2017: trains on the train2017 images that have a box to learn (mmdet's
    ``filter_empty_gt``), tests on val2017; 80 classes in category-id order."""

    classes = tuple(COCO_CATEGORIES.values())

    def check_data(self) -> None:
        for split in ("train", "val"):
            check_split(self.root, split)

    def read(self, split: str) -> tuple[Dataset, str]:
        if split == "test":
            dataset = CocoDetectionDataset(self.root, "val")
            return dataset, f"COCO val2017 ({_images(len(dataset))})"
        dataset = CocoDetectionDataset(self.root, "train")
        annotated = dataset.annotated()
        source = f"COCO train2017 ({_images(len(annotated))} with boxes of {len(dataset)})"
        return Subset(dataset, annotated), source
