"""A binarized conv/linear layer in deploy form: frozen ±1 weights and explicit FP32 parts.

    x → [+ input_bias] → sign → [Pad(−1)] → conv(±1, no padding) → [+ pad_correction]
      → [rescale(out, x)] → [· scale] → [+ bias]

- The weights are the layer's own eval-mode binarized weights split into ±1 (sign with
  0 → +1) times a non-negative magnitude per output channel; a layer whose binarized weights
  are not ±s within each output channel cannot be expressed and is refused.
- ``input_bias`` is −(ReActNet's threshold): the mean-shift Add before the sign.
- ``scale`` (one per output channel; None when all are 1) and ``bias`` are what the deploy
  form folds into the following BatchNorm, or keeps here as a Mul and an Add.
- ``rescale`` is the layer's own ``scale_output`` (XNOR's input-dependent K, XNOR++'s Γ),
  kept so that non-deployable algorithms still export, for correctness only.

Padding. A binary runtime has no third value, but the trained layer pads its ±1 input with
zeros. The standard form pads with −1 (what daBNN expects) and adds the exact correction
conv(M, W) where M is 1 on the padded border and 0 inside (zero-padded input = −1-padded
input + M, and conv is linear): an integer-valued constant map of shape (C_out, H_out, W_out),
nonzero only at border outputs, derived from the weights (runtimes can rebuild it at load
time). Dropping it, as daBNN would (right for models trained with −1 padding), changes the
border outputs of a zero-padding-trained model: for a ResNet-20 after 20 training steps on
32×32 inputs, top-1 agreement with the trained model fell to 55% (BNN) and 36% (ReActNet).
``openvino_range`` (set: export for OpenVINO, the binarizer a FakeQuantize of that
half-range, see ``binary_input``) instead keeps the conv's own zero padding: OpenVINO's
BinaryConvolution computes zero padding exactly, and the Pad + Add would cost ~40% more on
a 256×14×14 layer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bibench_cli.binarize import BinaryLayer
from bibench_cli.binarize.estimators import binary_sign

from .binary_input import binarize, pad_minus_one
from .errors import DeployError

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


class BinaryLayerInference(nn.Module):
    """One binarized layer's eval forward with ±1 weights (see the module docstring)."""

    def __init__(
        self,
        weight: Tensor,
        *,
        conv_args: dict | None,
        pads: tuple[int, ...],
        pad_correction: Tensor | None,
        input_bias: Tensor | None,
        scale: Tensor | None,
        bias: Tensor | None,
        rescale: Callable[[Tensor, Tensor], Tensor] | None,
    ) -> None:
        super().__init__()
        self.register_buffer("weight", weight)
        self.register_buffer("pad_correction", pad_correction)
        self.register_buffer("input_bias", input_bias)
        self.register_buffer("scale", scale)
        self.register_buffer("bias", bias)
        self.conv_args = conv_args  # stride, padding, dilation, groups; None for a linear layer
        self.pads = pads
        self.rescale = rescale
        self.openvino_range: float | None = None

    @classmethod
    def from_layer(
        cls, layer: nn.Module, input_shape: Sequence[int], name: str
    ) -> BinaryLayerInference:
        """The deploy form of binarized ``layer`` (eval mode) for inputs of ``input_shape``."""
        if not isinstance(layer, BinaryLayer):
            raise DeployError(
                f"binarized layer '{name}' ({type(layer).__name__}) is not a BinaryLayer: "
                "the deploy form reads its binarize_weight and scale_output"
            )
        with torch.no_grad():
            sign, magnitude = _split_weight(layer.binarize_weight(layer.weight), name)
            channel = (-1, *[1] * (sign.dim() - 2))  # broadcast on the channel dim
            shift = layer.inference_needs.activation_shift
            conv_args, pads, correction = None, (), None
            if sign.dim() > 2:
                conv_args, pads = _conv_geometry(layer, name)
                correction = _pad_correction(sign, conv_args, pads, input_shape) if pads else None
            return cls(
                sign,
                conv_args=conv_args,
                pads=pads,
                pad_correction=correction,
                input_bias=None if shift is None else -getattr(layer, shift).view(channel),
                scale=None if bool((magnitude == 1).all()) else magnitude.view(channel),
                bias=None if layer.bias is None else layer.bias.view(channel).clone(),
                rescale=layer.scale_output if layer.scales_output else None,
            )

    def forward(self, x: Tensor) -> Tensor:
        shifted = x if self.input_bias is None else x + self.input_bias
        if self.openvino_range is not None:
            binary = binarize(shifted, fake_quantize_range=self.openvino_range)
            out = self._op(binary, self.conv_args)
        else:
            binary = binarize(shifted)
            if self.pads:
                binary = pad_minus_one(binary, self.pads)
            out = self._op(binary, self.conv_args, padding=0)
            if self.pad_correction is not None:
                out = out + self.pad_correction
        if self.rescale is not None:
            out = self.rescale(out, x)
        if self.scale is not None:
            out = out * self.scale
        if self.bias is not None:
            out = out + self.bias
        return out

    def _op(self, x: Tensor, conv_args: dict | None, **override) -> Tensor:
        if conv_args is None:
            return F.linear(x, self.weight)
        return _CONV[self.weight.dim() - 2](x, self.weight, None, **{**conv_args, **override})


def _split_weight(binarized: Tensor, name: str) -> tuple[Tensor, Tensor]:
    """±1 signs (0 → +1) and the per-output-channel magnitude of ``binarized`` weights."""
    magnitude = binarized.abs().flatten(1).amax(1)
    expanded = magnitude.view(-1, *[1] * (binarized.dim() - 1)).expand_as(binarized)
    if not torch.equal(binarized.abs(), expanded):
        raise DeployError(
            f"binarized layer '{name}': its eval-mode weights are not ±s within each output "
            "channel, so they cannot be frozen to ±1 with a channel scale"
        )
    return binary_sign(binarized), magnitude


def _conv_geometry(layer: nn.Module, name: str) -> tuple[dict, tuple[int, ...]]:
    """The conv's stride/padding/dilation/groups, and its padding as F.pad amounts (empty
    when it does not pad)."""
    if layer.padding_mode != "zeros":
        raise DeployError(
            f"binarized layer '{name}' pads with '{layer.padding_mode}'; the deploy form "
            "supports zero padding only"
        )
    names = ("stride", "padding", "dilation", "groups")
    pads = tuple(layer._reversed_padding_repeated_twice)
    return {n: getattr(layer, n) for n in names}, pads if any(pads) else ()


def _pad_correction(
    sign: Tensor, conv_args: dict, pads: tuple[int, ...], input_shape: Sequence[int]
) -> Tensor:
    """conv(M, W): what zero padding adds over −1 padding (M = 1 on the padded border)."""
    inside = torch.zeros(1, *input_shape[-(sign.dim() - 1) :], dtype=sign.dtype)
    border = F.pad(inside, pads, value=1.0)
    return _CONV[sign.dim() - 2](border, sign, None, **{**conv_args, "padding": 0})
