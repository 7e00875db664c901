"""The fused autograd functions against the straightforward autograd compositions they
replace (the previous implementations, kept here as references): same forward, same
gradients for every input, on random values mixed with the boundary values of each
estimator (0, -0, ±1, one ulp either side of ±1, subnormals)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from bibench_cli.binarize import estimators as est
from bibench_cli.binarize import get_algorithm, set_progress
from bibench_cli.binarize.fda import NoiseAdaptation
from bibench_cli.binarize.recu import EPS, unbiased_var

DTYPES = [torch.float64, torch.float32]


def mixed(shape, dtype, seed=0, scale=1.0):
    """Random values with boundary values planted at random positions."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g, dtype=torch.float64).mul_(scale).to(dtype)
    eps = torch.finfo(dtype).eps
    tiny = torch.finfo(dtype).tiny
    special = torch.tensor(
        [
            0.0,
            -0.0,
            1.0,
            -1.0,
            1 + eps,
            -1 - eps,
            1 - eps / 2,
            -1 + eps / 2,
            tiny,
            -tiny,
            tiny / 4,
            -tiny / 4,
            0.5,
            -0.5,
            2.0,
            -2.0,
        ],
        dtype=dtype,
    )
    flat = x.view(-1)
    idx = torch.randperm(flat.numel(), generator=g)[: min(flat.numel() // 2, 4 * len(special))]
    flat[idx] = special[torch.arange(len(idx)) % len(special)]
    return x


def run(fn, inputs, upstream):
    """Output and gradients of fn(*inputs) for this upstream gradient."""
    leaves = [t.detach().clone().requires_grad_() for t in inputs]
    out = fn(*leaves)
    out.backward(upstream)
    return out.detach(), [t.grad for t in leaves]


def assert_same(fused, reference, inputs, upstream, exact_forward=True):
    out, grads = run(fused, inputs, upstream)
    ref_out, ref_grads = run(reference, inputs, upstream)
    if exact_forward:
        assert torch.equal(out, ref_out)
    else:
        torch.testing.assert_close(out, ref_out)
    for g, r in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(g, r)


# --- ReActNet: sign(x - t) with ApproxSign, fused ---------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape, t_shape",
    [
        ((4, 6, 5, 5), (6, 1, 1)),  # Conv2d
        ((6, 5, 5), (6, 1, 1)),  # unbatched Conv2d
        ((3, 6, 7), (6, 1)),  # Conv1d
        ((5, 6), (6,)),  # Linear
        ((2, 3, 6), (6,)),  # Linear on a 3-D input
    ],
)
def test_shifted_approx_sign_matches_composition(shape, t_shape, dtype):
    x = mixed(shape, dtype)
    t = mixed((6,), dtype, seed=1, scale=0.3).view(t_shape)
    t.view(-1)[0] = 0.0
    x.view(-1)[:3] = t.view(-1)[0]  # x - t == 0 exactly
    upstream = torch.randn(shape, dtype=dtype)
    assert_same(est.sign_approx_shifted, lambda a, b: est.sign_approx(a - b), (x, t), upstream)


# --- ReCU: per-sample standardisation + ApproxSign, fused --------------------------------


def recu_reference(x, dims):
    return est.sign_approx(x / torch.sqrt(unbiased_var(x, dims) + EPS))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape, dims",
    [((4, 6, 5, 5), (1, 2, 3)), ((3, 6, 7), (1, 2)), ((6, 5, 5), (0, 1, 2)), ((5, 8), (1,))],
)
@pytest.mark.parametrize("scale", [0.3, 1.0, 3.0])
def test_standardized_approx_sign_matches_composition(shape, dims, scale, dtype):
    x = mixed(shape, dtype, scale=scale)
    upstream = torch.randn(shape, dtype=dtype)
    assert_same(
        lambda a: est.sign_approx_standardized(a, dims, EPS),
        lambda a: recu_reference(a, dims),
        (x,),
        upstream,
    )


