"""Classification tasks: cross-entropy on ``model(inputs)`` logits, accuracy from torchmetrics.

A batch is ``(inputs, targets)``; any task whose datamodule yields that (images, point
clouds, spectrograms) and whose model returns class logits is trained by this module.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torchmetrics.classification import MulticlassAccuracy

from bibench_cli.models.inputs import TaskShape
from bibench_cli.tasks.module import TaskModule
from bibench_cli.tasks.spec import Metric


def accuracy(top_k: int = 1, average: str = "micro") -> Any:
    """A torchmetrics accuracy factory for a task shape with ``num_classes`` outputs."""

    def build(shape: TaskShape) -> MulticlassAccuracy:
        classes = shape.outputs["num_classes"]
        # with fewer classes than k, every class is in the top k: accuracy 100 by definition
        return MulticlassAccuracy(classes, top_k=min(top_k, classes), average=average)

    return build


TOP1 = Metric("acc", accuracy(), "top-1 accuracy")
TOP5 = Metric("acc_top5", accuracy(5), "top-5 accuracy")
MEAN_CLASS = Metric("acc_mean_class", accuracy(average="macro"), "mean class accuracy")


class ClassificationModule(TaskModule):
    """Cross-entropy training; reports the task's accuracy metrics (percent) per split."""

    def training_loss(self, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        inputs, targets = batch
        return F.cross_entropy(self(inputs), targets)

    def evaluate(self, batch: tuple[torch.Tensor, torch.Tensor], split: str) -> None:
        inputs, targets = batch
        logits = self(inputs)
        self.log(f"{split}/loss", F.cross_entropy(logits, targets), prog_bar=split == "val")
        self.metrics[split].update(logits, targets)
