"""The deploy form reproduces the trained model, with ±1 weights, BN folding and padding
handled as documented, and refuses what it cannot express with one line."""

from __future__ import annotations

import copy

import pytest
import torch
from deploy_helpers import ALGOS, trained_resnet20
from torch import nn

from bibench_cli.binarize import (
    BinarizePolicy,
    BinaryModule,
    binarize,
    get_algorithm,
    set_progress,
)
from bibench_cli.binarize.estimators import binary_sign
from bibench_cli.deploy import DeployError, check_parity, deploy_form, deployability
from bibench_cli.deploy.batchnorm import fold_channel_affine
from bibench_cli.deploy.binary_input import binarize as deploy_binarize
from bibench_cli.deploy.binary_layer import BinaryLayerInference

SCALED = {"xnor", "dorefa", "bireal", "reactnet", "recu", "fda"}  # a per-channel weight factor


def inference_layers(form) -> dict[str, BinaryLayerInference]:
    return {n: m for n, m in form.module.named_modules() if isinstance(m, BinaryLayerInference)}


@pytest.mark.parametrize("algo", ALGOS)
def test_deploy_form_equals_the_trained_model(algo):
    model, x = trained_resnet20(algo)
    state = copy.deepcopy(model.state_dict())
    form = deploy_form(model, x)

    parity = check_parity(model, form, x)
    assert parity.max_rel_diff < 1e-5 and parity.top1_agreement == 1.0
    assert model.training  # modes and weights of the trained model are untouched
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())

    assert form.correctness_only == (not deployability(algo).deployable)
    binarized = {n for n, m in model.named_modules() if isinstance(m, BinaryModule)}
    layers = inference_layers(form)
    assert set(form.binary_layers) == binarized == set(layers) and len(binarized) == 20
    assert not any(isinstance(m, BinaryModule) for m in form.module.modules())
    for layer in layers.values():
        assert set(layer.weight.unique().tolist()) == {-1.0, 1.0}
    # every binarized conv of a ResNet feeds one BN: channel factors all end up in it
    assert set(form.folded_into_bn) == (binarized if algo in SCALED else set())
    hardtanh = [type(m) for m in form.module.modules() if isinstance(m, nn.Hardtanh)]
    assert len(hardtanh) == sum(isinstance(m, nn.Hardtanh) for m in model.modules())
    assert not any(
        name.endswith(("weight_noise", "act_noise")) for name, _ in form.module.named_modules()
    )


def test_reactnet_thresholds_become_a_mean_shift_add():
    model, x = trained_resnet20("reactnet")
    form = deploy_form(model, x)
    layer = inference_layers(form)["layer2.0.conv1"]
    threshold = model.get_submodule("layer2.0.conv1").threshold
    assert threshold.abs().max() > 0  # training moved it
    torch.testing.assert_close(layer.input_bias.flatten(), -threshold.detach(), rtol=0, atol=0)


def test_folding_into_batchnorm_is_exact_for_any_channel_scale():
    torch.manual_seed(0)
    bn = nn.BatchNorm2d(5, eps=1e-3).double()
    with torch.no_grad():
        bn.running_mean.normal_()
        bn.running_var.uniform_(0.1, 3)
        bn.weight.normal_()
        bn.bias.normal_()
    bn.eval()
    scale = torch.tensor([2.0, -0.5, 0.0, 1.0, 1e-3], dtype=torch.float64).view(-1, 1, 1)
    bias = torch.randn(5, 1, 1, dtype=torch.float64)
    y = torch.randn(3, 5, 4, 4, dtype=torch.float64)
    folded = fold_channel_affine(bn, scale, bias)
    assert type(folded) is nn.BatchNorm2d and not folded.training
    torch.testing.assert_close(folded(y), bn(scale * y + bias), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "geometry",
    [dict(stride=1, padding=1), dict(stride=2, padding=2, dilation=2, groups=2)],
)
def test_padding_with_minus_one_plus_correction_is_exact(geometry):
    """Zero padding of a ±1 input, three ways: the trained layer, −1 padding + correction,
    and the conv's own zero padding (the OpenVINO form); without the correction (daBNN's
    convention) only border outputs change."""
    torch.manual_seed(0)
    layer = get_algorithm("bnn").layers[nn.Conv2d].from_float(nn.Conv2d(4, 6, 3, **geometry))
    layer.bias = None
    layer.eval()
    x = torch.randn(2, 4, 9, 9)
    with torch.no_grad():
        trained = layer(x)
        deployed = BinaryLayerInference.from_layer(layer, x.shape, "conv")
        assert torch.equal(deployed(x), trained)  # integers: exact, not close
        deployed.openvino_range = 2.0**-10
        assert torch.equal(deployed(x), trained)
        deployed.openvino_range, deployed.pad_correction = None, None
        dropped = deployed(x)
    differs = (dropped != trained).any(0).any(0)
    stride, pad, dilation = geometry["stride"], geometry["padding"], geometry.get("dilation", 1)
    inside = [o for o in range(differs.shape[0]) if 0 <= o * stride - pad <= 8 - 2 * dilation]
    interior = torch.zeros_like(differs)
    interior[inside[0] : inside[-1] + 1, inside[0] : inside[-1] + 1] = True
    assert differs.any() and not (differs & interior).any()


