"""Checkpoints written atomically, so a job killed mid-save (or a full disk) never leaves a
torn ``last.ckpt`` that would make its resume fail, nor a temporary file behind."""

from __future__ import annotations

from typing import Any

import torch
from lightning_fabric.plugins.io.torch_io import TorchCheckpointIO

from bibench_cli.runs.atomic import write_atomic


class AtomicCheckpointIO(TorchCheckpointIO):
    """Save through :func:`bibench_cli.runs.atomic.write_atomic`."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options=None) -> None:
        write_atomic(path, lambda handle: torch.save(checkpoint, handle))
