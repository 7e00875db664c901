"""'halfsign': weights sign(w)/2 with clip-STE, activations left full precision.

Defined outside bibench_cli and loaded as "plugin_algo.halfsign:ALGORITHM".
"""

from __future__ import annotations

from torch import Tensor, nn

from bibench_cli.binarize import Algorithm, BinaryLayer
from bibench_cli.binarize.estimators import sign_clip_ste


class _HalfSign(BinaryLayer):
    def binarize_weight(self, w: Tensor) -> Tensor:
        return 0.5 * sign_clip_ste(w)


class HalfSignConv2d(_HalfSign, nn.Conv2d):
    pass


class HalfSignLinear(_HalfSign, nn.Linear):
    pass


ALGORITHM = Algorithm(
    name="halfsign",
    description="Test plug-in: sign(w)/2 weights, full-precision activations.",
    layers={nn.Conv2d: HalfSignConv2d, nn.Linear: HalfSignLinear},
)
