"""XNOR-Net++ (Bulat et al., 2019): o = (sign(a) ⊛ sign(w)) ⊙ Γ, Γ = α ⊗ β ⊗ γ, clip-STE.

α (C_out), β (H_out) and γ (W_out) are learned and initialised to 1 (Conv1d: α ⊗ β over
the length; Linear: α only). β and γ are sized from the layer's real output shape by an
explicit shape-inference step (``materialize``), not the official 2000-long vectors that
are sliced at every forward.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .algorithm import Algorithm
from .base import BinaryLayer, Shape, numel
from .estimators import sign_clip_ste
from .inference import InferenceNeeds

_SPATIAL_NAMES = ("beta", "gamma")


class _XNORPlusPlus(BinaryLayer):
    scales_output = True
    inference_needs = InferenceNeeds(weight_scale="spatial")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.alpha = nn.Parameter(torch.ones(self.out_size, **self.factory_kwargs))
        for name in self._spatial_names:
            self.register_parameter(name, None)

    @property
    def _spatial_names(self) -> tuple[str, ...]:
        return _SPATIAL_NAMES[: self.spatial_dims]

    @property
    def shapes_pending(self) -> bool:
        """True until β, γ have been sized by ``materialize`` or a checkpoint."""
        return any(getattr(self, name) is None for name in self._spatial_names)

    def infer_shapes(self, x: Tensor) -> None:
        """Create β, γ (ones) from the output size this input gives; check it if present."""
        if not self._spatial_names:
            return
        with torch.no_grad():
            sizes = self.op(x, self.weight, None).shape[-self.spatial_dims :]
        for name, size in zip(self._spatial_names, sizes, strict=True):
            param = getattr(self, name)
            if param is None:
                setattr(self, name, nn.Parameter(torch.ones(size, **self.factory_kwargs)))
            elif param.numel() != size:
                raise ValueError(
                    f"XNOR++ {name} was sized for {param.numel()} outputs, this input gives {size}"
                )

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        # A binarized checkpoint carries β, γ: size them from it before loading.
        for name in self._spatial_names:
            if getattr(self, name) is None and prefix + name in state_dict:
                size = state_dict[prefix + name].shape
                setattr(self, name, nn.Parameter(torch.ones(size, **self.factory_kwargs)))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def binarize_weight(self, w: Tensor) -> Tensor:
        return sign_clip_ste(w)

    def binarize_input(self, x: Tensor) -> Tensor:
        return sign_clip_ste(x)

    def scale_output(self, out: Tensor, x: Tensor) -> Tensor:
        if self.shapes_pending:
            raise RuntimeError(
                f"{type(self).__name__} has no output-size factors yet: call "
                "binarize(..., example_input=x) or materialize(model, x) before the first forward"
            )
        factors = [getattr(self, name) for name in self._spatial_names]
        sizes = tuple(f.numel() for f in factors)
        if tuple(out.shape[out.dim() - len(sizes) :]) != sizes:
            raise RuntimeError(
                f"{type(self).__name__} Γ was sized for output {sizes}, got "
                f"{tuple(out.shape)}: materialize with an input of the training size"
            )
        gamma = self.alpha
        for f in factors:
            gamma = gamma.unsqueeze(-1) * f
        return out * gamma

    def extra_inference_params(self) -> dict[str, int]:
        names = ("alpha", *self._spatial_names)
        return {n: getattr(self, n).numel() for n in names if getattr(self, n) is not None}

    def extra_inference_flops(self, input_shape: Shape, output_shape: Shape) -> int:
        """One multiply per output element by Γ (precomputed once from α, β, γ)."""
        return numel(output_shape)


class XNORPlusPlusConv1d(_XNORPlusPlus, nn.Conv1d):
    pass


class XNORPlusPlusConv2d(_XNORPlusPlus, nn.Conv2d):
    pass


class XNORPlusPlusLinear(_XNORPlusPlus, nn.Linear):
    pass


ALGORITHM = Algorithm(
    name="xnorpp",
    layers={
        nn.Conv1d: XNORPlusPlusConv1d,
        nn.Conv2d: XNORPlusPlusConv2d,
        nn.Linear: XNORPlusPlusLinear,
    },
)
