"""ResNet-18 split at C4 for a Faster R-CNN without FPN (the mmdet "C4" layout).

The stem and stages 1-3 run once per image (stride 16, 256 channels) and feed the RPN and
RoIAlign; stage 4 runs on every 14×14 RoI (stride 2 → 7×7) and is average-pooled: the
shared head of the R-CNN. Both parts are bibench's own ResNet-18 modules (plain trainable
BatchNorm, one ReLU module per use site), so an ImageNet ResNet-18 state_dict (bibench's
``model.pt`` of an ImageNet run or torchvision's ``resnet18``: same keys) loads into them by
renaming.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from bibench_cli.models.detection.backbone_weights import load_backbone
from bibench_cli.models.inputs import ImageInput
from bibench_cli.models.resnet import ResNet, resnet18

IMAGENET_INPUT = ImageInput(3, 224)  # builds the ImageNet stem (7×7 stride-2 conv + max-pool)
C4_CHANNELS = 256
C5_CHANNELS = 512
HEAD_PREFIX = "roi_heads.box_head."
BACKBONE_PREFIX = "backbone."
EXPECTED = (
    "an ImageNet ResNet-18 state_dict: bibench's model.pt of an FP32 imagenet resnet18 run or "
    "torchvision's resnet18 weights (a CIFAR-stem model does not fit)"
)


class ResNetC4(nn.Module):
    """Stem + stages 1-3 of ResNet-18: the per-image feature map (stride 16, 256 channels)."""

    out_channels = C4_CHANNELS  # FasterRCNN reads it to size the RPN head

    def __init__(self, resnet: ResNet) -> None:
        super().__init__()
        for name in ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3"):
            self.add_module(name, getattr(resnet, name))  # same names as in the ResNet

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer3(self.layer2(self.layer1(x)))


class ResNetC5Head(nn.Module):
    """Stage 4 on each RoI feature (14×14 → 7×7) and a global average pool: 512 per RoI."""

    out_channels = C5_CHANNELS

    def __init__(self, resnet: ResNet) -> None:
        super().__init__()
        self.layer4 = resnet.layer4
        self.avgpool = nn.AdaptiveAvgPool2d(1)

    def forward(self, rois: Tensor) -> Tensor:
        return torch.flatten(self.avgpool(self.layer4(rois)), 1)


def _imagenet_resnet18() -> ResNet:
    return resnet18(IMAGENET_INPUT, num_classes=1000)


def resnet18_c4() -> tuple[ResNetC4, ResNetC5Head]:
    """A freshly initialised ImageNet-layout ResNet-18, split into C4 body and C5 head."""
    resnet = _imagenet_resnet18()
    return ResNetC4(resnet), ResNetC5Head(resnet)


def detector_key(resnet_key: str) -> str:
    """Where a ResNet-18 body key (``fc`` excluded) lives in the detector."""
    prefix = HEAD_PREFIX if resnet_key.startswith("layer4.") else BACKBONE_PREFIX
    return prefix + resnet_key


def load_imagenet_backbone(detector: nn.Module, path: str | Path, heads: tuple = ()) -> str:
    """Copy an ImageNet ResNet-18 state_dict file into a C4 detector's body and head.

    Stem and stages 1-3 go to ``backbone``, stage 4 to ``roi_heads.box_head``; the
    classifier ``fc`` is dropped. The RPN and the box predictor keep their initialisation
    (``heads`` is not consulted: a backbone file has no detection head at all). Returns a
    one-line note of what was loaded.
    """
    reference = {
        k: v for k, v in _imagenet_resnet18().state_dict().items() if not k.startswith("fc.")
    }
    count = load_backbone(
        detector, path, reference, detector_key, ignored=("fc.",), expected=EXPECTED
    )
    return f"{count} ImageNet ResNet-18 tensors (stem, stages 1-4); RPN and predictor fresh"
