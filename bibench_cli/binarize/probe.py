"""A scope for one probing forward pass (shape inference, counting) that leaves no trace."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

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
