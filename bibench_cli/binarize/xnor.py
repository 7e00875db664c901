"""XNOR-Net (Rastegari et al., 2016): o = (sign(a) ⊛ sign(w)) ⊙ Kα, clip-STE.

Follows XNOR-Net rather than the official BiBench code: K is the paper's spatial map
(channel mean of |a| box-filtered over each k×k window with the layer's stride, padding
and dilation), not one mean|a| per sample; the Linear variant uses β = mean|a| per row
and does not mean-centre weight rows. α = per-output-channel mean|w|; α and K detached.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .algorithm import Algorithm
from .base import Shape, numel
from .bireal import ChannelScaledWeight
from .estimators import sign_clip_ste
from .inference import InferenceNeeds


class _XNOR(ChannelScaledWeight):
    scales_output = True
    inference_needs = InferenceNeeds(weight_scale="channel", activation_rescaling=True)

    def binarize_input(self, x: Tensor) -> Tensor:
        return sign_clip_ste(x)

    def scale_output(self, out: Tensor, x: Tensor) -> Tensor:
        # In place: ``out`` is the op's fresh result, which its backward does not save, and
        # K is detached, so autograd needs neither's old values (one tensor fewer per call).
        return out.mul_(self.activation_scale(x.detach()))

    def activation_scale(self, x: Tensor) -> Tensor:
        """K: mean |a| over each output's receptive field (per group for grouped convs)."""
        if self.spatial_dims == 0:
            return x.abs().mean(-1, keepdim=True)
        d, g = self.spatial_dims, self.groups
        mean_abs = x.abs().unflatten(-d - 1, (g, -1)).mean(-d - 1)  # (..., g, *spatial)
        box = torch.full(
            (g, 1, *self.kernel_size), 1 / math.prod(self.kernel_size), **self.factory_kwargs
        )
        padding = self.padding
        if self.padding_mode != "zeros":
            mean_abs = F.pad(mean_abs, self._reversed_padding_repeated_twice, self.padding_mode)
            padding = 0
        conv = F.conv1d if d == 1 else F.conv2d
        k = conv(mean_abs, box, None, self.stride, padding, self.dilation, g)
        return k if g == 1 else k.repeat_interleave(self.out_size // g, dim=-d - 1)

    def extra_inference_flops(self, input_shape: Shape, output_shape: Shape) -> int:
        """Channel mean of |a| (one per input element), the k-window box filter (one per
        output position, group and kernel tap) and two multiplies per output element (K
        then α)."""
        if self.spatial_dims == 0:
            return numel(input_shape) + 2 * numel(output_shape)
        positions = numel(output_shape) // self.out_size
        box = positions * self.groups * math.prod(self.kernel_size)
        return numel(input_shape) + box + 2 * numel(output_shape)


class XNORConv1d(_XNOR, nn.Conv1d):
    pass


class XNORConv2d(_XNOR, nn.Conv2d):
    pass


class XNORLinear(_XNOR, nn.Linear):
    pass


ALGORITHM = Algorithm(
    name="xnor",
    layers={nn.Conv1d: XNORConv1d, nn.Conv2d: XNORConv2d, nn.Linear: XNORLinear},
)
