"""The mixins every binarized layer inherits.

``BinaryModule`` is the contract with the rest of bibench (complexity counting, checkpoint
loading); ``BinaryLayer`` is the shared forward template that the built-in algorithms fill
in with their weight binarizer, input binarizer and optional output scaling.
``ActivationMatmul`` marks the full-precision counterpart of a weightless binarized module
(an attention core) for complexity counting.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

import torch.nn.functional as F
from torch import Tensor, nn

from .inference import InferenceNeeds

Shape = Sequence[int]


class BinaryModule:
    """Contract of a binarized layer (mix in before the torch layer class).

    Defaults describe a plain binary layer: 1-bit weights, no extra numbers, no extra
    FLOPs. Algorithms (and users' plug-ins) override what they add.
    """

    #: bits per weight at inference (the weight is stored 1-bit)
    weight_bits: ClassVar[int] = 1
    #: what inference needs beyond sign(x) ⊛ sign(w) (Table 4); None: undeclared, so unknown
    inference_needs: ClassVar[InferenceNeeds | None] = None

    def extra_inference_params(self) -> dict[str, int]:
        """Name -> count of 32-bit numbers needed at inference beyond weight and bias."""
        return {}

    def extra_training_params(self) -> dict[str, int]:
        """Name -> count of parameters used only while training (dropped at export)."""
        return {}

    def extra_inference_flops(self, input_shape: Shape, output_shape: Shape) -> int:
        """Floating-point ops added at inference for one forward of these shapes."""
        return 0

    def extra_state_keys(self) -> list[str]:
        """Local state_dict keys a full-precision layer of the same type does not have."""
        return [k for k in self.state_dict() if k not in ("weight", "bias")]

    @classmethod
    def from_float(cls, module: nn.Module) -> nn.Module:
        """Build this layer with ``module``'s hyper-parameters, weight and bias."""
        if isinstance(module, nn.Linear):
            kwargs = {"in_features": module.in_features, "out_features": module.out_features}
        else:
            names = (
                "in_channels",
                "out_channels",
                "kernel_size",
                "stride",
                "padding",
                "dilation",
                "groups",
                "padding_mode",
            )
            kwargs = {name: getattr(module, name) for name in names}
        new = cls(**kwargs, bias=module.bias is not None)
        new.to(device=module.weight.device, dtype=module.weight.dtype)
        new.load_state_dict(module.state_dict(), strict=False)
        for name in ("weight", "bias"):
            if getattr(module, name) is not None:
                getattr(new, name).requires_grad_(getattr(module, name).requires_grad)
        return new.train(module.training)


class ActivationMatmul:
    """Mixin of a full-precision module whose own matmuls multiply activations by activations
    (a softmax attention core): complexity counting takes them as floating-point MACs.

    A binarized replacement of such a module is a weightless :class:`BinaryModule`, whose
    matmuls count as binary.
    """


def numel(shape: Shape) -> int:
    """Number of elements of a tensor of this shape."""
    return math.prod(shape)


class BinaryLayer(BinaryModule):
    """Forward template: op(binarize_input(x), binarize_weight(w)) [· scale] + bias.

    ``op`` is the layer's own F.linear / F.conv (groups, dilation, padding mode included).
    Per-output-channel weight scales are folded into the weight (same result as scaling
    the output, fewer multiplies while training); algorithms whose scale varies over the
    output (XNOR's K, XNOR++'s Γ) set ``scales_output`` and implement ``scale_output``.
    """

    scales_output: ClassVar[bool] = False

    def binarize_weight(self, w: Tensor) -> Tensor:
        return w

    def binarize_input(self, x: Tensor) -> Tensor:
        return x

    def scale_output(self, out: Tensor, x: Tensor) -> Tensor:
        return out

    def forward(self, x: Tensor) -> Tensor:
        xb = self.binarize_input(x)
        wb = self.binarize_weight(self.weight)
        if not self.scales_output:
            return self.op(xb, wb, self.bias)
        out = self.scale_output(self.op(xb, wb, None), x)
        return out if self.bias is None else out + self.channel_view(self.bias)

    def op(self, x: Tensor, w: Tensor, bias: Tensor | None) -> Tensor:
        if isinstance(self, nn.Linear):
            return F.linear(x, w, bias)
        return self._conv_forward(x, w, bias)

    @property
    def spatial_dims(self) -> int:
        """0 for Linear, 1 for Conv1d, 2 for Conv2d."""
        return self.weight.dim() - 2

    @property
    def in_size(self) -> int:
        """Input channels (conv) or features (linear)."""
        return self.weight.shape[1] * getattr(self, "groups", 1)

    @property
    def out_size(self) -> int:
        return self.weight.shape[0]

    @property
    def factory_kwargs(self) -> dict:
        """device/dtype for extra parameters, matching the weight."""
        return {"device": self.weight.device, "dtype": self.weight.dtype}

    def channel_view(self, v: Tensor) -> Tensor:
        """Reshape a per-channel vector to broadcast on the channel dim of inputs/outputs."""
        return v.view(-1, *([1] * self.spatial_dims))

    def sample_dims(self, x: Tensor) -> tuple[int, ...]:
        """All dims of ``x`` but the batch dim (all dims for an unbatched input)."""
        batched = x.dim() == self.weight.dim() if self.spatial_dims else x.dim() > 1
        return tuple(range(1 if batched else 0, x.dim()))
