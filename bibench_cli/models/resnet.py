"""ResNets with basic blocks: ResNet-20 (CIFAR) and ResNet-18/34 (torchvision layout).

One class covers both families; they differ only in stage widths, blocks per stage and the
stem. The stem follows the input size: 3×3 stride-1 conv without max-pool for small images
(as in the CIFAR ResNets and the official BiBench ``ResNet_CIFAR``), 7×7 stride-2 conv +
3×3 max-pool for ImageNet-size ones. Every stage after the first halves the resolution with
padded stride-2 convs and a global average pool ends the network, so any image side >= 1 goes
through; the only inputs rejected are non-images.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from bibench_cli.models.basic_block import BasicBlock
from bibench_cli.models.inputs import ImageInput

SMALL_STEM_MAX_SIZE = 64  # images up to this side get the CIFAR stem
# Full precision in binarized runs (paper A.6): the stem conv and the classifier.
KEEP = {"conv1": "stem", "fc": "classifier"}


class ResNet(nn.Module):
    """Stem (conv1, bn1, relu, maxpool), ``layer1..N`` of basic blocks, avgpool, ``fc``."""

    def __init__(
        self,
        *,
        widths: Sequence[int],
        depths: Sequence[int],
        num_classes: int,
        in_channels: int,
        small_stem: bool,
    ) -> None:
        super().__init__()
        stem_width = widths[0]
        if small_stem:
            self.conv1 = nn.Conv2d(in_channels, stem_width, 3, stride=1, padding=1, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_channels, stem_width, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem_width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.Identity() if small_stem else nn.MaxPool2d(3, stride=2, padding=1)
        in_planes = stem_width
        for index, (width, depth) in enumerate(zip(widths, depths, strict=True)):
            stride = 1 if index == 0 else 2
            blocks = [BasicBlock(in_planes, width, stride)]
            blocks += [BasicBlock(width, width) for _ in range(depth - 1)]
            self.add_module(f"layer{index + 1}", nn.Sequential(*blocks))
            in_planes = width
        self.num_stages = len(widths)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_planes, num_classes)
        _init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for index in range(self.num_stages):
            x = getattr(self, f"layer{index + 1}")(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


def _init_weights(model: nn.Module) -> None:
    """torchvision's initialisation: He-normal (fan-out) convs, BN scale 1 and shift 0."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)


def resnet20(input: ImageInput, *, num_classes: int) -> ResNet:
    """ResNet-20 for CIFAR (He et al. 2016, sec. 4.2): 3 stages of 3 blocks, 16/32/64 wide."""
    return ResNet(
        widths=(16, 32, 64),
        depths=(3, 3, 3),
        num_classes=num_classes,
        in_channels=input.channels,
        small_stem=True,
    )


def resnet18(input: ImageInput, *, num_classes: int) -> ResNet:
    """ResNet-18: 4 stages of 2 blocks, 64..512 wide; stem chosen from ``image_size``."""
    return ResNet(
        widths=(64, 128, 256, 512),
        depths=(2, 2, 2, 2),
        num_classes=num_classes,
        in_channels=input.channels,
        small_stem=input.size <= SMALL_STEM_MAX_SIZE,
    )


def resnet34(input: ImageInput, *, num_classes: int) -> ResNet:
    """ResNet-34: stages of 3/4/6/3 blocks, 64..512 wide; stem chosen from ``image_size``."""
    return ResNet(
        widths=(64, 128, 256, 512),
        depths=(3, 4, 6, 3),
        num_classes=num_classes,
        in_channels=input.channels,
        small_stem=input.size <= SMALL_STEM_MAX_SIZE,
    )
