"""FDA (Xu et al., NeurIPS 2021): sign forward, Fourier-series backward, noise adaptation.

Backward replaces sign' by (4ω/π)·Σ_{i=0..n} cos((2i+1)ωx) on |x| <= 1 (ω = 0.1), with
n(p) = 9 + ⌊9p⌋. While training, a noise-adaptation term λ·(MLP(x) + 0.1·sin x) is added to
the binarized weights (MLP per output filter, d → d/64 → d) and activations (MLP across
channels at each position), λ(p) = 0.05·(1 + cos πp) → 0 at the end of training; it is off
in eval() so an evaluated model is truly binary. Weights are then scaled by the detached
per-channel mean|w|. Fixes of the official code: the activation MLP exists from construction
(so it is trained and checkpointed), hidden widths are at least 1, and schedules follow
per-step progress. Table 6 / Eq. 30 mention an activation shift (rsign); neither FDA's paper
nor its code learns one, so activations use plain sign.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .algorithm import Algorithm
from .base import BinaryLayer, Shape, numel
from .estimators import binary_sign, fourier_ratio, sign_fourier
from .inference import InferenceNeeds
from .scaling import channel_mean_abs

OMEGA = 0.1


def fda_terms(p: float) -> int:
    """Index n of the last Fourier term at progress p (epoch e of E maps to p = e/E)."""
    return 9 + math.floor(9 * p)


def fda_noise_weight(p: float) -> float:
    """λ at progress p: 0.05·(1 + cos πp), the official 0.05·(1 + cos(π(e+1)/E)) per step."""
    return 0.05 * (1 + math.cos(math.pi * p))


class NoiseAdaptation(nn.Module):
    """FDA's residual estimator: bias-free d → max(1, d/64) → d MLP with ReLU, + 0.1·sin x."""

    def __init__(self, d: int, reduction: int = 64, **factory) -> None:
        super().__init__()
        hidden = max(1, d // reduction)
        self.fc1 = nn.Linear(d, hidden, bias=False, **factory)
        self.fc2 = nn.Linear(hidden, d, bias=False, **factory)

    def forward(self, x: Tensor) -> Tensor:
        """Apply over the last dim of ``x``."""
        return self.fc2(F.relu(self.fc1(x))).add_(torch.sin(x), alpha=0.1)


class _NoisyFourierSign(torch.autograd.Function):
    """FDA's training-time activation in one function, channels kept where they are:

        out = sign(x) + λ·(W2·relu(W1·x) + 0.1·sin x)     (W1, W2 act across channels)

    Forward and backward are those of ``sign_fourier(x)`` plus ``λ·NoiseAdaptation`` applied
    over the channel dim: ∂x = Fourier'(x)·g + 0.1λ·cos(x)·g + λ·W1ᵀ(relu'·W2ᵀg),
    ∂W2 = λ·Σ g·relu(W1x)ᵀ, ∂W1 = λ·Σ (relu'·W2ᵀg)·xᵀ. The MLP runs as bmm on a (B, C, S)
    view (no transposed copies of the activation); the autograd graph of the
    module form (permutes, several full-size adds and scalings) is replaced by closed forms.
    """

    @staticmethod
    def forward(ctx, x, w1, w2, n, omega, lam, channel_last):
        xv = _bcs(x, channel_last)
        batch = xv.shape[0]
        r = torch.bmm(w1.expand(batch, *w1.shape), xv).relu_()  # (B, k, S), k = hidden
        # noise / λ = 0.1·sin x + W2·r: the MLP product accumulates onto 0.1·sin x in place
        noise = _bcs(torch.sin(x), channel_last)
        noise.baddbmm_(w2.expand(batch, *w2.shape), r, beta=0.1)
        out = binary_sign(x).add_(_from_bcs(noise, x, channel_last), alpha=lam)
        ctx.save_for_backward(x, w1, w2, r)
        ctx.n, ctx.omega, ctx.lam, ctx.channel_last = n, omega, lam, channel_last
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w1, w2, r = ctx.saved_tensors
        lam, channel_last = ctx.lam, ctx.channel_last
        gv = _bcs(grad, channel_last)
        batch = gv.shape[0]
        grad_r = torch.bmm(w2.t().expand(batch, -1, -1), gv).mul_(lam)  # ∂/∂relu(h)
        grad_h = torch.ops.aten.threshold_backward(grad_r, r, 0)
        grad_w1 = grad_w2 = None
        if ctx.needs_input_grad[1]:
            grad_w1 = torch.bmm(grad_h, _bcs(x, channel_last).mT).sum(0)
        if ctx.needs_input_grad[2]:  # (r·gᵀ)ᵀ: a (k × S)(S × C) product, ~3x faster than g·rᵀ
            grad_w2 = torch.bmm(r, gv.mT).sum(0).t().mul_(lam)
        grad_x = None
        if ctx.needs_input_grad[0]:
            # ∂x = c·(F + (0.1λ/c)·cos x)·g + W1ᵀ·∂h, F the masked Fourier ratio and
            # c = 2ω/π, accumulated in F's buffer (the ratio's other temporary takes cos x):
            # three passes and no new activation-sized tensor after the ratio.
            scale = 2 * ctx.omega / math.pi
            fourier, spare = fourier_ratio(x, ctx.n, ctx.omega)
            fourier.add_(torch.cos(x, out=spare), alpha=0.1 * lam / scale).mul_(grad)
            fv = _bcs(fourier, channel_last)
            fv.baddbmm_(w1.t().expand(batch, -1, -1), grad_h, beta=scale)
            grad_x = _from_bcs(fv, x, channel_last)
        return grad_x, grad_w1, grad_w2, None, None, None, None


def _bcs(t: Tensor, channel_last: bool) -> Tensor:
    """A (B, C, S) view (or copy) of an activation: channel dim 1 (conv) or last (linear)."""
    if channel_last:
        return t.reshape(-1, t.shape[-1]).mT.unsqueeze(0)
    return t.reshape(t.shape[0], t.shape[1], -1)


def _from_bcs(t: Tensor, like: Tensor, channel_last: bool) -> Tensor:
    """Inverse of ``_bcs``: back to ``like``'s shape."""
    if channel_last:
        return t.squeeze(0).mT.reshape(like.shape)
    return t.view(like.shape)


class _FDA(BinaryLayer):
    inference_needs = InferenceNeeds(
        weight_scale="channel", training_only=("weight_noise", "act_noise")
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.weight_noise = NoiseAdaptation(self.weight[0].numel(), **self.factory_kwargs)
        self.act_noise = NoiseAdaptation(self.in_size, **self.factory_kwargs)
        self.set_progress(0.0)

    def set_progress(self, p: float) -> None:
        self.n_terms = fda_terms(p)
        self.noise_weight = fda_noise_weight(p)

    @property
    def _noisy(self) -> bool:
        return self.training and self.noise_weight > 0

    def binarize_weight(self, w: Tensor) -> Tensor:
        wb = sign_fourier(w, self.n_terms, OMEGA)
        if self._noisy:
            wb = wb.add(self.weight_noise(w.flatten(1)).view_as(w), alpha=self.noise_weight)
        return wb * channel_mean_abs(w)

    def binarize_input(self, x: Tensor) -> Tensor:
        if not self._noisy:
            return sign_fourier(x, self.n_terms, OMEGA)
        channel_last = self.spatial_dims == 0
        if not channel_last and x.dim() == self.spatial_dims + 1:  # unbatched conv input
            return self.binarize_input(x.unsqueeze(0)).squeeze(0)
        noise = self.act_noise
        return _NoisyFourierSign.apply(
            x,
            noise.fc1.weight,
            noise.fc2.weight,
            self.n_terms,
            OMEGA,
            self.noise_weight,
            channel_last,
        )

    def extra_inference_params(self) -> dict[str, int]:
        return {"alpha": self.out_size}

    def extra_training_params(self) -> dict[str, int]:
        return {
            name: sum(p.numel() for p in module.parameters())
            for name, module in (("weight_noise", self.weight_noise), ("act_noise", self.act_noise))
        }

    def extra_inference_flops(self, input_shape: Shape, output_shape: Shape) -> int:
        """One multiply per output element by α (noise adaptation is training-only)."""
        return numel(output_shape)


class FDAConv1d(_FDA, nn.Conv1d):
    pass


class FDAConv2d(_FDA, nn.Conv2d):
    pass


class FDALinear(_FDA, nn.Linear):
    pass


ALGORITHM = Algorithm(
    name="fda",
    layers={nn.Conv1d: FDAConv1d, nn.Conv2d: FDAConv2d, nn.Linear: FDALinear},
)
