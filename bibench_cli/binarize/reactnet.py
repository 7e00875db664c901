"""ReActNet (Liu et al., 2020): RSign with a learnable per-input-channel threshold.

sign(x - t) with ApproxSign backward (∂/∂t = -∂/∂x, Eq. 22), t initialised to 0; weights
as Bi-Real. RPReLU and the duplicated activation are architecture features, excluded.
The threshold shifts the forward value in every variant (the official Linear applies it
to the gradient path only).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .algorithm import Algorithm
from .base import Shape, numel
from .bireal import ChannelScaledWeight
from .estimators import sign_approx_shifted
from .inference import InferenceNeeds


class _ReActNet(ChannelScaledWeight):
    inference_needs = InferenceNeeds(weight_scale="channel", activation_shift="threshold")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.threshold = nn.Parameter(torch.zeros(self.in_size, **self.factory_kwargs))

    def binarize_input(self, x: Tensor) -> Tensor:
        return sign_approx_shifted(x, self.channel_view(self.threshold))

    def extra_inference_params(self) -> dict[str, int]:
        return {**super().extra_inference_params(), "threshold": self.in_size}

    def extra_inference_flops(self, input_shape: Shape, output_shape: Shape) -> int:
        """Output scaling (one per output element) + threshold subtract (one per input)."""
        return numel(output_shape) + numel(input_shape)


class ReActNetConv1d(_ReActNet, nn.Conv1d):
    pass


class ReActNetConv2d(_ReActNet, nn.Conv2d):
    pass


class ReActNetLinear(_ReActNet, nn.Linear):
    pass


ALGORITHM = Algorithm(
    name="reactnet",
    layers={nn.Conv1d: ReActNetConv1d, nn.Conv2d: ReActNetConv2d, nn.Linear: ReActNetLinear},
)
