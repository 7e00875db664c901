"""Build what a run trains from its config: the task, its datamodule, the (binarized) model.

Shared by training and by the evaluations of finished runs (``bibench robustness``, export),
which rebuild the same model and load its saved weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from torch import nn

from bibench_cli.binarize import BinarizePolicy, BinarizeReport, binarize
from bibench_cli.binarize.summary import Complexity, count_complexity
from bibench_cli.models import ArchSpec, build_model, get_architecture
from bibench_cli.models.inputs import TaskShape
from bibench_cli.runs.record import MODEL_FILE
from bibench_cli.tasks import TaskSpec, get_task

NO_CHECKPOINT = "none"  # arch.checkpoint=none: no pretrained start, random init on purpose


def arch_checkpoint(cfg: DictConfig) -> str | None:
    """The run's pretrained start (``arch.checkpoint``), None when unset or ``none``."""
    value = cfg.arch.checkpoint
    if not value or value == NO_CHECKPOINT:
        return None
    return str(Path(value).expanduser())


def plain(node: Any) -> dict[str, Any]:
    """A config node (``task.data``, ``arch.params``) as a plain dict."""
    if node is None:
        return {}
    return OmegaConf.to_container(node, resolve=True) if OmegaConf.is_config(node) else dict(node)


def datamodule_for(cfg: DictConfig, spec: TaskSpec | None = None, *, setup: bool = True) -> Any:
    """The task's datamodule; with ``setup`` the data is read (a missing or bad dataset fails
    here with one line)."""
    spec = spec or get_task(cfg.task.name)
    datamodule = spec.build_datamodule(
        plain(cfg.task.data),
        root=cfg.data.root,
        download=cfg.data.download,
        num_workers=cfg.data.num_workers,
        batch_size=cfg.task.batch_size,
        seed=cfg.seed,
        subtask=cfg.task.subtask,
        checkpoint=arch_checkpoint(cfg),
    )
    if setup:
        datamodule.prepare_data()
        datamodule.setup("fit")
    return datamodule


def policy_for(cfg: DictConfig, arch: ArchSpec, shape: TaskShape) -> BinarizePolicy:
    """The architecture's declared full-precision layers (of the model built for ``shape``),
    activation, module replacements and kept ReLUs, plus ``policy.keep`` and
    ``policy.binarize``."""
    return arch.policy(shape, keep=tuple(cfg.policy.keep), binarize=tuple(cfg.policy.binarize))


@dataclass
class BuiltModel:
    """A run's model, binarized as its algorithm says, and what binarizing it did."""

    model: nn.Module
    shape: TaskShape
    report: BinarizeReport
    arch: ArchSpec


def _build(cfg: DictConfig, shape: TaskShape) -> nn.Module:
    return build_model(
        cfg.arch.name, shape, checkpoint=arch_checkpoint(cfg), **plain(cfg.arch.params)
    )


def teacher_for(cfg: DictConfig, shape: TaskShape, checkpoint: str) -> nn.Module:
    """The full-precision model of ``cfg``'s architecture with the weights of ``checkpoint``
    (the FP32 run a binarized run distils from)."""
    from bibench_cli.models.pretrained import read_state_dict

    model = _build(cfg, shape)
    model.load_state_dict(read_state_dict(checkpoint), strict=True)
    return model


def model_for(cfg: DictConfig, datamodule: Any = None, spec: TaskSpec | None = None) -> BuiltModel:
    """The architecture built for the task's shape (read from ``datamodule`` when given,
    e.g. an ImageNet subset's classes) and binarized with the run's algorithm and policy."""
    spec = spec or get_task(cfg.task.name)
    arch = get_architecture(cfg.arch.name)
    shape = spec.model_shape(cfg.task.subtask, plain(cfg.task.data), datamodule)
    model = _build(cfg, shape)
    report = binarize(model, cfg.algo.name, policy_for(cfg, arch, shape), shape.input.example(2))
    return BuiltModel(model, shape, report, arch)


@dataclass
class FinishedRun:
    """A finished run rebuilt from its folder: its saved config, task, data and model
    (binarized as it was trained, with its saved weights, in training mode)."""

    cfg: DictConfig
    spec: TaskSpec
    datamodule: Any
    built: BuiltModel


def load_finished(run_dir: Path, data_root: str | None = None) -> FinishedRun:
    """Rebuild the run in ``run_dir`` from its ``config.yaml`` and ``model.pt`` (the data
    read from ``data_root`` when given, else from where the run read it)."""
    from bibench_cli.models.pretrained import read_state_dict

    cfg = OmegaConf.load(Path(run_dir) / "config.yaml")
    if data_root is not None:
        cfg.data.root = data_root
    spec = get_task(cfg.task.name)
    datamodule = datamodule_for(cfg, spec)
    built = model_for(cfg, datamodule, spec)
    built.model.load_state_dict(read_state_dict(Path(run_dir) / MODEL_FILE), strict=True)
    return FinishedRun(cfg, spec, datamodule, built)


def count_built(built: BuiltModel) -> Complexity:
    """The model's parameters and FLOPs on one example of the task's input, counted the way
    its architecture says (a two-stage detector on its whole test budget of proposals)."""
    with built.arch.counting(built.model):
        return count_complexity(built.model, built.shape.input.example(1))
