"""Each operator against a hand-built reference: F.conv/F.linear on explicit ±1 tensors and
scales, with each estimator's closed-form derivative attached as d(out)/d(in) (so autograd of
the reference gives exactly 'upstream gradient × estimator')."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from conftest import BINARIZED
from torch import nn

from bibench_cli.binarize import get_algorithm, materialize, set_progress

GRID = torch.linspace(-1.5, 1.5, 13, dtype=torch.float64)  # step 0.25: holds -1, 0 and +1 exactly


@pytest.fixture(autouse=True, scope="module")
def _float64():
    """Exact comparisons in float64 for this module only."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


def layer_config(kind: str) -> tuple[nn.Module, tuple[int, ...]]:
    if kind == "conv1d":
        return nn.Conv1d(4, 6, 3, padding=1, bias=True), (2, 4, 9)
    if kind == "conv2d":
        conv = nn.Conv2d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2, bias=True)
        return conv, (2, 4, 7, 7)
    return nn.Linear(8, 5, bias=True), (3, 8)


def on_grid(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    n = math.prod(shape)
    values = GRID[torch.arange(n) % len(GRID)]
    return values[torch.randperm(n, generator=g)].reshape(shape)


def sgn(t):
    return torch.where(t >= 0, 1.0, -1.0)


def with_grad(t, derivative):
    """Forward value sign(t), backward 'derivative' (evaluated, not differentiated)."""
    return sgn(t).detach() + derivative.detach() * (t - t.detach())


def clip(t):
    return (t.abs() <= 1).to(t.dtype)


def approx(t):
    return torch.where(t.abs() < 1, 2 - 2 * t.abs(), torch.zeros_like(t))


def fourier(t, n, omega=0.1):
    total = sum(torch.cos((2 * i + 1) * omega * t) for i in range(n + 1))
    return torch.where(t.abs() <= 1, 4 * omega / math.pi * total, torch.zeros_like(t))


def per_channel_mean_abs(w):
    return w.detach().abs().flatten(1).mean(1).view(-1, *[1] * (w.dim() - 1))


def op(layer, x, w):
    if isinstance(layer, nn.Linear):
        return F.linear(x, w)
    conv = F.conv1d if isinstance(layer, nn.Conv1d) else F.conv2d
    return conv(x, w, None, layer.stride, layer.padding, layer.dilation, layer.groups)


def channel(layer, v):
    return v.view(-1, *[1] * (layer.weight.dim() - 2))


def xnor_k(layer, x):
    a = x.detach().abs()
    if isinstance(layer, nn.Linear):
        return a.mean(-1, keepdim=True)
    conv = F.conv1d if isinstance(layer, nn.Conv1d) else F.conv2d
    cin, cout = a.shape[1] // layer.groups, layer.out_channels // layer.groups
    box = torch.ones(1, 1, *layer.kernel_size) / math.prod(layer.kernel_size)
    maps = []
    for g in range(layer.groups):
        mean = a[:, g * cin : (g + 1) * cin].mean(1, keepdim=True)
        k = conv(mean, box, None, layer.stride, layer.padding, layer.dilation)
        maps += [k] * cout
    return torch.cat(maps, 1)


def reference(algo, layer, x, noise_weight=0.0):
    """The algorithm's output computed by hand from its paper's formulas."""
    w, out_scale = layer.weight, 1.0
    if algo in ("bnn", "xnor", "dorefa", "bireal", "xnorpp", "reactnet"):
        wb = with_grad(w, clip(w))
        xb = with_grad(x, clip(x))
    if algo == "dorefa":
        wb = wb * w.detach().abs().mean()
    if algo in ("xnor", "bireal", "reactnet"):
        wb = wb * per_channel_mean_abs(w)
    if algo == "bireal":
        xb = with_grad(x, approx(x))
    if algo == "reactnet":
        shifted = x - channel(layer, layer.threshold)
        xb = with_grad(shifted, approx(shifted))
    if algo == "xnor":
        out_scale = xnor_k(layer, x)
    if algo == "xnorpp":
        out_scale = layer.alpha
        for factor in (getattr(layer, n, None) for n in ("beta", "gamma")):
            if factor is not None:
                out_scale = out_scale.unsqueeze(-1) * factor
    if algo == "recu":
        dims = tuple(range(1, w.dim()))
        w0 = w - w.mean(dims, keepdim=True)
        w1 = w0 / (torch.sqrt(w0.var(dims, keepdim=True) + 1e-5) / (2 * math.sqrt(2)))
        q = float(-w1.detach().abs().mean() * math.log(2 - 2 * layer.tau))
        w2 = w1.clamp(-q, q)
        wb = with_grad(w2, torch.ones_like(w2)) * channel(layer, layer.alpha).unsqueeze(1)
        xdims = tuple(range(1, x.dim()))
        xs = x / torch.sqrt(x.var(xdims, keepdim=True) + 1e-5)
        xb = with_grad(xs, approx(xs))
    if algo == "fda":
        n = layer.n_terms
        wb, xb = with_grad(w, fourier(w, n)), with_grad(x, fourier(x, n))
        if noise_weight:
            wn, an = layer.weight_noise, layer.act_noise
            flat = w.flatten(1)
            noise_w = F.linear(F.relu(F.linear(flat, wn.fc1.weight)), wn.fc2.weight)
            wb = wb + noise_weight * (noise_w.view_as(w) + 0.1 * torch.sin(w))
            xc = x.movedim(1, -1) if x.dim() > 2 else x
            noise_a = F.linear(F.relu(F.linear(xc, an.fc1.weight)), an.fc2.weight)
            noise_a = noise_a.movedim(-1, 1) if x.dim() > 2 else noise_a
            xb = xb + noise_weight * (noise_a + 0.1 * torch.sin(x))
        wb = wb * per_channel_mean_abs(w)
    return op(layer, xb, wb) * out_scale + channel(layer, layer.bias)


def make(algo, kind, seed=0):
    torch.manual_seed(seed)
    fp, shape = layer_config(kind)
    with torch.no_grad():
        fp.weight.copy_(on_grid(fp.weight.shape, seed))
        fp.bias.uniform_(-1, 1)
    layer = get_algorithm(algo).layers[type(fp)].from_float(fp)
    x = on_grid(shape, seed + 1)
    if algo == "xnorpp":
        materialize(layer, x)
        with torch.no_grad():
            for p in (layer.alpha, getattr(layer, "beta", None), getattr(layer, "gamma", None)):
                if p is not None:
                    p.uniform_(0.5, 1.5)
    return fp, layer, x


def grads(module, x, out_fn, upstream):
    module.zero_grad()
    x = x.clone().requires_grad_()
    out = out_fn(x)
    out.backward(upstream)
    named = {n: p.grad.clone() for n, p in module.named_parameters() if p.grad is not None}
    return out.detach(), x.grad, named


@pytest.mark.parametrize("kind", ["conv1d", "conv2d", "linear"])
@pytest.mark.parametrize("algo", BINARIZED)
def test_forward_and_gradients_match_hand_reference(algo, kind):
    fp, layer, x = make(algo, kind)
    if algo == "fda":
        set_progress(nn.Sequential(layer), 1.0)  # λ = 0: pure Fourier estimator
    upstream = torch.randn(fp(x).shape)
    out, gx, gp = grads(layer, x, layer, upstream)
    ref_out, ref_gx, ref_gp = grads(layer, x, lambda t: reference(algo, layer, t), upstream)
    torch.testing.assert_close(out, ref_out, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(gx, ref_gx, rtol=1e-9, atol=1e-9)
    assert gp.keys() == ref_gp.keys()
    for name in gp:
        torch.testing.assert_close(gp[name], ref_gp[name], rtol=1e-9, atol=1e-9, msg=name)
    for name in [*layer.extra_inference_params(), "weight"]:
        if name != "alpha" or algo in ("xnorpp", "recu"):  # learned, not a statistic
            assert gp[name].abs().sum() > 0, name


@pytest.mark.parametrize("kind", ["conv1d", "conv2d", "linear"])
def test_fda_noise_adaptation_in_training_and_off_in_eval(kind):
    fp, layer, x = make("fda", kind)
    set_progress(nn.Sequential(layer), 0.5)
    lam = layer.noise_weight
    upstream = torch.randn(fp(x).shape)
    out, gx, gp = grads(layer, x, layer, upstream)
    ref = grads(layer, x, lambda t: reference("fda", layer, t, lam), upstream)
    torch.testing.assert_close(out, ref[0], rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(gx, ref[1], rtol=1e-9, atol=1e-9)
    for name in gp:
        torch.testing.assert_close(gp[name], ref[2][name], rtol=1e-9, atol=1e-9, msg=name)
    assert all(
        gp[f"{m}.fc{i}.weight"].abs().sum() > 0
        for m in ("weight_noise", "act_noise")
        for i in (1, 2)
    )
    layer.eval()
    with torch.no_grad():
        torch.testing.assert_close(layer(x), reference("fda", layer, x))


def test_estimator_closed_forms_on_grid():
    from bibench_cli.binarize import estimators as est

    x = torch.tensor([-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5], requires_grad=True)
    expected = {
        est.sign_clip_ste: [0, 1, 1, 1, 1, 1, 0],
        est.sign_approx: [0, 0, 1, 2, 1, 0, 0],
        est.sign_identity: [1] * 7,
    }
    for fn, want in expected.items():
        x.grad = None
        y = fn(x)
        assert y.tolist() == [-1, -1, -1, 1, 1, 1, 1]
        y.sum().backward()
        assert x.grad.tolist() == want
    for n in (9, 13, 18):
        x.grad = None
        est.sign_fourier(x, n).sum().backward()
        torch.testing.assert_close(x.grad, fourier(x.detach(), n))
        assert x.grad[3] == pytest.approx(4 * 0.1 / math.pi * (n + 1))


@pytest.mark.parametrize("kind", ["conv1d", "conv2d", "linear"])
@pytest.mark.parametrize("algo", BINARIZED)
def test_layer_keeps_torch_shapes_and_state_dict(algo, kind):
    torch.manual_seed(0)
    if kind == "conv2d":
        fp, shape = nn.Conv2d(4, 8, 3, stride=2, padding=1, dilation=2, groups=4), (2, 4, 9, 9)
    elif kind == "conv1d":
        fp, shape = nn.Conv1d(6, 4, 5, padding=3, dilation=3, groups=2, bias=True), (2, 6, 11)
    else:
        fp, shape = nn.Linear(7, 3, bias=True), (2, 5, 7)
    cls = get_algorithm(algo).layers[type(fp)]
    layer = cls.from_float(fp)
    assert isinstance(layer, type(fp)) and layer.weight_bits == 1
    x = torch.randn(shape)
    materialize(layer, x)
    assert layer(x).shape == fp(x).shape
    fp_sd, sd = fp.state_dict(), layer.state_dict()
    assert set(fp_sd) <= set(sd)
    assert set(sd) - set(fp_sd) == set(layer.extra_state_keys())
    for key, value in fp_sd.items():
        assert sd[key].shape == value.shape and torch.equal(sd[key], value)
    if kind == "linear":
        fresh = cls(fp.in_features, fp.out_features)
    else:
        fresh = cls(fp.in_channels, fp.out_channels, fp.kernel_size, groups=fp.groups)
    assert fresh.weight.shape == fp.weight.shape
    # default torch init (kaiming uniform, symmetric), not the official rand()*1e-3
    assert fresh.weight.min() < 0 < fresh.weight.max()
    for name, count in layer.extra_inference_params().items():
        assert count > 0, name
    flops = layer.extra_inference_flops(tuple(x.shape), tuple(fp(x).shape))
    assert flops >= 0 and (flops > 0) == (algo != "bnn")
