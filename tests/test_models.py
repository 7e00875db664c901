"""Full-precision architectures: published parameter counts, layouts, shapes, rejections."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from bibench_cli import catalog
from bibench_cli.models import (
    IncompatibleError,
    UnknownArchitectureError,
    build_model,
    check_compatible,
    get_architecture,
    list_architectures,
)
from bibench_cli.models.inputs import ImageInput, InputSpec, TaskShape


def build(arch: str, *, num_classes: int, in_channels: int, image_size: int) -> nn.Module:
    shape = TaskShape(ImageInput(in_channels, image_size), {"num_classes": num_classes})
    return build_model(arch, shape)


class Points(InputSpec):
    kind = "points"

    def describe(self) -> str:
        return "points input"


ARCHS = ("resnet20", "resnet18", "resnet34", "vggsmall")
# (in_channels, image_size, num_classes) of the digits, CIFAR-10 and ImageNet tasks
TASK_INPUTS = {"digits": (1, 8, 10), "cifar10": (3, 32, 10), "imagenet": (3, 224, 1000)}


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(
    ("arch", "num_classes", "image_size", "published"),
    [
        # He et al. 2016 ResNet-20 (0.27M) with 1×1-conv projection shortcuts ("option B"):
        # 269,722 with the parameter-free option A plus 2,752 for the two projections.
        ("resnet20", 10, 32, 272_474),
        # torchvision's published figures for resnet18 / resnet34 (ImageNet, 1000 classes).
        ("resnet18", 1000, 224, 11_689_512),
        ("resnet34", 1000, 224, 21_797_672),
        # VGG-Small on CIFAR-10: "4.66M" params (e.g. the BiPer README, github.com/edmav4/BiPer,
        # CIFAR-10 table, after ReCU's/IR-Net's vgg_small); exact sum of its layers below.
        ("vggsmall", 10, 32, 4_660_106),
    ],
)
def test_parameter_counts_match_published(arch, num_classes, image_size, published):
    model = build(arch, num_classes=num_classes, in_channels=3, image_size=image_size)
    assert n_params(model) == published


def test_resnet18_uses_torchvision_parameter_names():
    keys = set(build("resnet18", num_classes=1000, in_channels=3, image_size=224).state_dict())
    for key in (
        "conv1.weight",
        "bn1.running_var",
        "layer1.0.conv1.weight",
        "layer1.1.bn2.bias",
        "layer2.0.downsample.0.weight",
        "layer2.0.downsample.1.running_mean",
        "layer4.1.conv2.weight",
        "fc.weight",
        "fc.bias",
    ):
        assert key in keys
    assert not any("layer1.0.downsample" in key for key in keys)


@pytest.mark.parametrize(("image_size", "kernel", "pooled"), [(64, 3, False), (65, 7, True)])
def test_resnet18_stem_follows_image_size(image_size, kernel, pooled):
    model = build("resnet18", num_classes=10, in_channels=3, image_size=image_size)
    assert model.conv1.kernel_size == (kernel, kernel)
    assert isinstance(model.maxpool, nn.MaxPool2d) is pooled


@pytest.mark.parametrize(
    ("arch", "task"),
    # VGG-Small is left out of ImageNet: it rejects 224 px (test_incompatible_inputs_rejected).
    [(a, t) for a in ARCHS for t in TASK_INPUTS if (a, t) != ("vggsmall", "imagenet")],
)
def test_forward_shape_on_each_task_input(arch, task):
    in_channels, image_size, num_classes = TASK_INPUTS[task]
    model = build(arch, num_classes=num_classes, in_channels=in_channels, image_size=image_size)
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(2, in_channels, image_size, image_size))
    assert out.shape == (2, num_classes)


@pytest.mark.parametrize("arch", ARCHS)
def test_layout_conventions_for_binarizers(arch):
    """Stem ``conv1`` first, classifier ``fc`` last, bias-free convs, one ReLU per use site."""
    model = build(arch, num_classes=10, in_channels=3, image_size=32)
    convs = [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    linears = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    assert convs[0] == "conv1" and linears == ["fc"]
    assert list(model.named_modules())[-1][0] == "fc"
    assert all(m.bias is None for m in model.modules() if isinstance(m, nn.Conv2d))
    calls: dict[str, int] = {}
    for name, module in model.named_modules():
        if isinstance(module, nn.ReLU):
            calls[name] = 0
            module.register_forward_hook(
                lambda m, i, o, name=name: calls.__setitem__(name, calls[name] + 1)
            )
    assert not any(isinstance(m, nn.Hardtanh) for m in model.modules())
    model.eval()
    with torch.no_grad():
        model(torch.randn(2, 3, 32, 32))
    assert calls and set(calls.values()) == {1}


@pytest.mark.parametrize(
    ("arch", "spec", "needle"),
    [
        ("vggsmall", ImageInput(3, 224), "image_size 8..64, a multiple of 8"),
        ("vggsmall", ImageInput(3, 12), "3×12×12"),
        ("vggsmall", ImageInput(1, 4), "1×4×4"),
        ("resnet20", Points(), "points input"),
        ("resnet18", ImageInput(0, 32), "0×32×32"),
    ],
)
def test_incompatible_inputs_rejected(arch, spec, needle):
    with pytest.raises(IncompatibleError) as caught:
        check_compatible(arch, spec)
    message = str(caught.value)
    assert "\n" not in message and repr(arch) in message and needle in message
    with pytest.raises(IncompatibleError, match="compatible with"):  # building: the same line
        build_model(arch, TaskShape(spec, {"num_classes": 10}))


def test_compatible_inputs_pass():
    check_compatible("vggsmall", ImageInput(1, 8))
    check_compatible("resnet34", ImageInput(3, 224))


def test_registry_lists_names_and_the_yaml_gives_families():
    assert set(ARCHS) <= set(list_architectures())
    assert {catalog.arch_family(arch) for arch in ARCHS} == {"cnn"}
    assert all(catalog.list_options("arch")[arch] for arch in ARCHS)


@pytest.mark.parametrize("arch", ARCHS)
def test_declared_keep_patterns_name_the_stem_and_classifier(arch):
    assert get_architecture(arch).keep == {"conv1": "stem", "fc": "classifier"}


def test_unknown_architecture_names_the_known_ones():
    with pytest.raises(UnknownArchitectureError) as caught:
        build("resnet50", num_classes=10, in_channels=3, image_size=32)
    message = str(caught.value)
    assert "'resnet50'" in message and "resnet20" in message and "vggsmall" in message
