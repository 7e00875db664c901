"""Training-progress hook for schedules (ReCU τ, FDA's Fourier terms and noise weight)."""

from __future__ import annotations

from torch import nn


def set_progress(model: nn.Module, p: float) -> None:
    """Tell every submodule with a ``set_progress(p)`` method that a fraction p of training
    is done. Call once per optimisation step (works for epoch- and iteration-based runs);
    the root module itself is skipped so a wrapper may define ``set_progress`` that calls
    this function."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"progress must be in [0, 1], got {p}")
    for module in model.modules():
        if module is not model and callable(getattr(module, "set_progress", None)):
            module.set_progress(float(p))
