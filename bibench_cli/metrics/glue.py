"""GLUE metrics per task, primary first, computed by torchmetrics on model outputs.

Accuracy everywhere but CoLA (Matthews correlation, scikit-learn's convention) and STS-B
(Pearson, then Spearman, on the single regression output); MRPC and QQP add F1 of the
positive class ("1": paraphrase, duplicate) as GLUE reports it. This is the set BiBERT's
``compute_metrics`` reports; BiBERT keeps the checkpoint with the best accuracy (MCC,
Pearson-Spearman mean for STS-B). On constant STS-B predictions Pearson is NaN as in SciPy;
torchmetrics' Spearman is then 0 where SciPy's is NaN.

Every metric here takes what the model returns: logits (N, classes), or the (N, 1)
regression output of STS-B, so a ``MetricCollection`` of them updates with ``(outputs,
labels)`` like any other task's metrics.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor
from torchmetrics import Metric
from torchmetrics.classification import BinaryF1Score, BinaryMatthewsCorrCoef, MulticlassAccuracy
from torchmetrics.regression import PearsonCorrCoef, SpearmanCorrCoef

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


class _OnPredictedClass:
    """Update with logits: the metric sees the predicted class (argmax)."""

    def update(self, logits: Tensor, labels: Tensor) -> None:
        super().update(logits.argmax(-1), labels)


class _OnFlatOutput:
    """Update with the (N, 1) regression output: the metric sees it as (N,)."""

    def update(self, outputs: Tensor, labels: Tensor) -> None:
        super().update(outputs.reshape(-1), labels)


class GlueMatthewsCorrCoef(_OnPredictedClass, BinaryMatthewsCorrCoef):
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


class GlueF1Score(_OnPredictedClass, BinaryF1Score):
    """F1 of the positive class (label 1) of the predicted classes."""


class GluePearson(_OnFlatOutput, PearsonCorrCoef):
    """Pearson correlation of the regression output with the scores."""


class GlueSpearman(_OnFlatOutput, SpearmanCorrCoef):
    """Spearman rank correlation of the regression output with the scores (it keeps every
    prediction, which torchmetrics warns about: STS-B's dev set has 1,500)."""

    def __init__(self) -> None:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*will save all targets and predictions")
            super().__init__()


def glue_metric(name: str, num_labels: int) -> Metric:
    """A fresh torchmetrics metric ``name`` (a value of :data:`GLUE_METRIC_NAMES`) for a model
    with ``num_labels`` outputs."""
    if name == "acc":
        return MulticlassAccuracy(num_classes=num_labels, average="micro")
    return {
        "mcc": GlueMatthewsCorrCoef,
        "f1": GlueF1Score,
        "pearson": GluePearson,
        "spearman": GlueSpearman,
    }[name]()
