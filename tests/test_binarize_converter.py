"""binarize() on a ResNet-like toy model, checkpoints, policy, errors and plug-ins."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from conftest import BINARIZED
from torch import nn

from bibench_cli.binarize import (
    Algorithm,
    BinarizePolicy,
    BinaryModule,
    UnknownAlgorithmError,
    binarize,
    get_algorithm,
    list_algorithms,
    load_fp32_state_dict,
    materialize,
    register_algorithm,
    set_progress,
)

BINARIZED_LAYERS = {
    "layer1.conv1",
    "layer1.conv2",
    "layer2.conv1",
    "layer2.conv2",
    "layer2.downsample.0",
}


class Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class ToyResNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU()
        )
        self.layer1 = Block(8, 8)
        self.layer2 = Block(8, 16, stride=2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        return self.fc(self.pool(self.layer2(self.layer1(self.stem(x)))).flatten(1))


def _batch():
    g = torch.Generator().manual_seed(0)
    return torch.randn(32, 3, 8, 8, generator=g), torch.randint(0, 10, (32,), generator=g)


@pytest.mark.parametrize("algo", BINARIZED)
def test_toy_resnet_binarize_load_and_train(algo):
    torch.manual_seed(0)
    fp = ToyResNet()
    x, y = _batch()
    model = copy.deepcopy(fp)
    report = binarize(model, algo, example_input=x)

    assert set(report.binarized) == BINARIZED_LAYERS
    assert report.kept == {
        "stem.0": "stem (first conv/linear)",
        "fc": "classifier (last conv/linear)",
    }
    assert not any(type(m) is nn.ReLU for m in model.modules())
    assert len(report.activations) == 3
    assert "layer2.downsample.0" in str(report)
    for name in BINARIZED_LAYERS:
        assert isinstance(model.get_submodule(name), BinaryModule)

    extras = set(model.state_dict()) - set(fp.state_dict())
    if extras:
        with pytest.raises(RuntimeError):
            model.load_state_dict(fp.state_dict(), strict=True)
        load_fp32_state_dict(model, fp.state_dict())
    else:
        model.load_state_dict(fp.state_dict(), strict=True)
    torch.testing.assert_close(model.stem[0].weight, fp.stem[0].weight)
    torch.testing.assert_close(model.layer1.conv1.weight, fp.layer1.conv1.weight)

    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    with torch.no_grad():
        first = loss_fn(model(x), y).item()
    steps = 20
    for step in range(steps):
        set_progress(model, step / steps)
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
    with torch.no_grad():
        last = loss_fn(model(x), y).item()
    assert last < first


def test_fp32_binarizes_nothing_and_keeps_relu():
    model = ToyResNet()
    report = binarize(model, "fp32")
    assert report.binarized == [] and len(report.kept) == 7
    assert set(report.kept.values()) == {"'fp32' binarizes nothing"}
    assert sum(type(m) is nn.ReLU for m in model.modules()) == 3
    assert report.activations == []


def test_policy_patterns_keep_more_layers():
    model = ToyResNet()
    report = binarize(model, "bnn", BinarizePolicy(keep=("*downsample*", "layer1.conv2")))
    assert set(report.binarized) == BINARIZED_LAYERS - {"layer2.downsample.0", "layer1.conv2"}
    assert report.kept["layer1.conv2"] == "policy pattern 'layer1.conv2'"
    model = ToyResNet()
    report = binarize(model, "bnn", BinarizePolicy(keep_first=False, keep_last=False))
    assert report.kept == {}


def test_unsupported_layers_kept_and_reported():
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3),
        nn.ConvTranspose2d(4, 4, 3),
        nn.Conv2d(4, 4, 3),
        nn.Flatten(0, 1),
        nn.Unflatten(0, (1, 4)),
        nn.Conv3d(1, 1, 1),
        nn.Flatten(),
        nn.LazyLinear(2),
    )
    x = torch.randn(1, 3, 8, 8)
    model(x)
    before = copy.deepcopy(model[1].state_dict())
    report = binarize(model, "reactnet")
    assert report.binarized == ["2"]
    assert report.kept["1"] == "ConvTranspose2d not supported by 'reactnet'"
    assert report.kept["5"] == "Conv3d not supported by 'reactnet'"
    assert type(model[1]) is nn.ConvTranspose2d
    torch.testing.assert_close(model[1].state_dict(), before)
    assert model(x).shape == (1, 2)


def test_unknown_algorithm_error_is_one_line():
    with pytest.raises(UnknownAlgorithmError) as info:
        get_algorithm("nosuch")
    message = str(info.value)
    assert "\n" not in message and "'nosuch'" in message
    assert all(name in message for name in ["fp32", *BINARIZED])
    assert isinstance(info.value, ValueError) and isinstance(info.value, KeyError)
    with pytest.raises(UnknownAlgorithmError, match="nosuch_pkg"):
        binarize(ToyResNet(), "nosuch_pkg.mod:ALGO")


def test_registry_describes_algorithms():
    assert set(list_algorithms()) >= {"fp32", *BINARIZED}
    for name in BINARIZED:
        algo = get_algorithm(name)
        assert algo.name == name and "\n" not in algo.description
        assert set(algo.layers) == {nn.Conv1d, nn.Conv2d, nn.Linear}
        for fp_type, cls in algo.layers.items():
            assert issubclass(cls, fp_type) and issubclass(cls, BinaryModule)


def test_plugin_by_dotted_path(monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    model = nn.Sequential(
        nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.Conv1d(8, 8, 1), nn.Linear(8, 2)
    )
    report = binarize(model, "plugin_algo.halfsign:ALGORITHM")
    assert report.algorithm == "halfsign" and report.binarized == ["2"]
    assert report.kept["3"] == "Conv1d not supported by 'halfsign'"
    assert "halfsign" in list_algorithms()
    assert get_algorithm("halfsign").layers[nn.Linear] is type(model[2])
    assert model[2].extra_inference_params() == {}  # inherited defaults
    with torch.no_grad():
        model[2].weight.copy_(torch.randn(8, 8))
        h = torch.randn(3, 8)
        torch.testing.assert_close(
            model[2](h), h @ (0.5 * model[2].weight.sign()).T + model[2].bias
        )


def test_register_algorithm_programmatically():
    from bibench_cli.binarize.bnn import BNNLinear

    algo = Algorithm("bnn_linear_only", "BNN on Linear layers only.", {nn.Linear: BNNLinear})
    register_algorithm(algo)
    assert get_algorithm("bnn_linear_only") is algo
    model = nn.Sequential(nn.Linear(2, 2), nn.Conv1d(2, 2, 1), nn.Linear(2, 2), nn.Linear(2, 2))
    assert binarize(model, "bnn_linear_only").binarized == ["2"]
    with pytest.raises(ValueError, match="already registered"):
        register_algorithm(Algorithm("bnn", "impostor"))


def test_load_fp32_state_dict_rejects_foreign_keys():
    fp = ToyResNet()
    model = copy.deepcopy(fp)
    binarize(model, "reactnet")
    state = fp.state_dict()
    with pytest.raises(RuntimeError, match="unexpected"):
        load_fp32_state_dict(model, {**state, "bogus": torch.zeros(1)})
    del state["layer1.conv1.weight"]
    with pytest.raises(RuntimeError, match="layer1.conv1.weight"):
        load_fp32_state_dict(model, state)


def test_xnorpp_needs_shape_inference_before_forward():
    x, _ = _batch()
    model = ToyResNet()
    report = binarize(model, "xnorpp")
    assert report.needs_materialize
    with pytest.raises(RuntimeError, match="materialize") as info:
        model(x)
    assert "\n" not in str(info.value)
    bn = model.stem[1]
    stats = bn.running_mean.clone()
    materialize(model, x)
    assert model.training and torch.equal(bn.running_mean, stats)  # no side effects
    conv = model.layer2.conv1
    assert conv.beta.shape == (4,) and conv.gamma.shape == (4,) and conv.alpha.shape == (16,)
    # a binarized checkpoint loads into a fresh, not yet materialized model
    fresh = ToyResNet()
    binarize(fresh, "xnorpp")
    fresh.load_state_dict(model.state_dict(), strict=True)
    fresh.eval(), model.eval()
    torch.testing.assert_close(fresh(x), model(x))
