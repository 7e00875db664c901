"""A model's parameters and FLOPs by precision, layer by layer (larq's ``summary`` beside the
layers): the counts behind the theoretical-complexity track (paper section 3.2 ⑤, eq. 7-8,
whose ratios live in ``tracks.complexity``).

One eval-mode, no-grad forward of a single example walks the model layer by layer and splits
what it finds into binary and floating point:

- parameters: the weight of a binarized layer (a :class:`BinaryModule`) is ``weight_bits``
  wide (1); its bias, the numbers its algorithm declares in ``extra_inference_params``
  (scales, thresholds, Γ) and every other parameter are 32-bit. Training-only parameters
  (``extra_training_params``, e.g. FDA's noise MLPs) are not counted. Buffers (batch-norm
  running statistics) are not parameters, so ResNet-18 has its published 11,689,512.
- FLOPs, counted as in the binarization literature (ResNet-18 = 1.81 G FLOPs), in
  multiply-accumulates: one MAC is one FLOP, and a lone multiply or add is one FLOP too.
  Conv/linear layers count torch's own formula (``torch.utils.flop_counter``, 2 FLOPs per
  MAC, halved): binary MACs in binarized layers, float MACs elsewhere. A batch-norm layer is
  a folded per-channel multiply-add at inference, a layer norm's affine a multiply-add too:
  one FLOP per output element; a PReLU's slope is one multiply per output element. An
  embedding is a lookup: parameters, no FLOPs. A binarized layer adds its algorithm's
  ``extra_inference_flops``; a PReLU that ``binarize`` put in place of a ReLU (binarized
  speech models) is such an addition too: its slope and multiplies count as extras, so the
  full-precision totals are those of the FP32 model. Parameter-free layers (activations,
  pooling) and functional ops (residual additions) are not counted: eq. 7 counts "the
  computation related to these parameters".
- matmuls between activations, as ``FlopCounterMode`` measures them in the module's own
  forward: float MACs in an :class:`ActivationMatmul` (softmax attention, PointNet's point
  transform), binary MACs in a binarized module without a weight (BiBERT's bi-attention, whose two
  matmuls are 1-bit). torch's counter knows the CUDA kernels of
  ``scaled_dot_product_attention``; the CPU one is registered here with the same formula, so
  a model counts alike on either device.
- any other module that holds parameters, or runs matmul/conv FLOPs that
  ``FlopCounterMode`` sees outside its children, is counted as floating point too, and named
  in one warning rather than dropped.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.conv import _ConvNd, _ConvTransposeNd
from torch.utils.flop_counter import (
    FlopCounterMode,
    conv_flop_count,
    flop_registry,
    register_flop_formula,
    sdpa_flop_count,
)

from .base import ActivationMatmul, BinaryModule
from .checkpoint import SWAPPED_ACTIVATION
from .probe import call_with, probing, to_device


def _cpu_attention_flops(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs):
    """FLOPs of the CPU kernel of ``scaled_dot_product_attention``: torch's CUDA formula."""
    return sdpa_flop_count(query_shape, key_shape, value_shape)


_CPU_ATTENTION = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu
if _CPU_ATTENTION not in flop_registry:
    register_flop_formula(_CPU_ATTENTION)(_cpu_attention_flops)

FLOAT_BITS = 32
MB = 2**20  # bytes, as torchvision and larq report model sizes
Shape = tuple[int, ...]


@dataclass(frozen=True)
class LayerCount:
    """One layer's counts for one example. ``params_float`` includes ``params_extra``."""

    name: str
    type: str
    weight_bits: int = FLOAT_BITS  # bits of ``params_binary`` (1 in a binarized layer)
    params_binary: int = 0
    params_float: int = 0
    params_extra: int = 0  # the algorithm's additions (scales, thresholds, Γ)
    macs_binary: int = 0
    macs_float: int = 0  # conv/linear MACs, batch-norm multiply-adds, unknown layers' MACs
    extra_flops: int = 0  # the algorithm's floating-point additions at inference
    known: bool = True  # False: a layer type the counter does not know, counted as float

    @property
    def precision(self) -> str:
        binary = self.params_binary or self.macs_binary
        text = f"{self.weight_bits}-bit" if binary else f"{FLOAT_BITS}-bit"
        return text if self.known else f"{text} (unknown type)"


