"""Running a deploy form on OpenVINO's CPU plugin with real binary (xnor-popcount) kernels.

OpenVINO has no binarized-model importer, but its CPU plugin rewrites
``FakeQuantize(levels=2, outputs −1/+1) → Convolution(constant ±1 weights)`` into a
BinaryConvolution (1-bit packed weights and activations, xnor-popcount, zero padding
computed exactly). The deploy form is exported to ONNX with each binarizer emitted as an
``org.openvinotoolkit::FakeQuantize`` (read by OpenVINO's ONNX frontend) and each binary conv
keeping its own zero padding (``BinaryLayerInference.openvino_range``); everything else is
standard ONNX. Only 2-D convs with groups = 1 and a multiple of 8 input channels take that
form: OpenVINO leaves grouped ones as floating-point GroupConvolutions, and its
BinaryConvolution gives wrong outputs for other channel counts (measured for 1-7, 9-15,
17-19, 31, 33, 65; right for 8, 16, 24, 32, 40, 48). The others, and binarized Linear layers
(no binary FullyConnected), keep the standard form: floating-point ops on ±1 values, exact
but not faster. ``compile_binary`` checks in the compiled runtime graph that every eligible
conv really runs as a BinaryConvolution.

Both models are compiled for FP32 (``INFERENCE_PRECISION_HINT``): on CPUs with AMX or
AVX512-BF16 OpenVINO would otherwise run the full-precision baseline in bfloat16.
"""

from __future__ import annotations

import copy
import io
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

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
BINARY_CHANNEL_MULTIPLE = 8  # input channels per BinaryConvolution that it computes right


def compile_onnx(
    model_bytes: bytes, input_shape: tuple[int, ...], threads: int, profile: bool = False
) -> ov.CompiledModel:
    """ONNX bytes compiled for the CPU, static ``input_shape``, FP32, ``threads`` threads
    (``profile``: with per-node timers, for ``time_by_layer_type``)."""
    return compile_model(ov.convert_model(io.BytesIO(model_bytes)), input_shape, threads, profile)


def compile_model(
    model: ov.Model, input_shape: tuple[int, ...], threads: int = 1, profile: bool = False
) -> ov.CompiledModel:
    """An OpenVINO model (converted, or read from IR) compiled as ``compile_onnx`` says."""
    model.reshape(list(input_shape))
    config = {
        "INFERENCE_NUM_THREADS": threads,
        "INFERENCE_PRECISION_HINT": "f32",
        "PERFORMANCE_HINT": "LATENCY",
        "NUM_STREAMS": 1,
        "PERF_COUNT": profile,
    }
    return ov.Core().compile_model(model, "CPU", config)


def openvino_module(module: nn.Module) -> nn.Module:
    """A copy of a deploy-form module whose binary layers export in OpenVINO's pattern."""
    variant = copy.deepcopy(module)
    layers = [m for m in variant.modules() if isinstance(m, BinaryLayerInference)]
    eligible = [m for m in layers if _binary_convolution_capable(m)]
    for layer, half_range in zip(eligible, fake_quantize_ranges(len(eligible)), strict=True):
        layer.openvino_range = half_range
    return variant


def _binary_convolution_capable(layer: BinaryLayerInference) -> bool:
    """A 2-D conv that OpenVINO runs correctly as a BinaryConvolution (module docstring)."""
    return (
        layer.weight.dim() == 4
        and layer.conv_args["groups"] == 1
        and layer.weight.shape[1] % BINARY_CHANNEL_MULTIPLE == 0
    )


def compile_deployed(form: DeployForm, threads: int = 1, profile: bool = False) -> ov.CompiledModel:
    """The deploy form compiled by OpenVINO, its eligible binarized convs (module docstring)
    running as BinaryConvolution."""
    return compile_binary(form.module, form.input_shape, threads, profile)


def compile_binary(
    module: nn.Module, input_shape: tuple[int, ...], threads: int = 1, profile: bool = False
) -> ov.CompiledModel:
    """A deploy-form module (a whole model or one ``BinaryLayerInference``) compiled by
    OpenVINO; raises if an eligible binarized conv would not run as a BinaryConvolution."""
    model_bytes, expected = _openvino_onnx(module, input_shape)
    compiled = compile_onnx(model_bytes, input_shape, threads, profile)
    check_binary_kernels(compiled, expected)
    return compiled


