"""Sign functions with the gradient estimators the algorithms share.

Every estimator uses the paper's sign convention (Eq. 12): sign(0) = +1, so outputs are
strictly ±1. Backward passes are closed forms in one expression each, with no Python loops
and no host syncs, so they stay cheap next to the convolution they feed.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def binary_sign(x: Tensor) -> Tensor:
    """±1 with sign(0) = +1 (``torch.sign`` alone gives 0, which is not a binary value).

    sign(sign(x) + 0.5) maps {-1, 0, +1} to {-1, +1, +1}: three vectorised passes, where
    ``torch.where(x >= 0, 1., -1.)`` is over ten times slower on CPU.
    """
    return torch.sign(x).add_(0.5).sign_()


def pass_within_unit(grad: Tensor, x: Tensor) -> Tensor:
    """``grad`` where |x| <= 1, else 0, in one fused kernel.

    hardtanh_backward keeps min < x < max; bounds one ulp outside ±1 in x's dtype make that
    exactly |x| <= 1.
    """
    bound = 1.0 + torch.finfo(x.dtype).eps
    return torch.ops.aten.hardtanh_backward(grad, x, -bound, bound)


class _SignWithSurrogate(torch.autograd.Function):
    """sign(x) forward; backward multiplies by the subclass's surrogate derivative."""

    surrogate: staticmethod  # (grad, x) -> grad · d/dx surrogate(x)

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:
        ctx.save_for_backward(x)
        return binary_sign(x)

    @classmethod
    def backward(cls, ctx, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return cls.surrogate(grad, x)


class _ClipSTE(_SignWithSurrogate):
    """Clip straight-through estimator: gradient passes where |x| <= 1, else 0 (BNN)."""

    surrogate = staticmethod(lambda grad, x: pass_within_unit(grad, x))


class _ApproxSign(_SignWithSurrogate):
    """Bi-Real's ApproxSign: d/dx = max(0, 2 - 2|x|), i.e. 2 - 2|x| on |x| < 1, else 0."""

    surrogate = staticmethod(lambda grad, x: approx_sign_grad(grad, x))


def approx_sign_grad(grad: Tensor, x: Tensor) -> Tensor:
    """``grad`` · max(0, 2 - 2|x|) (ApproxSign's derivative), in a fresh tensor.

    2 - 2|x| is one pass (a 0-d input broadcast, written over |x|): four passes, one
    allocation, where abs/mul_/add_/relu_/mul_ made five.
    """
    out = x.abs()
    torch.add(_TWO.get(out), out, alpha=-2, out=out)
    return out.relu_().mul_(grad)


class _ScalarCache:
    """A 0-d tensor of one value per (dtype, device), made once (no tensor built per call)."""

    def __init__(self, value: float) -> None:
        self.value = value
        self.tensors: dict[tuple[torch.dtype, torch.device], Tensor] = {}

    def get(self, like: Tensor) -> Tensor:
        key = (like.dtype, like.device)
        t = self.tensors.get(key)
        if t is None:
            t = self.tensors[key] = torch.tensor(self.value, dtype=like.dtype, device=like.device)
        return t


_TWO = _ScalarCache(2.0)


class _ShiftApproxSign(torch.autograd.Function):
    """sign(x - t) with ApproxSign backward, fused (ReActNet's RSign).

    Saves only the shifted input; ∂/∂t = -∂/∂x is the input gradient summed to t's shape,
    negated after the reduction (the same value as summing the negated gradient).
    """

    @staticmethod
    def forward(ctx, x: Tensor, t: Tensor) -> Tensor:
        z = x - t
        ctx.save_for_backward(z)
        ctx.t_shape = t.shape
        return binary_sign(z)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        (z,) = ctx.saved_tensors
        grad_z = approx_sign_grad(grad, z)
        grad_t = grad_z.sum_to_size(ctx.t_shape).neg() if ctx.needs_input_grad[1] else None
        return (grad_z if ctx.needs_input_grad[0] else None), grad_t


class _StandardizedApproxSign(torch.autograd.Function):
    """sign(x / s) with ApproxSign backward through the standardisation (ReCU's activations).

    s = sqrt(var(x) + eps) per sample, var unbiased over ``dims`` (the trailing sample dims).
    With y = x / s, c = x - mean(x) and g = ∂L/∂y (ApproxSign), the gradient is the closed
    form ∂L/∂x = g / s - (Σ g·x) / ((n - 1) s³) · c; the path through the mean is zero
    because Σ c = 0. One reduction pass per statistic, no autograd graph of small ops.

    The per-sample dot products (Σ c², Σ g·x) are batched matrix products over
    (samples, 1, n) views: one read of each operand and no temporary. y is not kept: the
    output is signed in place in the x / s buffer, and backward folds 1/s into ApproxSign's
    factor, g / s = max(0, 2/s - (2/s²)|x|)·∂L/∂out, which needs |x| only.
    """

    @staticmethod
    def forward(ctx, x: Tensor, dims: tuple[int, ...], eps: float) -> Tensor:
        count = math.prod(x.shape[d] for d in dims)
        centred = x - x.mean(dims, keepdim=True)
        var = _sample_dot(centred, centred, dims).div_(count - 1)
        std = var.add_(eps).sqrt_()
        ctx.save_for_backward(x, centred, std)
        ctx.dims, ctx.count = dims, count
        return torch.div(x, std).sign_().add_(0.5).sign_()  # binary_sign(x / s), in place

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None, None]:
        x, centred, std = ctx.saved_tensors
        # g / s = max(0, 2/s - (2/s²)|x|)·∂L/∂out (= ApproxSign'(x / s)·∂L/∂out / s)
        two_over_s = std.reciprocal().mul_(2)
        grad_x = x.abs().mul_(two_over_s.div(std))
        torch.sub(two_over_s, grad_x, out=grad_x)
        grad_x.relu_().mul_(grad)
        dot = _sample_dot(grad_x, x, ctx.dims)
        coef = dot.div_(std.square().mul_(1 - ctx.count))  # -(Σ (g/s)·x) / ((n - 1) s²)
        return grad_x.addcmul_(centred, coef), None, None


