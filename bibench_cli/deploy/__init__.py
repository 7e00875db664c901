"""Deployment track (paper section 5.2.3): deploy forms of binarized models and their costs.

form = deploy_form(model, example_input)          # ±1 weights, scales folded into BN
check_parity(model, form, inputs)                 # max difference, top-1 agreement
deployability("reactnet")                         # Table 4 verdict from declared needs
storage(model, form)                              # FP32 vs 1-bit-packed size, MB

ONNX and OpenVINO live in their own modules (``onnx_export``, ``openvino_runtime``), imported
on demand since they need onnx/onnxruntime and openvino (``extra.require_for`` checks first).
"""

from __future__ import annotations

from .errors import DeployError
from .form import DeployForm, deploy_form
from .libraries import LIBRARIES, InferenceLibrary
from .parity import Parity, check_parity, compare
from .storage import Storage, storage, write_packed
from .timing import interleaved_medians
from .verdict import Verdict, deployability

__all__ = [
    "LIBRARIES",
    "DeployError",
    "DeployForm",
    "InferenceLibrary",
    "Parity",
    "Storage",
    "Verdict",
    "check_parity",
    "compare",
    "deploy_form",
    "deployability",
    "interleaved_medians",
    "storage",
    "write_packed",
]