def _openvino_onnx(module: nn.Module, input_shape: tuple[int, ...]) -> tuple[bytes, int]:
    """ONNX bytes of ``module`` in OpenVINO's binary pattern, and how many of its binarized
    convs must run as BinaryConvolution."""
    variant = openvino_module(module)
    model_bytes = onnx_bytes(variant, torch.zeros(input_shape), custom_opsets={OPENVINO_DOMAIN: 1})
    return model_bytes, binary_convolution_count(variant)


def binary_convolution_count(module: nn.Module) -> int:
    """How many binarized layers of ``module`` (a deploy form, or its OpenVINO variant)
    OpenVINO runs as BinaryConvolution."""
    return sum(
        isinstance(m, BinaryLayerInference) and _binary_convolution_capable(m)
        for m in module.modules()
    )


def check_binary_kernels(compiled: ov.CompiledModel, expected: int) -> int:
    """The number of BinaryConvolution nodes in the runtime graph; raises when fewer than
    ``expected`` (eligible binarized convs would silently run in floating point)."""
    found = len(binary_convolutions(compiled))
    if found < expected:
        raise DeployError(
            f"OpenVINO runs {found} of the {expected} eligible binarized convolutions as "
            f"{BINARY_CONVOLUTION}; the others would run in floating point"
        )
    return found


def save_deployed(form: DeployForm, path: str | Path) -> Path:
    """The deploy form as OpenVINO IR (``path``, an .xml, with its .bin beside it) in the
    binary pattern the CPU plugin compiles to BinaryConvolution; weights stay FP32 (the ±1
    values and BatchNorm are exact; OpenVINO's default FP16 compression is turned off)."""
    model_bytes, _ = _openvino_onnx(form.module, form.input_shape)
    ov.save_model(ov.convert_model(io.BytesIO(model_bytes)), str(path), compress_to_fp16=False)
    return Path(path)


def read_saved(path: str | Path) -> ov.Model:
    """An OpenVINO IR written by ``save_deployed`` (or any other)."""
    return ov.Core().read_model(str(path))


def device_name() -> str:
    """The CPU's model name, as OpenVINO reports the device it runs on."""
    return str(ov.Core().get_property("CPU", "FULL_DEVICE_NAME")).strip()


def compile_fp32(
    model: nn.Module, example_input: Tensor, threads: int = 1, profile: bool = False
) -> ov.CompiledModel:
    """A full-precision model compiled by OpenVINO for FP32 (the speed baseline)."""
    if any(isinstance(m, BinaryModule) for m in model.modules()):
        raise DeployError(
            f"compile_fp32 takes a full-precision model; this {type(model).__name__} has "
            "binarized layers (compile its deploy form with compile_deployed)"
        )
    model_bytes = onnx_bytes(copy.deepcopy(model).eval(), example_input)
    return compile_onnx(model_bytes, tuple(example_input.shape), threads, profile)


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


def node_times(
    compiled: ov.CompiledModel, inputs: Tensor, repeats: int = 20
) -> list[tuple[str, str, float]]:
    """(name, runtime layer type, median seconds) of each node that ran, in execution order,
    from a model compiled with ``profile=True``."""
    request = compiled.create_infer_request()
    request.set_input_tensor(ov.Tensor(np.ascontiguousarray(inputs.numpy())))
    samples: dict[tuple[str, str], list[float]] = defaultdict(list)
    for _ in range(repeats):
        request.infer()
        for info in request.get_profiling_info():
            samples[info.node_name, info.node_type].append(info.real_time.total_seconds())
    return [(name, kind, statistics.median(s)) for (name, kind), s in samples.items() if any(s)]


def time_by_layer_type(
    compiled: ov.CompiledModel, inputs: Tensor, repeats: int = 20
) -> dict[str, float]:
    """Seconds per inference by runtime layer type (BinaryConvolution, Convolution,
    FakeQuantize, ...): ``node_times`` summed."""
    totals: Counter[str] = Counter()
    for _, kind, seconds in node_times(compiled, inputs, repeats):
        totals[kind] += seconds
    return dict(totals)
