"""ShapeNet part-segmentation IoU, as PointNet's evaluation computes it.

A shape's IoU is the mean, over the parts of its category, of |P∩G| / |P∪G| over its
points, a part absent from both prediction and ground truth counting 1. Predictions are
restricted to the category's parts (argmax over those logits only). Instance mIoU averages
shapes; class mIoU averages the per-category means over the categories present (paper
Table 11 reports the per-category ones).

The functional core works on tensors of any batch; :class:`PartIoU` accumulates per-category
sums and counts, whose "sum" reduction syncs exactly across DDP processes.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torchmetrics import Metric

from bibench_cli.data.shapenet import CATEGORIES, category_part_mask


def _mask(device: torch.device) -> torch.Tensor:
    return torch.from_numpy(category_part_mask()).to(device)


def restricted_predictions(logits: torch.Tensor, categories: torch.Tensor) -> torch.Tensor:
    """(B, 50, N) logits, (B,) category indices -> (B, N) part ids of each shape's category."""
    allowed = _mask(logits.device)[categories].unsqueeze(-1)
    return logits.masked_fill(~allowed, float("-inf")).argmax(dim=1)


def shape_ious(
    predictions: torch.Tensor, targets: torch.Tensor, categories: torch.Tensor
) -> torch.Tensor:
    """(B, N) predicted and true global part ids, (B,) categories -> (B,) float64 IoUs."""
    mask = _mask(predictions.device)
    parts = torch.arange(mask.shape[1], device=predictions.device)
    predicted = predictions.unsqueeze(-1) == parts  # (B, N, 50)
    true = targets.unsqueeze(-1) == parts
    intersection = (predicted & true).sum(dim=1).double()
    union = (predicted | true).sum(dim=1).double()
    ious = torch.where(union > 0, intersection / union.clamp(min=1), 1.0)
    own = mask[categories].double()
    return (ious * own).sum(dim=1) / own.sum(dim=1)


class PartIoUSummary(NamedTuple):
    """Instance mIoU, class mIoU and {category name: mean IoU} of the categories seen."""

    instance: float
    classes: float
    per_category: dict[str, float]


def summarize(sums: torch.Tensor, counts: torch.Tensor) -> PartIoUSummary:
    """From per-category sums of shape IoUs and shape counts (16 each)."""
    seen = counts > 0
    if not seen.any():
        raise ValueError("no shapes were scored")
    means = sums[seen] / counts[seen]
    names = [
        category.name
        for category, present in zip(CATEGORIES, seen.tolist(), strict=True)
        if present
    ]
    return PartIoUSummary(
        instance=float(sums.sum() / counts.sum()),
        classes=float(means.mean()),
        per_category=dict(zip(names, means.tolist(), strict=True)),
    )


def category_totals(
    logits: torch.Tensor, targets: torch.Tensor, categories: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-category (16,) sums of shape IoUs and shape counts of one batch of (B, 50, N)
    logits against (B, N) true part ids."""
    ious = shape_ious(restricted_predictions(logits, categories), targets, categories)
    sums = torch.zeros(len(CATEGORIES), dtype=torch.float64, device=ious.device)
    counts = torch.zeros_like(sums).index_add_(0, categories, torch.ones_like(ious))
    return sums.index_add_(0, categories, ious), counts


def part_iou(
    logits: torch.Tensor, targets: torch.Tensor, categories: torch.Tensor
) -> PartIoUSummary:
    """Instance, class and per-category mIoU of (B, 50, N) logits against (B, N) part ids."""
    return summarize(*category_totals(logits, targets, categories))


AVERAGES = ("class", "instance")


class PartIoU(Metric):
    """Accumulates shape IoUs per category over batches; ``compute`` returns the class
    mIoU (``average="class"``) or the instance mIoU (``"instance"``), :meth:`summary` all
    three. Two instances in one MetricCollection share their state (a compute group), so
    reporting both averages scores every batch once."""

    full_state_update = False
    higher_is_better = True

    def __init__(self, average: str = "class", **kwargs) -> None:
        super().__init__(**kwargs)
        if average not in AVERAGES:
            raise ValueError(f"average must be one of {', '.join(AVERAGES)}, got {average!r}")
        self.average = average
        zeros = torch.zeros(len(CATEGORIES), dtype=torch.float64)
        self.add_state("iou_sums", default=zeros.clone(), dist_reduce_fx="sum")
        self.add_state("shape_counts", default=zeros.clone(), dist_reduce_fx="sum")

    def update(self, logits: torch.Tensor, targets: torch.Tensor, categories: torch.Tensor) -> None:
        sums, counts = category_totals(logits, targets, categories)
        self.iou_sums += sums
        self.shape_counts += counts

    def summary(self) -> PartIoUSummary:
        """Instance, class and per-category mIoU of what was accumulated (this process)."""
        return summarize(self.iou_sums, self.shape_counts)

    def compute(self) -> torch.Tensor:
        summary = self.summary()
        return torch.tensor(summary.classes if self.average == "class" else summary.instance)
