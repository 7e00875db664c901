"""PointNet / PointNet-vanilla: EMA-max offset, parameter counts from the definition, the exact
binarized layer sets, loading FP32 weights, and short training runs for every algorithm."""

from __future__ import annotations

import copy

import pytest
import torch
from scipy.stats import norm
from torch import nn

from bibench_cli.binarize import (
    BinarizePolicy,
    binarize,
    list_algorithms,
    load_fp32_state_dict,
    set_progress,
)
from bibench_cli.data.synthetic_points import synthetic_modelnet40
from bibench_cli.models.errors import IncompatibleError
from bibench_cli.models.inputs import ImageInput, PartPointsInput, PointsInput
from bibench_cli.models.pointnet import (
    Aggregation,
    ema_max_offset,
    keep_patterns,
    pointnet,
    pointnet_vanilla,
)

ALGOS = list_algorithms()
XYZ = PointsInput(3, 1024)
PARTS = PartPointsInput(6, 2048, 16)


def policy(head: str, tnets: bool) -> BinarizePolicy:
    """Only the declared layers full precision (no first/last rule), as the engine does."""
    return BinarizePolicy.declared_by(keep_patterns(head, tnets), activation="hardtanh")


# algorithms that scale binarized weights by mean|w|: zero-initialised T-Net outputs keep
# their T-Nets at the identity at first (see TNet), so the full PointNet trains in a few steps
WEIGHT_SCALED = ("bireal", "dorefa", "fda", "reactnet", "xnor")


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def layer(cin: int, cout: int) -> int:
    """A 1×1 Conv1d or a Linear with bias."""
    return cin * cout + cout


def bn(channels: int) -> int:
    return 2 * channels


def mlp(widths: list[int]) -> int:
    """Consecutive layers between these widths, each followed by BN."""
    return sum(layer(a, b) + bn(b) for a, b in zip(widths, widths[1:], strict=False))


def tnet(cin: int, k: int) -> int:
    """conv cin→64→128→1024, linear 1024→512→256 (each + BN), linear 256→k² (no BN)."""
    return mlp([cin, 64, 128, 1024]) + mlp([1024, 512, 256]) + layer(256, k * k)


def vanilla_cls(cin: int, classes: int) -> int:
    """conv cin→64→128→1024, linear 1024→512→256 (each + BN), classifier 256→classes."""
    return mlp([cin, 64, 128, 1024]) + mlp([1024, 512, 256]) + layer(256, classes)


def vanilla_partseg(cin: int, parts: int, categories: int) -> int:
    """convs cin→64→128→128→512→2048, then on the 4928 (+ one-hot) concatenation convs
    256→256→128 (each + BN), part classifier 128→parts."""
    concat = 2048 + categories + 64 + 128 + 128 + 512 + 2048
    return mlp([cin, 64, 128, 128, 512, 2048]) + mlp([concat, 256, 256, 128]) + layer(128, parts)


@pytest.mark.parametrize("n", [1024, 2048, 4096])
def test_ema_max_offset_matches_the_published_values(n):
    published = {1024: -3.2044, 2048: -3.3988, 4096: -3.5840}
    assert ema_max_offset(n) == pytest.approx(published[n], abs=5e-5)


@pytest.mark.parametrize("n", [1, 2, 16, 1000, 10_000])
def test_ema_max_offset_is_minus_the_normal_quantile(n):
    assert ema_max_offset(n) == pytest.approx(-norm.ppf(2.0 ** (-1.0 / n)), rel=1e-9)
    assert Aggregation("ema_max")(torch.zeros(1, 1, n)).item() == pytest.approx(ema_max_offset(n))


def test_aggregations_reduce_over_points():
    x = torch.tensor([[[1.0, 4.0, -2.0, 1.0], [0.0, 0.0, 0.0, 8.0]]])
    assert Aggregation("max")(x).tolist() == [[4.0, 8.0]]
    assert Aggregation("mean")(x).tolist() == [[1.0, 2.0]]
    assert torch.allclose(Aggregation("ema_max")(x), torch.tensor([[4.0, 8.0]]) + ema_max_offset(4))
    with pytest.raises(ValueError, match="ema_max, max, mean"):
        Aggregation("sum")


def test_parameter_counts_from_the_definition():
    assert n_params(pointnet_vanilla(XYZ, num_classes=40)) == vanilla_cls(3, 40)
    full = pointnet(XYZ, num_classes=40)
    assert n_params(full) == vanilla_cls(3, 40) + tnet(3, 3) + tnet(64, 64)
    partseg = pointnet(PARTS, num_classes=50)
    assert n_params(partseg) == vanilla_partseg(6, 50, 16) + tnet(6, 3) + tnet(128, 128)
    per_category = pointnet_vanilla(PartPointsInput(6, 2048, 0), num_classes=4)
    assert n_params(per_category) == vanilla_partseg(6, 4, 0)
    # PointNet paper, Table 6: 0.8M (vanilla) and 3.5M parameters for ModelNet40
    assert round(vanilla_cls(3, 40) / 1e6, 1) == 0.8
    assert round(n_params(full) / 1e6, 1) == 3.5


