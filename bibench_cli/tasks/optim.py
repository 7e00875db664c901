"""Optimizers and learning-rate schedules from a resolved recipe.

Schedules are functions of the fraction of training done, stepped every optimisation step,
so the same config works for epoch-based and iteration-based training.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import torch

from bibench_cli.errors import BibenchError

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULERS = ("cosine", "step", "linear", "constant")


def build_optimizer(params: Iterable[torch.nn.Parameter], recipe: Mapping[str, Any]):
    """SGD / Adam / AdamW with the recipe's lr, weight decay and momentum."""
    name, lr = recipe["optimizer"], recipe["lr"]
    weight_decay = recipe.get("weight_decay") or 0.0
    if name == "sgd":
        return torch.optim.SGD(
            params,
            lr=lr,
            momentum=recipe.get("momentum") or 0.0,
            nesterov=bool(recipe.get("nesterov")),
            weight_decay=weight_decay,
        )
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    raise BibenchError(f"unknown optimizer {name!r}; available: {', '.join(OPTIMIZERS)}")


def lr_multiplier(progress: float, recipe: Mapping[str, Any]) -> float:
    """lr / base lr after ``progress`` (0..1) of training: linear warm-up, then the schedule."""
    warmup = float(recipe.get("warmup") or 0.0)
    if progress < warmup:
        return (progress + 1e-12) / warmup
    name = recipe["scheduler"]
    if name == "cosine":
        span = (progress - warmup) / max(1.0 - warmup, 1e-12)
        return 0.5 * (1.0 + math.cos(math.pi * min(span, 1.0)))
    if name == "step":
        passed = sum(progress >= m for m in recipe.get("milestones", ()))
        return float(recipe.get("gamma", 0.1)) ** passed
    if name == "linear":
        return max(0.0, 1.0 - (progress - warmup) / max(1.0 - warmup, 1e-12))
    if name == "constant":
        return 1.0
    raise BibenchError(f"unknown scheduler {name!r}; available: {', '.join(SCHEDULERS)}")


def build_scheduler(optimizer: torch.optim.Optimizer, recipe: Mapping[str, Any], total_steps: int):
    """A per-step LambdaLR following :func:`lr_multiplier` over ``total_steps`` steps."""
    lr_multiplier(0.0, recipe)  # fail fast on an unknown scheduler name
    total = max(int(total_steps), 1)
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_multiplier(step / total, recipe)
    )
