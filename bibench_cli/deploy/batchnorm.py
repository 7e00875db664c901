"""Folding a per-channel scale and bias into the BatchNorm that consumes them.

bn(s·y + b) = γ·(s·y + b − μ)/√(σ² + ε) + β is a BatchNorm of y with weight γ·s,
bias β + γ·(b − μ)/√(σ² + ε), running mean 0 and the same running variance and ε: valid
for any s (ReCU's learned α may be zero or negative), and the BN stays a separate layer,
as binary inference libraries expect.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

FOLDABLE = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def can_fold_into(module: nn.Module) -> bool:
    """An exact BatchNorm type (no user subclass with its own forward) with running stats."""
    return type(module) in FOLDABLE and module.running_var is not None


def fold_channel_affine(bn: nn.Module, scale: Tensor | None, bias: Tensor | None) -> nn.Module:
    """A new eval-mode BatchNorm computing ``bn(scale·y + bias)`` from y (per-channel
    ``scale`` and ``bias``, any broadcastable shape, None meaning 1 and 0)."""
    with torch.no_grad():
        stats = bn.running_var.double()
        inv_std = (stats + bn.eps).rsqrt()
        ones = torch.ones_like(stats)
        gamma = bn.weight.double() if bn.affine else ones
        beta = bn.bias.double() if bn.affine else torch.zeros_like(stats)
        s = ones if scale is None else scale.double().flatten()
        b = torch.zeros_like(stats) if bias is None else bias.double().flatten()
        folded = type(bn)(bn.num_features, eps=bn.eps, affine=True).to(bn.running_var)
        folded.weight.copy_(gamma * s)
        folded.bias.copy_(beta + gamma * (b - bn.running_mean.double()) * inv_std)
        folded.running_mean.zero_()
        folded.running_var.copy_(bn.running_var)
    return folded.eval()
