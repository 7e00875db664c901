"""Build what a run trains from its config: the task, its datamodule, the (binarized) model.

Shared by training and by the evaluations of finished runs (``bibench robustness``, export),
which rebuild the same model and load its saved weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, OmegaConf
from torch import nn

from bibench_cli.binarize import BinarizePolicy, BinarizeReport, binarize
from bibench_cli.binarize.summary import Complexity, count_complexity
from bibench_cli.models import ArchSpec, build_model, get_architecture
from bibench_cli.models.inputs import TaskShape
from bibench_cli.tasks import TaskSpec, get_task


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
    )
    if setup:
        datamodule.prepare_data()
        datamodule.setup("fit")
    return datamodule


def policy_for(cfg: DictConfig, arch: ArchSpec) -> BinarizePolicy:
    """The architecture's declared full-precision layers, activation and kept ReLUs, plus
    ``policy.keep`` and ``policy.binarize``."""
    return BinarizePolicy.declared_by(
        arch.keep,
        user=tuple(cfg.policy.keep),
        activation=arch.activation,
        binarize=tuple(cfg.policy.binarize),
        keep_activations=arch.keep_activations,
    )


@dataclass
class BuiltModel:
    """A run's model, binarized as its algorithm says, and what binarizing it did."""

    model: nn.Module
    shape: TaskShape
    report: BinarizeReport
    arch: ArchSpec


def teacher_for(cfg: DictConfig, shape: TaskShape, checkpoint: str) -> nn.Module:
    """The full-precision model of ``cfg``'s architecture with the weights of ``checkpoint``
    (the FP32 run a binarized run distils from)."""
    from bibench_cli.models.pretrained import read_state_dict

    model = build_model(cfg.arch.name, shape, **plain(cfg.arch.params))
    model.load_state_dict(read_state_dict(checkpoint), strict=True)
    return model


def model_for(cfg: DictConfig, datamodule: Any = None, spec: TaskSpec | None = None) -> BuiltModel:
    """The architecture built for the task's shape (read from ``datamodule`` when given,
    e.g. an ImageNet subset's classes) and binarized with the run's algorithm and policy."""
    spec = spec or get_task(cfg.task.name)
    arch = get_architecture(cfg.arch.name)
    shape = spec.shape(plain(cfg.task.data), datamodule)
    model = build_model(cfg.arch.name, shape, **plain(cfg.arch.params))
    report = binarize(model, cfg.algo.name, policy_for(cfg, arch), shape.input.example(2))
    return BuiltModel(model, shape, report, arch)


def count_built(built: BuiltModel) -> Complexity:
    """The model's parameters and FLOPs on one example of the task's input, counted the way
    its architecture says (a two-stage detector on its whole test budget of proposals)."""
    with built.arch.counting(built.model):
        return count_complexity(built.model, built.shape.input.example(1))