def test_forward_shapes_and_category_input():
    points = torch.randn(2, 6, 20)
    classifier = pointnet(PointsInput(6, 20), num_classes=7).eval()
    assert classifier(points).shape == (2, 7)
    segmenter = pointnet(PartPointsInput(6, 20, 16), num_classes=50).eval()
    categories = torch.tensor([0, 15])
    assert segmenter(points, categories).shape == (2, 50, 20)
    other = segmenter(points, torch.tensor([1, 15]))
    assert not torch.equal(other[0], segmenter(points, categories)[0])  # the one-hot matters
    with pytest.raises(ValueError, match="category index"):
        segmenter(points)
    for wrong in (ImageInput(3, 32), PointsInput(2, 20)):
        with pytest.raises(IncompatibleError, match=">= 3 channels"):
            pointnet(wrong, num_classes=2)
    with pytest.raises(IncompatibleError, match="aggregation must be one of ema_max, max, mean"):
        pointnet_vanilla(PointsInput(3, 20), num_classes=2, aggregation="sum")


def test_tnets_start_as_the_identity():
    model = pointnet(XYZ, num_classes=5).eval()
    transform = model.feat.stn(torch.randn(3, 3, 10))
    assert torch.equal(transform, torch.eye(3).expand(3, 3, 3))


TNET = ("conv1", "conv2", "conv3", "fc1", "fc2", "fc3")
BINARIZED = {
    ("pointnet", "cls"): {f"feat.stn.{n}" for n in TNET[1:]}
    | {f"feat.fstn.{n}" for n in TNET}
    | {"feat.conv2", "feat.conv3", "fc1", "fc2"},
    ("pointnet_vanilla", "cls"): {"feat.conv2", "feat.conv3", "fc1", "fc2"},
    ("pointnet", "partseg"): {f"stn.{n}" for n in TNET[1:]}
    | {f"fstn.{n}" for n in TNET}
    | {"conv2", "conv3", "conv4", "conv5", "convs1", "convs2", "convs3"},
    ("pointnet_vanilla", "partseg"): {"conv2", "conv3", "conv4", "conv5", "convs1", "convs2",
                                      "convs3"},
}  # fmt: skip
FACTORIES = {"pointnet": pointnet, "pointnet_vanilla": pointnet_vanilla}


INPUTS = {"cls": PointsInput(6, 8), "partseg": PartPointsInput(6, 8, 2)}


@pytest.fixture(scope="module")
def fp32_models():
    torch.manual_seed(0)
    return {
        (arch, head): factory(INPUTS[head], num_classes=5)
        for arch, factory in FACTORIES.items()
        for head in ("cls", "partseg")
    }


def example_input(head: str) -> tuple[torch.Tensor, ...]:
    points = torch.randn(2, 6, 8)
    return (points,) if head == "cls" else (points, torch.tensor([0, 1]))


@pytest.mark.parametrize("algo", ALGOS)
def test_binarized_layers_are_the_official_ones_and_take_fp32_weights(algo, fp32_models):
    for (arch, head), fp32 in fp32_models.items():
        model = copy.deepcopy(fp32)
        for parameter in model.parameters():  # so that loading has something to restore
            nn.init.zeros_(parameter)
        keep = policy(head, arch == "pointnet")
        report = binarize(model, algo, keep, example_input=example_input(head))
        expected = set() if algo == "fp32" else BINARIZED[arch, head]
        assert set(report.binarized) == expected, (arch, head)
        relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
        assert (relus == []) is (algo != "fp32")
        load_fp32_state_dict(model, fp32.state_dict())
        loaded = model.state_dict()
        for key, value in fp32.state_dict().items():
            assert torch.equal(loaded[key], value), (arch, head, key)


@pytest.fixture(scope="module")
def tiny_batch():
    splits, _ = synthetic_modelnet40(train_per_class=2, test_per_class=1, num_points=16)
    points, labels = splits["train"]
    return torch.from_numpy(points[..., :3]).transpose(1, 2).contiguous(), torch.from_numpy(labels)


def loss_after_training(model: nn.Module, points, labels, steps: int = 5) -> tuple[float, float]:
    """Cross-entropy on the batch before and after ``steps`` Adam steps on it (lr 1e-3)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    with torch.no_grad():
        before = nn.functional.cross_entropy(model(points), labels).item()
    for step in range(steps):
        set_progress(model, step / steps)
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(points), labels).backward()
        optimizer.step()
    with torch.no_grad():
        return before, nn.functional.cross_entropy(model(points), labels).item()


@pytest.mark.parametrize(
    ("arch", "algo"),
    [("pointnet_vanilla", algo) for algo in ALGOS]
    + [("pointnet", algo) for algo in ("fp32", *WEIGHT_SCALED)],
)
def test_a_few_adam_steps_lower_the_loss(arch, algo, tiny_batch):
    points, labels = tiny_batch
    torch.manual_seed(0)
    model = FACTORIES[arch](PointsInput(3, points.shape[-1]), num_classes=5)
    binarize(model, algo, policy("cls", arch == "pointnet"), example_input=points)
    before, after = loss_after_training(model, points, labels)
    assert after < 0.5 * before


@pytest.mark.parametrize("algo", sorted(set(ALGOS) - {"fp32", *WEIGHT_SCALED}))
def test_unscaled_algorithms_train_every_parameter_of_the_full_pointnet(algo, tiny_batch):
    """BNN, XNOR++ and ReCU make the T-Nets' k×k outputs ±O(16) after the first step, so a
    tiny PointNet learns slowly with them; check every parameter gets a finite gradient."""
    points, labels = tiny_batch
    model = pointnet(PointsInput(3, points.shape[-1]), num_classes=5)
    binarize(model, algo, policy("cls", True), example_input=points)
    nn.functional.cross_entropy(model(points), labels).backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name
