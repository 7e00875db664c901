"""The full-precision baseline: binarizes nothing and keeps ReLU."""

from __future__ import annotations

from .algorithm import Algorithm

ALGORITHM = Algorithm(
    name="fp32",
    replace_activations=False,
)
