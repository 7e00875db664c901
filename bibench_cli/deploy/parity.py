"""How closely a deployed model reproduces the trained one on given inputs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from bibench_cli.binarize.probe import probing

from .form import DeployForm


@dataclass(frozen=True)
class Parity:
    """Largest absolute output difference, the same relative to the reference's largest
    magnitude, and the fraction of samples whose top-1 class agrees."""

    max_abs_diff: float
    max_rel_diff: float
    top1_agreement: float


def compare(reference: Tensor | np.ndarray, candidate: Tensor | np.ndarray) -> Parity:
    """Parity of ``candidate`` outputs against ``reference`` ones (batch first, classes on
    dim 1)."""
    ref = torch.as_tensor(np.asarray(reference, dtype=np.float64))
    cand = torch.as_tensor(np.asarray(candidate, dtype=np.float64))
    if ref.shape != cand.shape:
        raise ValueError(f"outputs differ in shape: {tuple(ref.shape)} vs {tuple(cand.shape)}")
    diff = (ref - cand).abs().max().item()
    agree = (ref.argmax(1) == cand.argmax(1)).double().mean().item()
    return Parity(diff, diff / max(ref.abs().max().item(), 1e-30), agree)


def check_parity(trained: nn.Module, form: DeployForm, inputs: Tensor) -> Parity:
    """Parity of the deploy form against ``trained`` in eval mode (modes restored after)."""
    with probing(trained, []):
        reference = trained(inputs)
    return compare(reference, form(inputs))
