"""GLUE metrics per task, primary first, computed by torchmetrics.

Accuracy everywhere but CoLA (Matthews correlation, scikit-learn's convention) and STS-B
(Pearson, then Spearman, on the single regression output); MRPC and QQP add F1 of the
positive class ("1": paraphrase, duplicate) as GLUE reports it. This is the set BiBERT's
``compute_metrics`` reports; BiBERT keeps the checkpoint with the best accuracy (MCC,
Pearson-Spearman mean for STS-B). On constant STS-B predictions Pearson is NaN as in SciPy;
torchmetrics' Spearman is then 0 where SciPy's is NaN.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torchmetrics import Metric
from torchmetrics.classification import (
    BinaryF1Score,
    BinaryMatthewsCorrCoef,
    MulticlassAccuracy,
)
from torchmetrics.regression import PearsonCorrCoef, SpearmanCorrCoef

from bibench_cli.data.glue import glue_task

GLUE_METRIC_NAMES: dict[str, tuple[str, ...]] = {
    "cola": ("mcc",),
    "sst2": ("acc",),
    "mrpc": ("acc", "f1"),
    "stsb": ("pearson", "spearman"),
    "qqp": ("acc", "f1"),
    "mnli": ("acc",),
    "qnli": ("acc",),
    "rte": ("acc",),
    "wnli": ("acc",),
}


class GlueMatthewsCorrCoef(BinaryMatthewsCorrCoef):
    """Binary MCC that is 0 when a row or column of the confusion matrix is empty, as in
    scikit-learn, which GLUE's and BiBERT's evaluation use.

    torchmetrics gives such cases a limit value instead (e.g. -0.18 for a model that predicts
    one class only, which binarized BERTs often do on CoLA).
    """

    def compute(self) -> Tensor:
        tn, fp, fn, tp = self.confmat.reshape(-1)
        if min(tp + fp, tp + fn, tn + fp, tn + fn) == 0:
            return torch.zeros((), device=self.confmat.device)
        return super().compute()


_FACTORIES: dict[str, Callable[[int], Metric]] = {
    "acc": lambda classes: MulticlassAccuracy(num_classes=classes, average="micro"),
    "mcc": lambda classes: GlueMatthewsCorrCoef(),
    "f1": lambda classes: BinaryF1Score(),
    "pearson": lambda classes: PearsonCorrCoef(),
    "spearman": lambda classes: SpearmanCorrCoef(),
}


class GlueMetrics(nn.Module):
    """The metrics of one GLUE task over model outputs: logits (N, classes), or (N, 1) / (N,)
    predictions for STS-B. ``compute`` returns them by name, primary first."""

    def __init__(self, task: str) -> None:
        super().__init__()
        spec = glue_task(task)
        self.regression = spec.regression
        self.names = GLUE_METRIC_NAMES[spec.name]
        self.metrics = nn.ModuleDict({n: _FACTORIES[n](spec.num_labels) for n in self.names})

    def update(self, outputs: Tensor, labels: Tensor) -> None:
        predictions = outputs.reshape(-1) if self.regression else outputs.argmax(-1)
        for metric in self.metrics.values():
            metric.update(predictions, labels)

    def compute(self) -> dict[str, Tensor]:
        return {name: self.metrics[name].compute() for name in self.names}

    def reset(self) -> None:
        for metric in self.metrics.values():
            metric.reset()

    @property
    def primary(self) -> str:
        return self.names[0]
