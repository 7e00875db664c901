"""VGG-Small, the CIFAR network of LQ-Nets (Zhang et al. 2018) used across BNN papers.

Three stages of two 3×3 conv-BN-ReLU layers (128, 256, 512 wide), each stage closed by a
2×2 max-pool, then one linear classifier on the flattened ``512 × (s/8)²`` features. On
3×32×32 CIFAR-10 it has 4,660,106 parameters (the "4.66M" reported for it).
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from bibench_cli.models.inputs import ImageInput, ImageSizes

WIDTHS = (128, 128, 256, 256, 512, 512)
KEEP = {"conv1": "stem", "fc": "classifier"}
VGGSMALL_INPUTS = ImageSizes(
    min_size=8,
    max_size=64,
    multiple=8,
    why="three 2×2 max-pools, and a classifier 512·(image_size/8)² inputs wide",
)


class VGGSmall(nn.Sequential):
    """Layers named conv1..6, bn1..6, relu1..6, pool1..3, flatten, fc, in forward order."""

    def __init__(self, *, num_classes: int, in_channels: int, image_size: int) -> None:
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        in_planes = in_channels
        for index, width in enumerate(WIDTHS, start=1):
            layers[f"conv{index}"] = nn.Conv2d(in_planes, width, 3, padding=1, bias=False)
            layers[f"bn{index}"] = nn.BatchNorm2d(width)
            layers[f"relu{index}"] = nn.ReLU(inplace=True)
            if index % 2 == 0:
                layers[f"pool{index // 2}"] = nn.MaxPool2d(2, stride=2)
            in_planes = width
        layers["flatten"] = nn.Flatten(1)
        layers["fc"] = nn.Linear(in_planes * (image_size // 8) ** 2, num_classes)
        super().__init__(layers)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")


def vggsmall(input: ImageInput, *, num_classes: int) -> VGGSmall:
    """Build VGG-Small for ``input``'s channels and side."""
    VGGSMALL_INPUTS.check("vggsmall", input)
    return VGGSmall(num_classes=num_classes, in_channels=input.channels, image_size=input.size)
