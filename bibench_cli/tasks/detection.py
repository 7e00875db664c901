"""Object detection tasks: ``voc07`` and ``coco17``, trained with the detector's own losses.

A batch is ``(images, targets)`` (lists, one entry per image); a torchvision detector in
training mode returns its loss terms (RPN and R-CNN, or SSD's), whose sum is the loss, and
in eval mode its detections, which update the task's metric: VOC07's 11-point AP at IoU 0.5
with the devkit's rules, or COCO's mAP@[.5:.95]. Both metric objects give several values in
percent (VOC07: the mAP and one AP per class; COCO: mAP and mAP@0.5): all go into the
record, the mAP first. No evaluation loss is logged: torchvision's detectors compute losses
only in training mode (batch statistics, sampled proposals), which would change the model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from bibench_cli.data.coco import write_coco_demo
from bibench_cli.data.detection_datamodule import (
    Batch,
    CocoDataModule,
    DetectionDataModule,
    VOCDataModule,
)
from bibench_cli.data.voc import write_voc_demo
from bibench_cli.metrics.coco_map import CocoMeanAP
from bibench_cli.metrics.voc_ap import VOC07MeanAP
from bibench_cli.models.inputs import DetectionInput, TaskShape
from bibench_cli.tasks.module import TaskModule
from bibench_cli.tasks.spec import Metric, TaskSpec

PER_CLASS = "ap_per_class"  # VOC07MeanAP's vector of per-class APs


def named_results(result: Mapping[str, Tensor], classes: tuple[str, ...]) -> dict[str, float]:
    """A detection metric's values by record name: scalars as they are, the per-class APs
    as ``ap_<class>`` (a class without positive objects has no AP and is left out)."""
    values = {name: float(value) for name, value in result.items() if name != PER_CLASS}
    if PER_CLASS in result:
        for name, value in zip(classes, result[PER_CLASS].tolist(), strict=True):
            if not math.isnan(value):
                values[f"ap_{name}"] = value
    return values


class DetectionModule(TaskModule):
    """Sum of the detector's loss terms; VOC07 or COCO metrics per split (see the module
    docstring)."""

    def batch_size(self, batch: Batch) -> int:
        return len(batch[0])

    def training_loss(self, batch: Batch) -> Tensor:
        images, targets = batch
        losses = self.model(images, targets)
        terms = {f"train/{name}": value for name, value in losses.items()}
        self.log_dict(terms, on_step=False, on_epoch=True, batch_size=len(images))
        return torch.stack(list(losses.values())).sum()

    def evaluate(self, batch: Batch, split: str) -> None:
        images, targets = batch
        self.metrics[split].update(self.model(images), targets)

    def log_metrics(self, split: str) -> dict[str, float]:
        """Every value of the split's metric (already in percent), logged and returned."""
        metrics = self.metrics[split]
        values = {}
        for metric in metrics.values():
            named = named_results(metric.compute(), self.shape.input.classes)
            values.update({f"{split}/{name}": value for name, value in named.items()})
        primary = {key: value for key, value in values.items() if key.endswith("/map")}
        self.log_dict(primary, prog_bar=split == "val")
        self.log_dict({key: value for key, value in values.items() if key not in primary})
        metrics.reset()
        self.computed[split] = values
        return values


def detection_shape(datamodule_class: type[DetectionDataModule]):
    """The shape function of a detection task: images with boxes of the dataset's classes,
    and ``num_classes`` = those classes + the background (what the detector's heads size)."""

    def shape(data: Mapping[str, Any], datamodule: Any = None) -> TaskShape:
        classes = datamodule_class.classes
        return TaskShape(DetectionInput(classes), {"num_classes": len(classes) + 1})

    return shape


def _voc07_map(shape: TaskShape) -> VOC07MeanAP:
    return VOC07MeanAP(num_classes=len(shape.input.classes))


def _coco_map(shape: TaskShape) -> CocoMeanAP:
    return CocoMeanAP()


VOC07_MAP = Metric("map", _voc07_map, "VOC07 mAP (11-point, IoU 0.5)")
COCO_MAP = Metric("map", _coco_map, "COCO mAP@[.5:.95]")

DEMO_SIZES = {"train_size": 16, "test_size": 8, "voc2012_size": 8}


def write_voc07_demo(root: Path, seed: int) -> str:
    written = write_voc_demo(root, seed=seed, **DEMO_SIZES)
    parts = ", ".join(f"{part} ({len(images)} images)" for part, images in written.items())
    return f"PASCAL VOC layout, coloured shapes as 3 VOC classes: {parts} under {root}/VOCdevkit"


def write_coco17_demo(root: Path, seed: int) -> str:
    written = write_coco_demo(root, seed=seed)
    splits = ", ".join(f"{split}2017 ({len(images)} images)" for split, images in written.items())
    return f"COCO 2017 layout, coloured shapes as 3 COCO categories: {splits} under {root}"


TASKS = (
    TaskSpec(
        "voc07",
        VOCDataModule,
        DetectionModule,
        (VOC07_MAP,),
        detection_shape(VOCDataModule),
        demo=write_voc07_demo,
    ),
    TaskSpec(
        "coco17",
        CocoDataModule,
        DetectionModule,
        (COCO_MAP,),
        detection_shape(CocoDataModule),
        demo=write_coco17_demo,
    ),
)
