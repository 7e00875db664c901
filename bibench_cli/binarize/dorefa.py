"""DoReFa-Net (Zhou et al., 2016): o = (sign(a) ⊛ sign(w)) · mean|w|, clip-STE.

The scale is one statistic per layer, as in BiBench Table 6 and DoReFa's E(|w|); the
official BiBench code uses one per output channel.
"""

from __future__ import annotations

from torch import Tensor, nn

from .algorithm import Algorithm
from .base import BinaryLayer, Shape, numel
from .estimators import sign_clip_ste
from .inference import InferenceNeeds
from .scaling import layer_mean_abs


class _DoReFa(BinaryLayer):
    inference_needs = InferenceNeeds(weight_scale="layer")

    def binarize_weight(self, w: Tensor) -> Tensor:
        return sign_clip_ste(w) * layer_mean_abs(w)

    def binarize_input(self, x: Tensor) -> Tensor:
        return sign_clip_ste(x)

    def extra_inference_params(self) -> dict[str, int]:
        return {"alpha": 1}

    def extra_inference_flops(self, input_shape: Shape, output_shape: Shape) -> int:
        """One multiply per output element by the layer scale."""
        return numel(output_shape)


class DoReFaConv1d(_DoReFa, nn.Conv1d):
    pass


class DoReFaConv2d(_DoReFa, nn.Conv2d):
    pass


class DoReFaLinear(_DoReFa, nn.Linear):
    pass


ALGORITHM = Algorithm(
    name="dorefa",
    layers={nn.Conv1d: DoReFaConv1d, nn.Conv2d: DoReFaConv2d, nn.Linear: DoReFaLinear},
)
