"""Checks that a composed config can run at all, done before any data is read or job started."""

from __future__ import annotations

import importlib.util

from omegaconf import DictConfig

from bibench_cli.binarize import get_algorithm
from bibench_cli.data import task_info
from bibench_cli.errors import BibenchError
from bibench_cli.models import check_compatible

LOGGER_PACKAGES = {"tensorboard": "tensorboard", "mlflow": "mlflow"}


def check_runnable(cfg: DictConfig) -> None:
    """Raise a one-line BibenchError for an unknown algorithm, an architecture that cannot
    take the task's input (named, with what is compatible) or a logger that is not installed."""
    get_algorithm(cfg.algo.name)
    package = LOGGER_PACKAGES.get(cfg.logger.name)
    if package is not None and importlib.util.find_spec(package) is None:
        raise BibenchError(
            f"logger={cfg.logger.name} needs the {package} package: pip install {package}"
        )
    info = task_info(cfg.task.name)
    check_compatible(
        cfg.arch.name,
        in_channels=info.in_channels,
        image_size=cfg.task.image_size or info.image_size,
        input_kind=info.input_kind,
    )