@dataclass(frozen=True)
class Complexity:
    """Per-layer counts of one model and the totals and ratios of eq. 7."""

    layers: tuple[LayerCount, ...]

    def _total(self, name: str) -> int:
        return sum(getattr(layer, name) for layer in self.layers)

    @property
    def params_binary(self) -> int:
        return self._total("params_binary")

    @property
    def params_float(self) -> int:
        """|M̂|: the 32-bit parameters left, the algorithm's extras included."""
        return self._total("params_float")

    @property
    def params_extra(self) -> int:
        return self._total("params_extra")

    @property
    def params_fp32(self) -> int:
        """|M|: parameters of the same model at full precision (without the extras)."""
        return self.params_binary + self.params_float - self.params_extra

    @property
    def macs_binary(self) -> int:
        return self._total("macs_binary")

    @property
    def macs_float(self) -> int:
        return self._total("macs_float")

    @property
    def extra_flops(self) -> int:
        return self._total("extra_flops")

    @property
    def flops_float(self) -> int:
        """FLOPs_M̂: floating-point FLOPs left, the algorithm's extras included."""
        return self.macs_float + self.extra_flops

    @property
    def flops_fp32(self) -> int:
        """FLOPs_M: FLOPs of the same model at full precision."""
        return self.macs_binary + self.macs_float

    @property
    def bits_binary(self) -> int:
        """Storage of the binarized weights, packed at their ``weight_bits``."""
        return sum(layer.params_binary * layer.weight_bits for layer in self.layers)

    @property
    def size_mb_fp32(self) -> float:
        return self.params_fp32 * FLOAT_BITS / 8 / MB

    @property
    def size_mb_binarized(self) -> float:
        return (self.bits_binary + self.params_float * FLOAT_BITS) / 8 / MB

    def layer_dicts(self) -> list[dict]:
        return [{**asdict(layer), "precision": layer.precision} for layer in self.layers]


@dataclass
class _Calls:
    """What one module did during the counting forward (summed over its calls)."""

    shapes: list[tuple[Shape, Shape]] = field(default_factory=list)  # (input, output) per call
    own_flops: int = 0  # FlopCounterMode FLOPs in its own forward, outside hooked callees