def _sample_dot(a: Tensor, b: Tensor, dims: tuple[int, ...]) -> Tensor:
    """Σ a·b over ``dims``, keepdim, for same-shaped ``a`` and ``b``.

    Trailing dims of contiguous tensors: a batched (1 × n)·(n × 1) product, one read of
    each and no temporary; otherwise multiply and sum.
    """
    lead = a.dim() - len(dims)
    if dims == tuple(range(lead, a.dim())) and a.is_contiguous() and b.is_contiguous():
        batch = math.prod(a.shape[:lead])
        keep = (*a.shape[:lead], *[1] * len(dims))
        av = a.reshape(batch, 1, -1)
        bv = b.reshape(batch, 1, -1).mT  # a column of b's rows: ~10x faster than (n, 1) view
        return torch.bmm(av, bv).view(keep)
    return torch.mul(a, b).sum(dims, keepdim=True)


class _IdentitySTE(torch.autograd.Function):
    """Identity straight-through estimator (ReCU's weights: the clamp before it bounds them)."""

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:
        return binary_sign(x)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        return grad


class _FourierSign(torch.autograd.Function):
    """FDA: sign forward; backward (4ω/π)·Σ_{i=0..n} cos((2i+1)ωx) on |x| <= 1, else 0.

    The sum is evaluated in closed form, Σ_{i=0..n} cos((2i+1)θ) = sin(2(n+1)θ) / (2 sin θ),
    the same function as the term-by-term sum without one pass over the tensor per term;
    the removable singularity at θ = 0 (0/0) is set to its limit n + 1. (torch.sinc would
    avoid it but is ~20x slower than sin on CPU.)
    """

    @staticmethod
    def forward(ctx, x: Tensor, n: int, omega: float) -> Tensor:
        ctx.save_for_backward(x)
        ctx.n, ctx.omega = n, omega
        return binary_sign(x)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None, None]:
        (x,) = ctx.saved_tensors
        return fourier_sign_grad(grad, x, ctx.n, ctx.omega), None, None


def fourier_sign_grad(grad: Tensor, x: Tensor, n: int, omega: float) -> Tensor:
    """``grad`` · (4ω/π)·Σ_{i=0..n} cos((2i+1)ωx) where |x| <= 1, else 0 (a fresh tensor)."""
    ratio = _dirichlet_ratio(x, n, omega)[0].mul_(grad)
    return _within_unit_(ratio, x).mul_(2 * omega / math.pi)


def fourier_ratio(x: Tensor, n: int, omega: float) -> tuple[Tensor, Tensor]:
    """2·Σ_{i=0..n} cos((2i+1)ωx) where |x| <= 1, else 0, and a spare tensor like ``x``
    (the computation's other temporary, contents unspecified) for the caller to reuse."""
    ratio, spare = _dirichlet_ratio(x, n, omega)
    return _within_unit_(ratio, x), spare


def _dirichlet_ratio(x: Tensor, n: int, omega: float) -> tuple[Tensor, Tensor]:
    """2·Σ_{i=0..n} cos((2i+1)θ), θ = ωx, as sin(2(n+1)θ) / sin θ with the 0/0 at θ = 0 set
    to its limit 2(n+1) (a fresh tensor), and the sin θ temporary."""
    theta = x * omega
    ratio = torch.mul(theta, 2 * (n + 1)).sin_().div_(theta.sin_())
    return ratio.nan_to_num_(nan=2.0 * (n + 1)), theta


def _within_unit_(t: Tensor, x: Tensor) -> Tensor:
    """``t`` zeroed in place where |x| > 1 (as ``pass_within_unit``)."""
    bound = 1.0 + torch.finfo(x.dtype).eps
    return torch.ops.aten.hardtanh_backward.grad_input(t, x, -bound, bound, grad_input=t)


def sign_clip_ste(x: Tensor) -> Tensor:
    """sign with the clip-STE backward."""
    return _ClipSTE.apply(x)


def sign_approx(x: Tensor) -> Tensor:
    """sign with Bi-Real's ApproxSign (piecewise polynomial) backward."""
    return _ApproxSign.apply(x)


def sign_approx_shifted(x: Tensor, t: Tensor) -> Tensor:
    """sign(x - t) with ApproxSign backward for x and -ApproxSign (summed) for t."""
    return _ShiftApproxSign.apply(x, t)


def sign_approx_standardized(x: Tensor, dims: tuple[int, ...], eps: float) -> Tensor:
    """sign(x / sqrt(var(x, dims) + eps)) with ApproxSign backward through the division."""
    return _StandardizedApproxSign.apply(x, tuple(dims), eps)


def sign_identity(x: Tensor) -> Tensor:
    """sign with the identity straight-through backward."""
    return _IdentitySTE.apply(x)


def sign_fourier(x: Tensor, n: int, omega: float = 0.1) -> Tensor:
    """sign with FDA's Fourier-series backward over terms i = 0..n."""
    return _FourierSign.apply(x, n, omega)