def test_standardized_approx_sign_constant_sample():
    """A constant sample (var 0, s = sqrt(eps)) and an all-zero one stay finite and equal."""
    x = torch.zeros(3, 4, 5, dtype=torch.float64)
    x[1] = 0.25
    x[2] = torch.randn(4, 5, dtype=torch.float64)
    upstream = torch.randn(3, 4, 5, dtype=torch.float64)
    dims = (1, 2)
    assert_same(
        lambda a: est.sign_approx_standardized(a, dims, EPS),
        lambda a: recu_reference(a, dims),
        (x,),
        upstream,
    )


# --- FDA: Fourier sign + noise adaptation, fused -----------------------------------------


def fourier_terms(x, n, omega=0.1):
    total = sum(torch.cos((2 * i + 1) * omega * x) for i in range(n + 1))
    return torch.where(x.abs() <= 1, 4 * omega / math.pi * total, torch.zeros_like(x))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [9, 13, 18])
def test_fourier_sign_grad_is_the_term_by_term_sum(n, dtype):
    x = mixed((500,), dtype, scale=0.7)
    g = torch.randn(500, dtype=dtype)
    got = est.fourier_sign_grad(g, x, n, 0.1)
    want = (g.double() * fourier_terms(x.double(), n)).to(dtype)
    torch.testing.assert_close(got, want)


def fda_reference(x, w1, w2, n, lam, channel):
    """The previous module form: sign_fourier(x) + λ·NoiseAdaptation over the channel dim."""
    module = NoiseAdaptation(w1.shape[1], dtype=x.dtype)
    del module.fc1.weight, module.fc2.weight
    module.fc1.weight, module.fc2.weight = w1, w2
    xb = est.sign_fourier(x, n, 0.1)
    noise = module(x.movedim(channel, -1)).movedim(-1, channel)
    return xb.add(noise, alpha=lam)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "kind, shape",
    [
        ("conv2d", (4, 16, 5, 5)),
        ("conv2d", (16, 5, 5)),  # unbatched
        ("conv2d_channels_last", (4, 16, 5, 5)),
        ("conv1d", (3, 16, 7)),
        ("linear", (5, 16)),
        ("linear", (2, 3, 16)),
        ("conv2d_wide", (2, 130, 3, 3)),  # hidden width 2
    ],
)
def test_fda_noisy_activation_matches_module_form(kind, shape, dtype):
    torch.manual_seed(0)
    channels = shape[-1] if kind == "linear" else shape[-3 if kind.startswith("conv2d") else -2]
    if kind == "conv2d" and len(shape) == 3:
        channels = shape[0]
    fp = {"linear": nn.Linear(channels, 4), "conv1d": nn.Conv1d(channels, 4, 3)}.get(
        kind, nn.Conv2d(channels, 4, 3)
    )
    layer = get_algorithm("fda").layers[type(fp)].from_float(fp).to(dtype)
    set_progress(nn.Sequential(layer), 0.3)
    assert layer.noise_weight > 0
    x = mixed(shape, dtype, scale=0.8)
    if kind == "conv2d_channels_last":
        x = x.contiguous(memory_format=torch.channels_last)
    w1, w2 = layer.act_noise.fc1.weight.detach(), layer.act_noise.fc2.weight.detach()
    lam, n = layer.noise_weight, layer.n_terms
    channel = -1 if kind == "linear" else -1 - layer.spatial_dims
    upstream = torch.randn(shape, dtype=dtype)

    def fused(a, b, c):
        layer.act_noise.fc1.weight, layer.act_noise.fc2.weight = nn.Parameter(b), nn.Parameter(c)
        return layer.binarize_input(a)

    out, grads = run(fused, (x, w1, w2), upstream)
    grads = [grads[0], layer.act_noise.fc1.weight.grad, layer.act_noise.fc2.weight.grad]
    ref_out, ref_grads = run(
        lambda a, b, c: fda_reference(a, b, c, n, lam, channel), (x, w1, w2), upstream
    )
    torch.testing.assert_close(out, ref_out)
    for g, r in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(g, r)


