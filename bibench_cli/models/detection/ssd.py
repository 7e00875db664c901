"""SSD300 with a VGG16 backbone (no BN): torchvision's ``ssd300_vgg16``, built without weights.

Binarized layers (official BiBench ``SSDVGG``): the 12 VGG convs conv1_2 … conv5_3. Full
precision: conv1_1, fc6 (dilated) and fc7, the extra layers, L2Norm and the heads
(:data:`KEEP`). torchvision nests conv5_x, fc6 and fc7 inside ``backbone.extra[0]``, so
"binarize the backbone" would swap 22 convs, not 12; the patterns below name fc6/fc7
(``extra.0.7``) and the extra layers (``extra.1..4``) explicitly.
Test: NMS 0.45, score 0.02 (the official config; torchvision's default is 0.01), 200
detections per image, 300×300 input.
"""

from __future__ import annotations

from typing import Any

from torchvision.models.detection import ssd300_vgg16 as torchvision_ssd300_vgg16
from torchvision.models.detection.ssd import SSD

KEEP = (
    "backbone.features.0",  # conv1_1
    "backbone.extra.0.7.*",  # fc6 (3×3, dilation 6) and fc7 (1×1)
    "backbone.extra.[1-4].*",  # SSD extra layers
    "head.*",  # classification and regression heads
)

OFFICIAL_OPTIONS: dict[str, Any] = {
    "score_thresh": 0.02,
    "nms_thresh": 0.45,
    "detections_per_img": 200,
}


def ssd300_vgg16(*, num_classes: int, **options: Any) -> SSD:
    """SSD300 VGG16, freshly initialised; ``num_classes`` counts the background.

    ``options`` override torchvision ``SSD`` arguments (e.g. ``topk_candidates``).
    """
    return torchvision_ssd300_vgg16(
        weights=None,
        weights_backbone=None,
        num_classes=num_classes,
        **{**OFFICIAL_OPTIONS, **options},
    )
