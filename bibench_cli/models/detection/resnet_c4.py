"""ResNet-18 split at C4 for a Faster R-CNN without FPN (the mmdet "C4" layout).

The stem and stages 1-3 run once per image (stride 16, 256 channels) and feed the RPN and
RoIAlign; stage 4 runs on every 14×14 RoI (stride 2 → 7×7) and is average-pooled: the
shared head of the R-CNN. Both parts are bibench's own ResNet-18 modules (plain trainable
BatchNorm, one ReLU module per use site), so an ImageNet ResNet-18 state_dict (bibench's
``model.pt`` or torchvision's ``resnet18``: same keys) loads into them by renaming.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from bibench_cli.errors import BibenchError
from bibench_cli.models.resnet import ResNet, resnet18

IMAGENET_SIZE = 224  # builds the ImageNet stem (7×7 stride-2 conv + max-pool)
C4_CHANNELS = 256
C5_CHANNELS = 512
HEAD_PREFIX = "roi_heads.box_head."
BACKBONE_PREFIX = "backbone."
WHERE_TO_GET = (
    "a full-precision ImageNet ResNet-18 state_dict: bibench's model.pt of an imagenet "
    "resnet18 run or torchvision's resnet18 weights"
)


class BackboneCheckpointError(BibenchError, ValueError):
    """A file given as ImageNet ResNet-18 weights is not such a state_dict."""


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
    return resnet18(num_classes=1000, in_channels=3, image_size=IMAGENET_SIZE)


def resnet18_c4() -> tuple[ResNetC4, ResNetC5Head]:
    """A freshly initialised ImageNet-layout ResNet-18, split into C4 body and C5 head."""
    resnet = _imagenet_resnet18()
    return ResNetC4(resnet), ResNetC5Head(resnet)


def detector_key(resnet_key: str) -> str | None:
    """Where a ResNet-18 state_dict key lives in the detector (None for the classifier)."""
    if resnet_key.startswith("fc."):
        return None
    prefix = HEAD_PREFIX if resnet_key.startswith("layer4.") else BACKBONE_PREFIX
    return prefix + resnet_key


def _read_state_dict(path: Path) -> dict[str, Tensor]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise BackboneCheckpointError(
            f"backbone weights {path} not found; expected {WHERE_TO_GET}"
        ) from None
    except Exception as error:  # torch.load raises many types for foreign files
        raise BackboneCheckpointError(
            f"cannot read {path} as a torch state_dict ({type(error).__name__}); "
            f"expected {WHERE_TO_GET}"
        ) from None
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise BackboneCheckpointError(
            f"{path} holds a {type(state).__name__}, not a state_dict of tensors; "
            f"expected {WHERE_TO_GET}"
        )
    return state


def _check_resnet18(path: Path, state: dict[str, Tensor]) -> None:
    """Same keys and shapes as an ImageNet ResNet-18, or a one-line error saying what differs."""
    reference = _imagenet_resnet18().state_dict()
    missing = sorted(set(reference) - set(state))
    unexpected = sorted(set(state) - set(reference))
    if missing or unexpected:
        raise BackboneCheckpointError(
            f"{path} is not a full-precision ResNet-18 state_dict: {len(missing)} keys missing "
            f"(e.g. {missing[:3]}), {len(unexpected)} unexpected (e.g. {unexpected[:3]}); "
            f"expected {WHERE_TO_GET}"
        )
    for key, tensor in reference.items():
        if state[key].shape != tensor.shape:
            raise BackboneCheckpointError(
                f"{path}: {key} has shape {tuple(state[key].shape)}, an ImageNet ResNet-18 has "
                f"{tuple(tensor.shape)} (a CIFAR-stem model does not fit); expected {WHERE_TO_GET}"
            )


def load_imagenet_backbone(detector: nn.Module, path: str | Path) -> None:
    """Copy an ImageNet ResNet-18 state_dict file into a C4 detector's body and head.

    Stem and stages 1-3 go to ``backbone``, stage 4 to ``roi_heads.box_head``; the
    classifier ``fc`` is dropped. Everything else (RPN, predictor) keeps its initialisation.
    """
    path = Path(path)
    state = _read_state_dict(path)
    _check_resnet18(path, state)
    renamed = {detector_key(k): v for k, v in state.items() if detector_key(k) is not None}
    absent = sorted(set(renamed) - set(detector.state_dict()))
    if absent:
        raise BackboneCheckpointError(
            f"the detector has no {absent[:3]}: load_imagenet_backbone expects a ResNet-18 C4 "
            "Faster R-CNN (faster_rcnn_r18)"
        )
    detector.load_state_dict(renamed, strict=False)