def test_fda_binary_without_noise():
    """λ = 0 (end of training) and eval(): plain ±1 outputs, Fourier gradient only."""
    fp = nn.Conv2d(8, 4, 3)
    layer = get_algorithm("fda").layers[nn.Conv2d].from_float(fp)
    x = mixed((2, 8, 5, 5), torch.float32)
    for setup in (lambda: set_progress(nn.Sequential(layer), 1.0), layer.eval):
        setup()
        assert set(layer.binarize_input(x).unique().tolist()) == {-1.0, 1.0}


def test_fused_functions_are_single_autograd_nodes():
    """The fused ReCU and ReActNet inputs build one autograd node each."""
    x = torch.randn(2, 16, 4, 4, requires_grad=True)
    t = torch.zeros(16, 1, 1, requires_grad=True)
    assert type(est.sign_approx_shifted(x, t).grad_fn).__name__ == "_ShiftApproxSignBackward"
    out = est.sign_approx_standardized(x, (1, 2, 3), EPS)
    assert type(out.grad_fn).__name__ == "_StandardizedApproxSignBackward"
    assert torch.equal(out, est.binary_sign(x))


# --- ReCU: weight standardisation + rectified clamp + sign + α, fused ---------------------


def recu_weight_reference(w, alpha, tau):
    """The previous autograd composition of ReCU's binarize_weight."""
    dims = tuple(range(1, w.dim()))
    w0 = w - w.mean(dims, keepdim=True)
    w1 = w0 / (torch.sqrt(unbiased_var(w0, dims) + EPS) / (2 * math.sqrt(2)))
    if tau < 1:
        q = (w1.detach().abs().mean() * -math.log(2 - 2 * tau)).to(w1.dtype)
        w1 = torch.clamp(w1, -q, q)
    return est.sign_identity(w1) * alpha.view(-1, *[1] * len(dims))


@pytest.mark.parametrize("dtype", DTYPES)
def test_recu_layer_weight_is_the_fused_function(dtype):
    """The layer's binarize_weight is the fused function, at the layer's τ."""
    layer = get_algorithm("recu").layers[nn.Conv2d].from_float(nn.Conv2d(4, 6, 3)).to(dtype)
    set_progress(nn.Sequential(layer), 0.4)
    w, alpha = layer.weight.detach(), layer.alpha.detach()
    upstream = torch.randn(w.shape, dtype=dtype)

    def fused(a, b):
        layer.weight, layer.alpha = nn.Parameter(a), nn.Parameter(b)
        return layer.binarize_weight(layer.weight)

    out, grads = run(fused, (w, alpha), upstream)
    grads = [layer.weight.grad, layer.alpha.grad]
    ref_out, ref_grads = run(
        lambda a, b: recu_weight_reference(a, b, layer.tau), (w, alpha), upstream
    )
    assert torch.equal(out, ref_out)
    for g, r in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(g, r)


# --- ApproxSign / dot-product helpers against their previous forms ------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_approx_sign_grad_matches_previous_form(dtype):
    x = mixed((4, 6, 5, 5), dtype, scale=0.7)
    g = torch.randn(x.shape, dtype=dtype)
    previous = x.abs().mul_(-2).add_(2).relu_().mul_(g)
    assert torch.equal(est.approx_sign_grad(g, x), previous)


@pytest.mark.parametrize("dtype", DTYPES)
def test_standardized_approx_sign_channels_last(dtype):
    """A channels-last input (the multiply-and-sum path of the dot products)."""
    x = mixed((4, 6, 5, 5), dtype).contiguous(memory_format=torch.channels_last)
    upstream = torch.randn(x.shape, dtype=dtype)
    dims = (1, 2, 3)
    assert_same(
        lambda a: est.sign_approx_standardized(a, dims, EPS),
        lambda a: recu_reference(a, dims),
        (x,),
        upstream,
    )
