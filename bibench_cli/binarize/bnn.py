"""BNN (Courbariaux et al., 2016): o = sign(a) ⊛ sign(w), clip-STE for both, no scaling."""

from __future__ import annotations

from torch import Tensor, nn

from .algorithm import Algorithm
from .base import BinaryLayer
from .estimators import sign_clip_ste
from .inference import InferenceNeeds


class _BNN(BinaryLayer):
    inference_needs = InferenceNeeds()

    def binarize_weight(self, w: Tensor) -> Tensor:
        return sign_clip_ste(w)

    def binarize_input(self, x: Tensor) -> Tensor:
        return sign_clip_ste(x)


class BNNConv1d(_BNN, nn.Conv1d):
    pass


class BNNConv2d(_BNN, nn.Conv2d):
    pass


class BNNLinear(_BNN, nn.Linear):
    pass


ALGORITHM = Algorithm(
    name="bnn",
    layers={nn.Conv1d: BNNConv1d, nn.Conv2d: BNNConv2d, nn.Linear: BNNLinear},
)
