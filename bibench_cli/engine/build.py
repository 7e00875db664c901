"""Build a run's datamodule and (binarized) model from its config.

Shared by training and by the evaluations of finished runs (``bibench robustness``), which
rebuild the same model and load its saved weights.
"""

from __future__ import annotations

import torch
from omegaconf import DictConfig

from bibench_cli.binarize import BinarizePolicy, BinarizeReport, binarize
from bibench_cli.data import build_datamodule
from bibench_cli.models import build_model, check_compatible


def datamodule_for(cfg: DictConfig):
    """The task's datamodule, set up (a missing dataset fails here with one line)."""
    task = cfg.task
    datamodule = build_datamodule(
        task.name,
        root=cfg.data.root,
        download=cfg.data.download,
        num_workers=cfg.data.num_workers,
        batch_size=task.batch_size,
        augment=task.augment,
        val_size=task.val_size,
        image_size=task.image_size,
        seed=cfg.seed,
    )
    datamodule.prepare_data()
    datamodule.setup("fit")
    return datamodule


def model_for(cfg: DictConfig, datamodule) -> torch.nn.Module:
    """The full-precision architecture sized for the task's input."""
    shape = {"in_channels": datamodule.in_channels, "image_size": datamodule.image_size}
    check_compatible(cfg.arch.name, input_kind=datamodule.input_kind, **shape)
    return build_model(cfg.arch.name, num_classes=datamodule.num_classes, **shape)


def example_input(datamodule) -> torch.Tensor:
    """A batch-2 input of the task's shape, for shape inference and counting."""
    size = datamodule.image_size
    return torch.zeros(2, datamodule.in_channels, size, size)


def binarize_for(cfg: DictConfig, model: torch.nn.Module, datamodule) -> BinarizeReport:
    """Binarize ``model`` in place with the run's algorithm and policy."""
    policy = BinarizePolicy(keep=list(cfg.policy.keep))
    return binarize(model, cfg.algo.name, policy, example_input(datamodule))
