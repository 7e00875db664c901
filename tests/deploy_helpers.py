"""Tiny binarized ResNet-20s with a few training steps behind them, for the deploy tests.

Training moves BatchNorm statistics, learned scales (ReCU's α, XNOR++'s Γ) and ReActNet's
thresholds away from their initial values, so folding and shifts are really exercised.
"""

from __future__ import annotations

import torch
from torch import nn

from bibench_cli.binarize import BinarizePolicy, binarize, set_progress
from bibench_cli.models import build_model, get_architecture
from bibench_cli.models.inputs import ImageInput, TaskShape

ALGOS = ["bnn", "xnor", "dorefa", "bireal", "xnorpp", "reactnet", "recu", "fda"]


def trained_resnet20(
    algo: str, channels: int = 1, size: int = 8, steps: int = 3, batch: int = 16, seed: int = 0
) -> tuple[nn.Module, torch.Tensor]:
    """A ResNet-20 binarized with ``algo`` after ``steps`` Adam steps on random data (left in
    training mode), and a fresh input batch."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    shape = TaskShape(ImageInput(channels, size), {"num_classes": 10})
    model = build_model("resnet20", shape)
    x = torch.randn(batch, channels, size, size, generator=g)
    y = torch.randint(0, 10, (batch,), generator=g)
    if algo != "fp32":
        arch = get_architecture("resnet20")
        policy = BinarizePolicy.declared_by(arch.keep, activation=arch.activation)
        binarize(model, algo, policy, example_input=x[:2])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for step in range(steps):
        set_progress(model, (step + 1) / steps)
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    return model, torch.randn(batch, channels, size, size, generator=g)
