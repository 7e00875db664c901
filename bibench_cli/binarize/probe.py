"""A scope for one probing forward pass (shape inference, counting) that leaves no trace."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle


@contextmanager
def probing(model: nn.Module, hooks: Sequence[RemovableHandle]) -> Iterator[None]:
    """Eval mode and no grad inside; afterwards ``hooks`` are removed and every module's
    train/eval mode is restored, so BatchNorm statistics and modes are untouched."""
    modes = [(module, module.training) for module in model.modules()]
    try:
        model.eval()
        with torch.no_grad():
            yield
    finally:
        for hook in hooks:
            hook.remove()
        for module, training in modes:
            module.training = training


def call_with(model: nn.Module, example: Any) -> Any:
    """``model`` applied to an example input: a tensor, a tuple of positional inputs or a
    dict of keyword inputs (what the task's input spec builds)."""
    if isinstance(example, dict):
        return model(**example)
    if isinstance(example, (tuple, list)):
        return model(*example)
    return model(example)


def to_device(example: Any, device: torch.device | None) -> Any:
    """An example input (tensor, tuple/list or dict of tensors) moved to ``device``."""
    if device is None:
        return example
    if isinstance(example, torch.Tensor):
        return example.to(device)
    if isinstance(example, dict):
        return {key: to_device(value, device) for key, value in example.items()}
    if isinstance(example, (tuple, list)):
        return type(example)(to_device(value, device) for value in example)
    return example
