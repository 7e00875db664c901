"""Checks that a composed config can run at all, done before any data is read or job started."""

from __future__ import annotations

from omegaconf import DictConfig

from bibench_cli.binarize import get_algorithm
from bibench_cli.data import task_info
from bibench_cli.models import check_compatible


def check_runnable(cfg: DictConfig) -> None:
    """Raise a one-line BibenchError for an unknown algorithm or an architecture that cannot
    take the task's input (named, with what is compatible)."""
    get_algorithm(cfg.algo.name)
    info = task_info(cfg.task.name)
    check_compatible(
        cfg.arch.name,
        in_channels=info.in_channels,
        image_size=cfg.task.image_size or info.image_size,
        input_kind=info.input_kind,
    )
