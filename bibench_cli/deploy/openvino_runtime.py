"""Running a deploy form on OpenVINO's CPU plugin with real binary (xnor-popcount) kernels.

OpenVINO has no binarized-model importer, but its CPU plugin rewrites
``FakeQuantize(levels=2, outputs −1/+1) → Convolution(constant ±1 weights)`` into a
BinaryConvolution (1-bit packed weights and activations, xnor-popcount, zero padding
computed exactly). The deploy form is exported to ONNX with each binarizer emitted as an
``org.openvinotoolkit::FakeQuantize`` (read by OpenVINO's ONNX frontend) and each binary conv
keeping its own zero padding (``BinaryLayerInference.openvino_range``); everything else is
standard ONNX. ``compile_deployed`` checks in the compiled runtime graph that every
binarized 2-D conv really runs as a BinaryConvolution. Binarized Linear layers stay
floating-point matrix products with ±1 weights (OpenVINO has no binary FullyConnected).

Both models are compiled for FP32 (``INFERENCE_PRECISION_HINT``): on CPUs with AMX or
AVX512-BF16 OpenVINO would otherwise run the full-precision baseline in bfloat16.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Callable

import numpy as np
import openvino as ov
import torch
from torch import Tensor, nn

from bibench_cli.binarize import BinaryModule

from .binary_input import OPENVINO_DOMAIN, fake_quantize_ranges
from .binary_layer import BinaryLayerInference
from .errors import DeployError
from .form import DeployForm
from .onnx_export import onnx_bytes

BINARY_CONVOLUTION = "BinaryConvolution"


def compile_onnx(
    model_bytes: bytes, input_shape: tuple[int, ...], threads: int
) -> ov.CompiledModel:
    """ONNX bytes compiled for the CPU, static ``input_shape``, FP32, ``threads`` threads."""
    model = ov.convert_model(io.BytesIO(model_bytes))
    model.reshape(list(input_shape))
    config = {
        "INFERENCE_NUM_THREADS": threads,
        "INFERENCE_PRECISION_HINT": "f32",
        "PERFORMANCE_HINT": "LATENCY",
        "NUM_STREAMS": 1,
    }
    return ov.Core().compile_model(model, "CPU", config)


def openvino_module(module: nn.Module) -> nn.Module:
    """A copy of a deploy-form module whose binary layers export in OpenVINO's pattern."""
    variant = copy.deepcopy(module)
    layers = [m for m in variant.modules() if isinstance(m, BinaryLayerInference)]
    for layer, half_range in zip(layers, fake_quantize_ranges(len(layers)), strict=True):
        layer.openvino_range = half_range
    return variant


def compile_deployed(
    form: DeployForm, threads: int = 1, input_shape: tuple[int, ...] | None = None
) -> ov.CompiledModel:
    """The deploy form compiled by OpenVINO, every binarized 2-D conv a BinaryConvolution."""
    shape = input_shape or form.input_shape
    module = openvino_module(form.module)
    model_bytes = onnx_bytes(module, torch.zeros(shape), custom_opsets={OPENVINO_DOMAIN: 1})
    compiled = compile_onnx(model_bytes, shape, threads)
    expected = sum(
        isinstance(m, BinaryLayerInference) and m.weight.dim() == 4 for m in module.modules()
    )
    found = len(binary_convolutions(compiled))
    if found < expected:
        raise DeployError(
            f"OpenVINO runs {found} of the {expected} binarized convolutions as "
            f"{BINARY_CONVOLUTION}; the others would run in floating point"
        )
    return compiled


def compile_fp32(model: nn.Module, example_input: Tensor, threads: int = 1) -> ov.CompiledModel:
    """A full-precision model compiled by OpenVINO for FP32 (the speed baseline)."""
    if any(isinstance(m, BinaryModule) for m in model.modules()):
        raise DeployError(
            f"compile_fp32 takes a full-precision model; this {type(model).__name__} has "
            "binarized layers (compile its deploy form with compile_deployed)"
        )
    model_bytes = onnx_bytes(copy.deepcopy(model).eval(), example_input)
    return compile_onnx(model_bytes, tuple(example_input.shape), threads)


def binary_convolutions(compiled: ov.CompiledModel) -> list[str]:
    """Names of the runtime graph's nodes that execute as xnor-popcount BinaryConvolution."""
    return [
        op.get_friendly_name()
        for op in compiled.get_runtime_model().get_ordered_ops()
        if op.get_rt_info()["layerType"].astype(str) == BINARY_CONVOLUTION
    ]


def openvino_runner(compiled: ov.CompiledModel, inputs: Tensor) -> Callable[[], object]:
    """A no-argument call running one inference on ``inputs`` (set once), for timing."""
    request = compiled.create_infer_request()
    request.set_input_tensor(ov.Tensor(np.ascontiguousarray(inputs.numpy())))
    return request.infer


def run_openvino(compiled: ov.CompiledModel, inputs: Tensor) -> np.ndarray:
    """Outputs of ``compiled`` on ``inputs`` (its compiled input shape)."""
    return compiled.create_infer_request().infer({0: inputs.numpy()})[0]
