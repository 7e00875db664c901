"""Part segmentation: per-point cross-entropy, part IoU per shape, category means.

A batch is ``(points (B, C, P), categories (B,), parts (B, P))`` with global part ids. The
model either predicts all 50 parts from the points and the category index (one model for all
categories, PointNet; trained over all 50, as PointNet's training) or, built for one category
(the input spec has no categories, BiPointNet), that category's parts only: its targets are
then made local and its logits placed back at the category's global ids for the metric.

The metrics score predictions restricted to each shape's category (:mod:`metrics.part_iou`);
at test end the all-category model also reports the mIoU of each category as a subtask
result, so a report shows one row per category (categories with no test shape are left out).
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F

from bibench_cli.data.shapenet import CATEGORIES, NUM_PARTS
from bibench_cli.metrics.part_iou import PartIoU
from bibench_cli.tasks.module import TaskModule
from bibench_cli.tasks.spec import Metric

log = logging.getLogger("bibench")
Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]

FIRST_PART = torch.tensor([category.parts.start for category in CATEGORIES])
CLASS_MIOU = Metric("class_miou", lambda shape: PartIoU("class"), "class mIoU")
INSTANCE_MIOU = Metric("instance_miou", lambda shape: PartIoU("instance"), "instance mIoU")


class PartSegmentationModule(TaskModule):
    """Per-point cross-entropy training; part IoU metrics (percent) per split."""

    @property
    def takes_category(self) -> bool:
        """True for the all-category model (global ids); False for a per-category one."""
        return bool(self.shape.input.categories)

    def first_part(self, categories: torch.Tensor) -> torch.Tensor:
        """(B, 1): the global id of each shape's category's first part."""
        return FIRST_PART.to(categories.device)[categories].unsqueeze(-1)

    def _logits(self, points: torch.Tensor, categories: torch.Tensor) -> torch.Tensor:
        return self(points, categories) if self.takes_category else self(points)

    def _targets(self, parts: torch.Tensor, categories: torch.Tensor) -> torch.Tensor:
        """What the model predicts: global ids, or ids local to a per-category model."""
        if self.takes_category:
            return parts
        return parts - self.first_part(categories)

    def global_logits(self, logits: torch.Tensor, categories: torch.Tensor) -> torch.Tensor:
        """(B, 50, P) logits: a per-category model's (B, K, P) placed at its category's ids,
        -inf elsewhere (the metric predicts among the category's parts anyway)."""
        if logits.shape[1] == NUM_PARTS:
            return logits
        batch, parts, points = logits.shape
        ids = self.first_part(categories) + torch.arange(parts, device=logits.device)
        placed = logits.new_full((batch, NUM_PARTS, points), float("-inf"))
        return placed.scatter(1, ids.unsqueeze(-1).expand(-1, -1, points), logits)

    def training_loss(self, batch: Batch) -> torch.Tensor:
        points, categories, parts = batch
        logits = self._logits(points, categories)
        return F.cross_entropy(logits, self._targets(parts, categories))

    def evaluate(self, batch: Batch, split: str) -> None:
        points, categories, parts = batch
        logits = self._logits(points, categories)
        loss = F.cross_entropy(logits, self._targets(parts, categories))
        self.log(f"{split}/loss", loss, prog_bar=split == "val")
        self.metrics[split].update(self.global_logits(logits, categories), parts, categories)

    def log_metrics(self, split: str) -> dict[str, float]:
        """The split's class and instance mIoU; at test end of the all-category model, the
        mIoU of every category with test shapes as subtask results."""
        metric = self.metrics[split][CLASS_MIOU.name]
        with metric.sync_context():  # every process's shapes, under DDP
            summary = metric.summary()
        values = super().log_metrics(split)
        if split == "test" and self.takes_category:
            self.subtask_results = {
                name: 100.0 * value for name, value in summary.per_category.items()
            }
            absent = [c.name for c in CATEGORIES if c.name not in summary.per_category]
            if absent:
                log.info("no test shapes of %s: left out of the subtask results", ", ".join(absent))
        return values
