"""The generic half of every task's LightningModule.

What all tasks share: the binarized operators' schedules driven every step
(``set_progress``), the run stopped at the first non-finite loss (marked diverged instead of
training on NaNs), the optimizer and per-step schedule from the resolved recipe, the task's
torchmetrics per split logged in percent, and an optional frozen teacher for distillation.
A task kind subclasses it with its loss (:meth:`training_loss`) and how a batch reaches the
model and the metrics (:meth:`evaluate`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytorch_lightning as pl
import torch
from torchmetrics import MetricCollection

from bibench_cli.binarize import set_progress
from bibench_cli.models.inputs import TaskShape
from bibench_cli.tasks.optim import build_optimizer, build_scheduler
from bibench_cli.tasks.spec import Metric

SPLITS = ("val", "test")


class TaskModule(pl.LightningModule):
    """Training and evaluation of ``model`` on one task (see the module docstring)."""

    def __init__(
        self,
        model: torch.nn.Module,
        recipe: Mapping[str, Any],
        metrics: Sequence[Metric],
        shape: TaskShape,
        teacher: torch.nn.Module | None = None,
        distill: str = "none",
    ) -> None:
        super().__init__()
        self.model = model
        self.recipe = dict(recipe)
        self.shape = shape
        self.distill = distill if teacher is not None else "none"
        self.metrics = torch.nn.ModuleDict(
            {split: MetricCollection({m.name: m.build(shape) for m in metrics}) for split in SPLITS}
        )
        # Not a registered submodule: the teacher is neither trained nor saved with the run.
        self._teacher = [teacher.eval().requires_grad_(False)] if teacher is not None else []
        self.diverged_at: int | None = None
        self.computed: dict[str, dict[str, float]] = {}  # split -> metrics, full precision
        self.subtask_results: dict[str, float] = {}

    @property
    def teacher(self) -> torch.nn.Module | None:
        return self._teacher[0] if self._teacher else None

    def on_fit_start(self) -> None:
        if self.teacher is not None:
            self.teacher.to(self.device)

    def training_loss(self, batch: Any) -> torch.Tensor:
        """The loss of one training batch."""
        raise NotImplementedError

    def evaluate(self, batch: Any, split: str) -> None:
        """Update ``self.metrics[split]`` (and log the split's loss) for one batch."""
        raise NotImplementedError

    def batch_size(self, batch: Any) -> int | None:
        """Examples in ``batch``, which weigh its loss in the epoch mean (None: Lightning
        infers it from the batch's first tensor)."""
        return None

    def forward(self, *inputs: Any, **named: Any) -> Any:
        return self.model(*inputs, **named)

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        total = max(self.trainer.estimated_stepping_batches, 1)
        set_progress(self.model, min(self.global_step / total, 1.0))

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor | None:
        loss = self.training_loss(batch)
        if not torch.isfinite(loss):
            self.diverged_at = self.global_step
            self.trainer.should_stop = True
            return None  # skip the optimizer step: the weights stay finite
        size = self.batch_size(batch)
        self.log("train/loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=size)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self.evaluate(batch, "val")

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self.evaluate(batch, "test")

    def log_metrics(self, split: str) -> dict[str, float]:
        """Compute, log (in percent) and reset the split's metrics; returns what was logged."""
        metrics = self.metrics[split]
        values = {
            f"{split}/{name}": 100.0 * float(value) for name, value in metrics.compute().items()
        }
        self.log_dict(values, prog_bar=split == "val")
        metrics.reset()
        self.computed[split] = values
        return values

    def on_validation_epoch_end(self) -> None:
        self.log_metrics("val")

    def on_test_epoch_end(self) -> None:
        self.log_metrics("test")

    def configure_optimizers(self) -> dict[str, Any]:
        optimizer = build_optimizer(self.model.parameters(), self.recipe)
        scheduler = build_scheduler(optimizer, self.recipe, self.trainer.estimated_stepping_batches)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }
