"""'learnedscale': sign weights and activations times a learned per-output-channel scale.

A plug-in that declares its own inference extras (the scale, and a multiply per output),
loaded as "plugin_algo.learned_scale:ALGORITHM", to test that complexity counting uses them.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from bibench_cli.binarize import Algorithm, BinaryLayer
from bibench_cli.binarize.base import Shape, numel
from bibench_cli.binarize.estimators import sign_clip_ste


class _LearnedScale(BinaryLayer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.scale = nn.Parameter(torch.ones(self.out_size, **self.factory_kwargs))

    def binarize_weight(self, w: Tensor) -> Tensor:
        return sign_clip_ste(w) * self.scale.view(-1, *[1] * (w.dim() - 1))

    def binarize_input(self, x: Tensor) -> Tensor:
        return sign_clip_ste(x)

    def extra_inference_params(self) -> dict[str, int]:
        return {"scale": self.out_size}

    def extra_inference_flops(self, input_shape: Shape, output_shape: Shape) -> int:
        return numel(output_shape)


class LearnedScaleConv2d(_LearnedScale, nn.Conv2d):
    pass


class LearnedScaleLinear(_LearnedScale, nn.Linear):
    pass


ALGORITHM = Algorithm(
    name="learnedscale",
    description="Test plug-in: sign weights and activations, learned per-channel scale.",
    layers={nn.Conv2d: LearnedScaleConv2d, nn.Linear: LearnedScaleLinear},
)