def test_binarizer_sends_zero_to_plus_one_like_training():
    x = torch.tensor([-1.0, -0.0, 0.0, 1e-30, -1e-30, 2.0])
    expected = torch.tensor([-1.0, 1.0, 1.0, 1.0, -1.0, 1.0])
    assert torch.equal(deploy_binarize(x), expected)
    assert torch.equal(binary_sign(x), expected)
    assert torch.sign(x)[2] == 0  # why torch.sign is not used


class MLP(nn.Module):
    """Binarized Linear layers: fc2 feeds a BatchNorm1d (folded), fc3 does not (a Mul)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.bn1, self.act1 = nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU()
        self.fc2, self.bn2, self.act2 = nn.Linear(16, 16), nn.BatchNorm1d(16), nn.ReLU()
        self.fc3, self.act3 = nn.Linear(16, 16), nn.ReLU()
        self.fc4 = nn.Linear(16, 3)

    def forward(self, x):
        x = self.act1(self.bn1(self.fc1(x)))
        x = self.act2(self.bn2(self.fc2(x)))
        return self.fc4(self.act3(self.fc3(x)))


def test_binarized_linear_layers_fold_or_keep_a_mul():
    torch.manual_seed(0)
    model = MLP()
    binarize(model, "reactnet")
    x = torch.randn(32, 8)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for step in range(3):
        set_progress(model, step / 3)
        optimizer.zero_grad()
        model(x).square().mean().backward()
        optimizer.step()
    form = deploy_form(model, x)
    assert form.binary_layers == ("fc2", "fc3") and form.folded_into_bn == ("fc2",)
    layers = inference_layers(form)
    assert layers["fc3"].scale is not None and layers["fc3"].bias is not None
    parity = check_parity(model, form, x)
    assert parity.max_rel_diff < 1e-5 and parity.top1_agreement == 1.0


class DataDependent(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 3, padding=1)

    def forward(self, x):
        return self.conv(x) if x.sum() > 0 else x


class SharedLayer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem, self.conv = nn.Conv2d(2, 2, 1), nn.Conv2d(2, 2, 3, padding=1)
        self.head = nn.Conv2d(2, 2, 1)

    def forward(self, x):
        return self.head(self.conv(self.conv(self.stem(x))))


@pytest.mark.parametrize(
    ("model", "algo", "shape", "message"),
    [
        (DataDependent(), "bnn", (1, 2, 4, 4), "cannot express DataDependent.forward"),
        (SharedLayer(), "bnn", (1, 2, 4, 4), "'conv' is called 2 times"),
        (SharedLayer(), "plugin_algo.halfsign:ALGORITHM", (1, 2, 4, 4), "inference_needs"),
        (SharedLayer(), "bnn", (1, 3, 4, 4), "an input of shape (1, 3, 4, 4) does not run"),
    ],
)
def test_refusals_are_one_line(model, algo, shape, message):
    binarize(model, algo, BinarizePolicy(keep_first=False, keep_last=False))
    with pytest.raises(DeployError) as err:
        deploy_form(model, torch.randn(shape))
    assert message in str(err.value) and "\n" not in str(err.value)
