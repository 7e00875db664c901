"""LightningModule for classification tasks: loss, torchmetrics accuracy, optimizer, schedule.

It also drives the binarized operators' schedules (``set_progress`` every step) and stops the
run at the first non-finite loss, marking it diverged instead of training on NaNs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torchmetrics import MetricCollection
from torchmetrics.classification import MulticlassAccuracy

from bibench_cli.binarize import set_progress
from bibench_cli.engine.optim import build_optimizer, build_scheduler

SPLITS = ("val", "test")


def _accuracy_metrics(num_classes: int, top_k: tuple[int, ...]) -> MetricCollection:
    metrics = {
        "acc" if k == 1 else f"acc_top{k}": MulticlassAccuracy(
            num_classes, top_k=k, average="micro"
        )
        for k in top_k
        if k <= num_classes
    }
    return MetricCollection(metrics)


class ClassificationModule(pl.LightningModule):
    """Cross-entropy training of ``model``; reports top-k accuracy (percent) per split."""

    def __init__(
        self,
        model: torch.nn.Module,
        recipe: Mapping[str, Any],
        num_classes: int,
        top_k: tuple[int, ...] = (1,),
    ) -> None:
        super().__init__()
        self.model = model
        self.recipe = dict(recipe)
        self.metrics = torch.nn.ModuleDict(
            {split: _accuracy_metrics(num_classes, top_k) for split in SPLITS}
        )
        self.diverged_at: int | None = None

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.model(inputs)

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        total = max(self.trainer.estimated_stepping_batches, 1)
        set_progress(self.model, min(self.global_step / total, 1.0))

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int):
        inputs, targets = batch
        loss = F.cross_entropy(self(inputs), targets)
        if not torch.isfinite(loss):
            self.diverged_at = self.global_step
            self.trainer.should_stop = True
            return None  # skip the optimizer step: the weights stay finite
        self.log("train/loss", loss, prog_bar=True, on_step=True, on_epoch=True)
        return loss

    def _evaluate(self, batch: tuple[torch.Tensor, torch.Tensor], split: str) -> None:
        inputs, targets = batch
        logits = self(inputs)
        self.log(f"{split}/loss", F.cross_entropy(logits, targets), prog_bar=split == "val")
        metrics = self.metrics[split]
        metrics.update(logits, targets)

    def _log_epoch(self, split: str) -> None:
        metrics = self.metrics[split]
        values = {f"{split}/{name}": 100.0 * value for name, value in metrics.compute().items()}
        self.log_dict(values, prog_bar=split == "val")
        metrics.reset()

    def validation_step(self, batch, batch_idx: int) -> None:
        self._evaluate(batch, "val")

    def on_validation_epoch_end(self) -> None:
        self._log_epoch("val")

    def test_step(self, batch, batch_idx: int) -> None:
        self._evaluate(batch, "test")

    def on_test_epoch_end(self) -> None:
        self._log_epoch("test")

    def configure_optimizers(self):
        optimizer = build_optimizer(self.parameters(), self.recipe)
        scheduler = build_scheduler(optimizer, self.recipe, self.trainer.estimated_stepping_batches)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }
