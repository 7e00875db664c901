"""ReCU (Xu et al., ICCV 2021): balanced, standardised, rectified-clamped weights.

Weights: per output channel w1 = (w - mean) / (std / (2√2)), clamped to ±Q_τ with
Q_τ = -mean|w1|·ln(2 - 2τ) (detached), then sign with identity STE. Activations: divided by
their per-sample std while training (sign is unchanged; only the gradient sees it), ApproxSign
backward max(0, 2 - 2|a|). Output scaled by a learned per-channel α ~ U[0, 1).
τ follows τ(p) = A·e^p + B with A = 0.14/(e - 1), B = 0.85 - A (0.85 → 0.99), updated by
``set_progress`` every step; it starts at τ(0) rather than the official 1.0 (no clamp), so a
model that never receives progress still clamps as in the first epoch. τ is re-derived from
progress, so it is not part of the state_dict.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .algorithm import Algorithm
from .base import BinaryLayer, Shape, numel
from .estimators import binary_sign, sign_approx, sign_approx_standardized
from .inference import InferenceNeeds

EPS = 1e-5


def recu_tau(p: float) -> float:
    """ReCU's τ schedule at training progress p ∈ [0, 1] (epoch e of E maps to p = e/E)."""
    a = 0.14 / (math.e - 1)
    return a * math.exp(p) + 0.85 - a


def unbiased_var(x: Tensor, dims: tuple[int, ...]) -> Tensor:
    """torch.var(x, dims, keepdim=True), two-pass: same value, ~10x faster on CPU for
    activations than aten::var's kernel."""
    centred = x - x.mean(dims, keepdim=True)
    count = math.prod(x.shape[d] for d in dims)
    return centred.square().sum(dims, keepdim=True) / (count - 1)


class _RectifiedWeight(torch.autograd.Function):
    """ReCU's weight path in one function: standardise each filter, clamp to ±Q_τ, sign with
    identity STE, times α.

    Forward (per output channel, n = fan-in, k = 2√2): w0 = w - mean(w), c = w0 - mean(w0),
    s = sqrt(Σc² / (n - 1) + eps), w1 = w0 / (s / k), Q_τ = -mean|w1|·ln(2 - 2τ) (whole
    layer, detached), out = sign(clamp(w1, ±Q_τ))·α. Backward, with G = ∂L/∂out:
    ∂α = Σ G·sign, ∂w1 = α·G where |w1| <= Q_τ (clamp's inclusive bounds), else 0,
    ∂w0 = ∂w1·k/s - (Σ ∂w1·w0)·k / (s³·(n - 1))·c, ∂w = ∂w0 - mean(∂w0). The same values
    as the autograd graph of these steps, without its ~30 small nodes per layer.
    """

    @staticmethod
    def forward(ctx, w: Tensor, alpha: Tensor, tau: float) -> Tensor:
        dims = tuple(range(1, w.dim()))
        w0 = w - w.mean(dims, keepdim=True)
        centred = w0 - w0.mean(dims, keepdim=True)
        count = math.prod(w.shape[1:])
        std = torch.sqrt(centred.square().sum(dims, keepdim=True) / (count - 1) + EPS)
        denom = std / (2 * math.sqrt(2))
        w1 = w0 / denom
        inside = None
        if tau < 1:
            q = (w1.abs().mean() * -math.log(2 - 2 * tau)).to(w1.dtype)
            inside = w1.abs() <= q
            w1 = torch.clamp(w1, -q, q)
        sign = binary_sign(w1)
        ctx.save_for_backward(w0, centred, std, denom, sign, alpha, inside)
        ctx.dims, ctx.count = dims, count
        return sign * alpha.view(-1, *[1] * len(dims))

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        w0, centred, std, denom, sign, alpha, inside = ctx.saved_tensors
        dims = ctx.dims
        grad_alpha = grad_w = None
        if ctx.needs_input_grad[1]:
            grad_alpha = torch.mul(grad, sign).sum(dims)
        if ctx.needs_input_grad[0]:
            g1 = grad * alpha.view(-1, *[1] * len(dims))
            if inside is not None:
                g1 = torch.where(inside, g1, 0.0)
            grad_denom = -(g1 * w0).sum(dims, keepdim=True) / denom.square()
            grad_var = grad_denom / (2 * math.sqrt(2)) / (2 * std)
            g0 = g1 / denom + grad_var * (2 / (ctx.count - 1)) * centred
            grad_w = g0 - g0.mean(dims, keepdim=True)
        return grad_w, grad_alpha, None


class _ReCU(BinaryLayer):
    # sign(clamp(w1, ±Q_τ)) = sign(w - mean(w)) per filter, times α: a channel-wise scale; the
    # per-sample activation standardisation only shapes the gradient (eval signs x itself)
    inference_needs = InferenceNeeds(weight_scale="channel")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.alpha = nn.Parameter(torch.rand(self.out_size, **self.factory_kwargs))
        self.set_progress(0.0)

    def set_progress(self, p: float) -> None:
        self.tau = recu_tau(p)

    def binarize_weight(self, w: Tensor) -> Tensor:
        return _RectifiedWeight.apply(w, self.alpha, self.tau)

    def binarize_input(self, x: Tensor) -> Tensor:
        if self.training:
            return sign_approx_standardized(x, self.sample_dims(x), EPS)
        return sign_approx(x)

    def extra_inference_params(self) -> dict[str, int]:
        return {"alpha": self.out_size}

    def extra_inference_flops(self, input_shape: Shape, output_shape: Shape) -> int:
        """One multiply per output element by α (weight balancing is folded offline)."""
        return numel(output_shape)


class ReCUConv1d(_ReCU, nn.Conv1d):
    pass


class ReCUConv2d(_ReCU, nn.Conv2d):
    pass


class ReCULinear(_ReCU, nn.Linear):
    pass


ALGORITHM = Algorithm(
    name="recu",
    layers={nn.Conv1d: ReCUConv1d, nn.Conv2d: ReCUConv2d, nn.Linear: ReCULinear},
)