def _units(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Every module but those inside a binarized layer (its extras are declared, not found)."""
    inside: set[nn.Module] = set()
    units = []
    for name, module in model.named_modules():
        if module in inside:
            continue
        if isinstance(module, BinaryModule):
            inside.update(m for m in module.modules() if m is not module)
        units.append((name, module))
    return units


def _trace(model: nn.Module, modules: list[nn.Module], example: Any) -> dict[nn.Module, _Calls]:
    """One eval-mode, no-grad forward of ``example`` recording shapes and FLOPs per module.

    Training modes are restored and nothing is stored on the model, so counting is safe
    mid-training.
    """
    calls = {module: _Calls() for module in modules}
    counter = FlopCounterMode(display=False)
    stack: list[list[int]] = []  # per open call: [global FLOPs at entry, FLOPs of callees]

    def enter(module: nn.Module, args: tuple) -> None:
        stack.append([counter.get_total_flops(), 0])

    def leave(module: nn.Module, args: tuple, output: object) -> None:
        start, callees = stack.pop()
        total = counter.get_total_flops() - start
        if stack:
            stack[-1][1] += total
        record = calls[module]
        record.own_flops += total - callees
        if args and isinstance(args[0], Tensor) and isinstance(output, Tensor):
            record.shapes.append((tuple(args[0].shape), tuple(output.shape)))

    handles = [m.register_forward_pre_hook(enter) for m in modules]
    handles += [m.register_forward_hook(leave) for m in modules]
    with probing(model, handles), counter:
        call_with(model, example)
    return calls


def _dense_macs(module: nn.Module, shapes: list[tuple[Shape, Shape]]) -> int:
    """MACs of a conv/linear layer's own op, from torch's FLOP formula (2 per MAC)."""
    if isinstance(module, nn.Linear):
        return sum(math.prod(out) * module.in_features for _, out in shapes)
    transposed = isinstance(module, _ConvTransposeNd)
    w_shape = list(module.weight.shape)
    return sum(conv_flop_count(list(x), w_shape, list(out), transposed) for x, out in shapes) // 2


def _own_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters(recurse=False))


def _binary_layer(name: str, module: BinaryModule, calls: _Calls) -> tuple[LayerCount, str]:
    """A binarized layer; the note names parameters its algorithm did not declare."""
    declared = module.extra_inference_params()
    known = {"weight", "bias", *declared, *module.extra_training_params()}
    undeclared = {
        key: p.numel() for key, p in module.named_parameters() if key.split(".")[0] not in known
    }
    extra = sum(declared.values()) + sum(undeclared.values())
    bias = module.bias.numel() if getattr(module, "bias", None) is not None else 0
    weight = getattr(module, "weight", None)  # None: a weightless module (bi-attention)
    is_dense = isinstance(module, (_ConvNd, nn.Linear))
    layer = LayerCount(
        name=name,
        type=type(module).__name__,
        weight_bits=module.weight_bits,
        params_binary=weight.numel() if weight is not None else 0,
        params_float=bias + extra,
        params_extra=extra,
        macs_binary=_dense_macs(module, calls.shapes) if is_dense else calls.own_flops // 2,
        extra_flops=sum(module.extra_inference_flops(x, out) for x, out in calls.shapes),
    )
    note = ""
    if undeclared:
        note = (
            f"{layer.type} '{name}' parameters {', '.join(undeclared)} "
            "(not declared by extra_inference_params/extra_training_params)"
        )
    return layer, note


def _layer(name: str, module: nn.Module, calls: _Calls) -> tuple[LayerCount | None, str]:
    """The counts of one module (None when it holds and computes nothing) and a warning
    note when its type is unknown to the counter."""
    if isinstance(module, BinaryModule):
        return _binary_layer(name, module, calls)
    kind = type(module).__name__
    params = _own_params(module)
    if isinstance(module, (_ConvNd, nn.Linear)):
        macs = _dense_macs(module, calls.shapes)
        return LayerCount(name, kind, params_float=params, macs_float=macs), ""
    if isinstance(module, (_BatchNorm, nn.PReLU)) or (isinstance(module, nn.LayerNorm) and params):
        flops = sum(math.prod(out) for _, out in calls.shapes)
        if getattr(module, SWAPPED_ACTIVATION, False):
            layer = LayerCount(name, kind, params_float=params, params_extra=params,
                               extra_flops=flops)  # fmt: skip
            return layer, ""
        return LayerCount(name, kind, params_float=params, macs_float=flops), ""
    if isinstance(module, nn.Embedding):
        return LayerCount(name, kind, params_float=params), ""
    macs = calls.own_flops // 2
    if isinstance(module, ActivationMatmul):
        return LayerCount(name, kind, params_float=params, macs_float=macs), ""
    if not params and not macs:
        return None, ""
    layer = LayerCount(name, kind, params_float=params, macs_float=macs, known=False)
    return layer, f"{kind} '{name or '(root)'}' ({params:,} params, {macs:,} MACs)"


def count_complexity(model: nn.Module, example: Any) -> Complexity:
    """Count ``model`` (FP32 or binarized) layer by layer on one ``example`` input (a
    batch of one: a tensor, a tuple of positional inputs or a dict of keyword inputs, moved
    to the model's device). Warns once naming unknown-type layers."""
    units = _units(model)
    device = next((p.device for p in model.parameters()), None)
    calls = _trace(model, [module for _, module in units], to_device(example, device))
    layers, notes = [], []
    for name, module in units:
        layer, note = _layer(name, module, calls[module])
        if layer is not None:
            layers.append(layer)
        if note:
            notes.append(note)
    if notes:
        warnings.warn(
            f"complexity: counted as 32-bit floating point: {'; '.join(notes)}", stacklevel=2
        )
    return Complexity(tuple(layers))
