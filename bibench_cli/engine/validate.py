"""Checks that a composed config can run at all, before any data is read or job started.

Everything here is bad input, reported as one line (a ``BibenchError``): unknown keys the
schema does not have (``+task.epoch=3``), values out of range, unknown names, a task option
the datamodule does not take, an architecture that cannot take the task's input, a keep
pattern that matches no layer, a missing dataset or checkpoint, a logger whose package is
not installed. A sweep calls :func:`check_runnable` on every grid point while planning, so
the expensive parts (building a model to list its layers, looking for a dataset) are cached.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
from functools import lru_cache
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from bibench_cli.binarize import get_algorithm
from bibench_cli.binarize.converter import candidate_layers, check_patterns
from bibench_cli.config import BibenchConfig
from bibench_cli.engine.build import (
    NO_CHECKPOINT,
    arch_checkpoint,
    datamodule_for,
    plain,
    policy_for,
)
from bibench_cli.engine.dependencies import baseline_config
from bibench_cli.errors import BibenchError
from bibench_cli.models import build_model, check_compatible, check_params, get_architecture
from bibench_cli.runs.identity import FP32
from bibench_cli.tasks import CORRUPTIONS, DISTILL, get_task, list_tasks

LOGGER_PACKAGES = {"tensorboard": "tensorboard", "mlflow": "mlflow"}
# checked by their consumer, not the schema
FREE_NODES = {"task.data", "task.per_subtask", "task.per_arch", "arch.params", "hydra"}
MAX_SEED = 2**32
DISTILL_MODES = ("kd", "dmd", "none")


class ConfigError(BibenchError, ValueError):
    """A config key the schema does not have, or a value out of its range."""


def _schema() -> DictConfig:
    return OmegaConf.structured(BibenchConfig)


def unknown_keys(cfg: DictConfig, schema: DictConfig, prefix: str = "") -> list[str]:
    """Dotted keys of ``cfg`` that the schema lacks (Hydra's ``+key=`` bypasses the schema),
    each with the closest known key."""
    found = []
    known_keys = [str(k) for k in schema]  # ``key in schema`` is False for a MISSING value
    for key in cfg:
        path = f"{prefix}{key}"
        if path in FREE_NODES:
            continue
        if key not in known_keys:
            close = difflib.get_close_matches(str(key), known_keys, n=1)
            hint = f" (did you mean {prefix}{close[0]}?)" if close else ""
            found.append(f"{path}{hint}")
            continue
        value, known = cfg._get_node(key), schema._get_node(key)
        if isinstance(value, DictConfig) and isinstance(known, DictConfig) and len(known):
            found += unknown_keys(value, known, f"{path}.")
    return found


def check_ranges(cfg: DictConfig) -> None:
    """Values a run cannot take, named with the range they must lie in."""
    problems = []
    for key, value in (
        ("task.epochs", cfg.task.epochs),
        ("trainer.max_epochs", cfg.trainer.max_epochs),
        ("task.batch_size", cfg.task.batch_size),
    ):
        if value < 1:
            problems.append(f"{key}={value} (must be >= 1)")
    for key in ("max_steps", "threads"):
        value = cfg.trainer.get(key)
        if value is not None and value < 1:
            problems.append(f"trainer.{key}={value} (must be >= 1, or null)")
    if not cfg.optim.lr_scale > 0:
        problems.append(f"optim.lr_scale={cfg.optim.lr_scale} (must be > 0)")
    if cfg.optim.lr is not None and not cfg.optim.lr > 0:
        problems.append(f"optim.lr={cfg.optim.lr} (must be > 0)")
    if not 0 <= cfg.seed < MAX_SEED:
        problems.append(f"seed={cfg.seed} (must be in 0..{MAX_SEED - 1})")
    val_size = cfg.task.data.get("val_size")
    if val_size is not None and val_size < 0:
        problems.append(f"task.data.val_size={val_size} (must be >= 0)")
    if problems:
        raise ConfigError(f"out of range: {'; '.join(problems)}")


@lru_cache(maxsize=64)
def _layer_names(arch: str, shape_key: str) -> tuple[str, ...]:
    """Conv/linear layer names of an architecture built for one task shape (cached: a sweep
    checks the same model for many grid points)."""
    task, subtask, data, params, checkpoint = json.loads(shape_key)
    shape = get_task(task).model_shape(subtask, data, None)
    model = build_model(arch, shape, checkpoint=checkpoint, **params)
    return tuple(name for name, _ in candidate_layers(model))


@lru_cache(maxsize=64)
def _check_data(task: str, key: str) -> None:
    """The dataset is present (cached per task, data options and root)."""
    cfg = OmegaConf.create(json.loads(key))
    datamodule_for(cfg, get_task(task), setup=False).check_data()


def _check_file(key: str, path: str | None) -> None:
    if path and not Path(path).expanduser().exists():
        raise ConfigError(f"{key}={path} does not exist")


def _check_pretrained_start(cfg: DictConfig, pretrained: str) -> None:
    """An architecture that starts from a pretrained checkpoint (``pretrained`` says where
    one comes from) needs ``arch.checkpoint``, or ``none`` for a random start on purpose."""
    if pretrained and not cfg.arch.checkpoint:
        raise ConfigError(
            f"arch={cfg.arch.name} starts from a pretrained checkpoint: set "
            f"arch.checkpoint=DIR, {pretrained}; or arch.checkpoint={NO_CHECKPOINT} for a "
            "random start (tests, demos)"
        )


def check_runnable(cfg: DictConfig, *, data: bool = True) -> None:
    """Raise a one-line BibenchError for anything that keeps ``cfg`` from running (see the
    module docstring); ``data=False`` skips looking for the dataset."""
    unknown = unknown_keys(cfg, _schema())
    if unknown:
        raise ConfigError(f"unknown config key(s): {', '.join(unknown)}")
    spec = get_task(cfg.task.name)
    spec.check_subtask(cfg.task.subtask)  # first: task settings may interpolate per subtask
    check_ranges(cfg)
    algorithm = get_algorithm(cfg.algo.name)
    package = LOGGER_PACKAGES.get(cfg.logger.name)
    if package is not None and importlib.util.find_spec(package) is None:
        raise BibenchError(
            f"logger={cfg.logger.name} needs the {package} package: pip install {package}"
        )
    task_data = plain(cfg.task.data)
    spec.check_options(cfg.task.subtask, task_data)
    if cfg.data.download and not spec.downloads():
        fetching = [name for name in list_tasks() if get_task(name).downloads()]
        raise ConfigError(
            f"data.download=true: task {spec.name!r} cannot download its dataset; put it under "
            f"data.root (README, Tasks and data); tasks that download: {', '.join(fetching)}"
        )
    if cfg.distill not in DISTILL_MODES:
        raise ConfigError(f"distill={cfg.distill} is unknown; accepted: {', '.join(DISTILL_MODES)}")
    distils = DISTILL in spec.capabilities and cfg.algo.name != FP32 and cfg.distill != "none"
    if distils and baseline_config(cfg) is None:
        raise ConfigError(
            f"distill={cfg.distill} needs the FP32 run as teacher (init=fp32, no "
            "init.checkpoint); or set distill=none"
        )
    if cfg.eval.corruptions and CORRUPTIONS not in spec.capabilities:
        raise BibenchError(f"eval.corruptions=true: task {spec.name!r} has no corruption benchmark")
    arch = get_architecture(cfg.arch.name)
    params = plain(cfg.arch.params)
    check_params(cfg.arch.name, params)
    shape = spec.model_shape(cfg.task.subtask, task_data, None)
    check_compatible(cfg.arch.name, shape.input)
    _check_pretrained_start(cfg, arch.pretrained)
    _check_file("init.checkpoint", cfg.init.checkpoint)
    _check_file("arch.checkpoint", arch_checkpoint(cfg))
    if algorithm.layers:
        checkpoint = arch_checkpoint(cfg) if arch.sized_by_checkpoint() else None
        key = [spec.name, cfg.task.subtask, task_data, params, checkpoint]
        shape_key = json.dumps(key, sort_keys=True, default=str)
        check_patterns(policy_for(cfg, arch, shape), list(_layer_names(cfg.arch.name, shape_key)))
    if data:
        subset = {
            "task": OmegaConf.to_container(cfg.task, resolve=True),
            "data": dict(cfg.data),
            "arch": {"checkpoint": cfg.arch.checkpoint},
            "seed": 0,
        }
        _check_data(spec.name, json.dumps(subset, sort_keys=True, default=str))
