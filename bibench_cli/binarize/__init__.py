"""Binarized-operator library: one file per algorithm, a registry, and a converter.

report = binarize(model, "reactnet", example_input=x)   # in place
load_fp32_state_dict(model, fp32_state)                  # or load_state_dict(strict=True)
set_progress(model, step / total_steps)                  # every training step
"""

from __future__ import annotations

from .algorithm import Algorithm
from .base import BinaryLayer, BinaryModule
from .checkpoint import load_fp32_state_dict
from .converter import binarize, materialize
from .inference import InferenceNeeds
from .policy import BinarizePolicy
from .registry import (
    UnknownAlgorithmError,
    get_algorithm,
    list_algorithms,
    register_algorithm,
    unregister_algorithm,
)
from .report import BinarizeReport, LayerDecision
from .schedule import set_progress

__all__ = [
    "Algorithm",
    "BinarizePolicy",
    "BinarizeReport",
    "BinaryLayer",
    "BinaryModule",
    "InferenceNeeds",
    "LayerDecision",
    "UnknownAlgorithmError",
    "binarize",
    "get_algorithm",
    "list_algorithms",
    "load_fp32_state_dict",
    "materialize",
    "register_algorithm",
    "set_progress",
    "unregister_algorithm",
]
