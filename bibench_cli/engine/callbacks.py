"""Lightning callbacks of a run: step timing and plain progress logging when not on a TTY."""

from __future__ import annotations

import logging
import statistics
import time
from typing import Any

import pytorch_lightning as pl

log = logging.getLogger("bibench")


class StepTimer(pl.Callback):
    """Wall time of each optimisation step (forward + backward + optimizer), for the record."""

    def __init__(self) -> None:
        self.durations: list[float] = []
        self._start = 0.0

    def on_train_batch_start(
        self, trainer: pl.Trainer, module: pl.LightningModule, *_: Any
    ) -> None:
        self._start = time.perf_counter()

    def on_train_batch_end(self, trainer: pl.Trainer, module: pl.LightningModule, *_: Any) -> None:
        self.durations.append(time.perf_counter() - self._start)

    @property
    def median(self) -> float | None:
        return statistics.median(self.durations) if self.durations else None


class PlainProgress(pl.Callback):
    """One log line per epoch with the logged metrics: for logs, CI and batch schedulers."""

    def on_train_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        metrics = {
            key: float(value)
            for key, value in trainer.callback_metrics.items()
            if key.endswith(("acc", "loss", "loss_epoch"))
        }
        shown = " ".join(f"{key}={value:.4g}" for key, value in sorted(metrics.items()))
        log.info("epoch %d/%d %s", trainer.current_epoch + 1, trainer.max_epochs, shown)
