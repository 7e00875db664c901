"""Bi-Real Net (Liu et al., 2018): per-channel mean|w| scale, ApproxSign for activations.

The Bi-Real shortcut is an architecture feature and is excluded (paper section 2.1).
"""

from __future__ import annotations

from torch import Tensor, nn

from .algorithm import Algorithm
from .base import BinaryLayer, Shape, numel
from .estimators import sign_approx, sign_clip_ste
from .inference import InferenceNeeds
from .scaling import channel_mean_abs


class ChannelScaledWeight(BinaryLayer):
    """Weights: sign with clip-STE times the per-output-channel mean|w| (detached)."""

    def binarize_weight(self, w: Tensor) -> Tensor:
        return sign_clip_ste(w) * channel_mean_abs(w)

    def extra_inference_params(self) -> dict[str, int]:
        return {"alpha": self.out_size}

    def extra_inference_flops(self, input_shape: Shape, output_shape: Shape) -> int:
        """One multiply per output element by its channel's α."""
        return numel(output_shape)


class _BiReal(ChannelScaledWeight):
    inference_needs = InferenceNeeds(weight_scale="channel")

    def binarize_input(self, x: Tensor) -> Tensor:
        return sign_approx(x)


class BiRealConv1d(_BiReal, nn.Conv1d):
    pass


class BiRealConv2d(_BiReal, nn.Conv2d):
    pass


class BiRealLinear(_BiReal, nn.Linear):
    pass


ALGORITHM = Algorithm(
    name="bireal",
    layers={nn.Conv1d: BiRealConv1d, nn.Conv2d: BiRealConv2d, nn.Linear: BiRealLinear},
)
