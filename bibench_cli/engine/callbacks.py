"""Lightning callbacks of a run: the attempt clock and plain progress logging off a TTY.

A run killed and resumed is several attempts. Each attempt's wall time, optimisation steps
and median step time are written to ``attempts.json`` in the run directory at every epoch
end and checkpoint (atomically), so the record of the finished run sums the training cost of
every attempt, the work lost to a kill included, for the training-consumption track.
"""

from __future__ import annotations

import json
import logging
import statistics
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytorch_lightning as pl

from bibench_cli.runs.atomic import write_json_atomic

log = logging.getLogger("bibench")
ATTEMPTS_FILE = "attempts.json"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Attempt:
    started_at: str
    train_time_s: float = 0.0
    steps: int = 0
    step_time_s: float | None = None  # median optimisation-step wall time


def read_attempts(path: Path) -> list[Attempt]:
    try:
        return [Attempt(**entry) for entry in json.loads(path.read_text())]
    except (OSError, ValueError, TypeError):
        return []


class AttemptClock(pl.Callback):
    """Times this attempt (fit wall time, steps, each step's duration) beside the earlier
    attempts of the same run, read from ``attempts.json`` when resuming."""

    def __init__(self, run_dir: Path, resumed: bool) -> None:
        self.path = run_dir / ATTEMPTS_FILE
        self.attempts = read_attempts(self.path) if resumed else []
        self.current = Attempt(now())
        self.attempts.append(self.current)
        self.durations: list[float] = []
        self._clock = time.perf_counter()
        self._trainer: pl.Trainer | None = None
        self._first_step = 0
        self._step_start = 0.0

    def on_fit_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        self._clock = time.perf_counter()
        self._trainer = trainer

    def on_train_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        self._first_step = trainer.global_step  # after a resume: the checkpoint's step

    def on_train_batch_start(self, *_: Any) -> None:
        self._step_start = time.perf_counter()

    def on_train_batch_end(self, *_: Any) -> None:
        self.durations.append(time.perf_counter() - self._step_start)

    def update(self) -> None:
        """Bring this attempt's figures up to now and persist every attempt's (called at
        each epoch end and checkpoint, and once more when the attempt ends however it ends)."""
        if self._trainer is None:
            return  # fitting never started: nothing was trained
        self.current.train_time_s = time.perf_counter() - self._clock
        self.current.steps = self._trainer.global_step - self._first_step
        self.current.step_time_s = statistics.median(self.durations) if self.durations else None
        write_json_atomic(self.path, [asdict(a) for a in self.attempts])

    def on_train_epoch_end(self, *_: Any) -> None:
        self.update()

    def on_save_checkpoint(self, *_: Any) -> None:
        self.update()

    def on_train_end(self, *_: Any) -> None:
        self.update()

    def totals(self) -> dict[str, Any]:
        """What the record sums over attempts; the step time is the longest attempt's."""
        longest = max(self.attempts, key=lambda a: a.steps)
        return {
            "attempts": len(self.attempts),
            "train_time_s": sum(a.train_time_s for a in self.attempts),
            "steps": sum(a.steps for a in self.attempts),
            "step_time_s": longest.step_time_s,
            "started_at": self.attempts[0].started_at,
        }


class PlainProgress(pl.Callback):
    """One log line per epoch with the logged metrics: for logs, CI and batch schedulers."""

    def on_train_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        metrics = {
            key: float(value)
            for key, value in trainer.callback_metrics.items()
            if key.startswith("val/") or key.endswith(("loss", "loss_epoch"))
        }
        shown = " ".join(f"{key}={value:.4g}" for key, value in sorted(metrics.items()))
        log.info("epoch %d/%d %s", trainer.current_epoch + 1, trainer.max_epochs, shown)
