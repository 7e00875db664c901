"""SSD300 with a VGG16 backbone (no BN): torchvision's ``ssd300_vgg16``, built without weights.

Binarized layers (official BiBench ``SSDVGG``): the 12 VGG convs conv1_2 … conv5_3. Full
precision: conv1_1, fc6 (dilated) and fc7, the extra layers, L2Norm and the heads
(:data:`KEEP`); the ReLUs of fc6/fc7 and of the extra layers stay ReLU
(:data:`KEEP_ACTIVATIONS`). torchvision nests conv5_x, fc6 and fc7 inside
``backbone.extra[0]``, so "binarize the backbone" would swap 22 convs, not 12; the patterns
below name fc6/fc7 (``extra.0.7``) and the extra layers (``extra.1..4``) explicitly.
Test: NMS 0.45, score 0.02 (the official config; torchvision's default is 0.01), 200
detections per image; images are resized to 300×300 (no keep-ratio, as in the official
config).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torchvision.models.detection import ssd300_vgg16 as torchvision_ssd300_vgg16
from torchvision.models.detection.ssd import SSD
from torchvision.models.vgg import cfgs, make_layers

from bibench_cli.models.detection.backbone_weights import load_backbone
from bibench_cli.models.inputs import DetectionInput

KEEP = {
    "backbone.features.0": "conv1_1 (stem)",
    "backbone.extra.0.7.*": "fc6 (3×3, dilation 6) and fc7 (1×1)",
    "backbone.extra.[1-4].*": "SSD extra layers",
    "head.*": "classification and regression heads",
}
KEEP_ACTIVATIONS = {
    "backbone.extra.0.7.*": "fc6/fc7",
    "backbone.extra.[1-4].*": "SSD extra layers",
}

OFFICIAL_OPTIONS: dict[str, Any] = {
    "score_thresh": 0.02,
    "nms_thresh": 0.45,
    "detections_per_img": 200,
}
# torchvision VGG16 ``features`` index -> SSD module: conv1_1 … conv4_3 keep their place,
# conv5_1..5_3 (features 24, 26, 28) sit in extra[0] after the pool4 at extra.0.0.
CONV5_OFFSET = 23
FEATURES_END = 23
EXPECTED = "an ImageNet VGG16 state_dict: torchvision's vgg16 or vgg16_features weights"


def ssd300_vgg16(input: DetectionInput, *, num_classes: int) -> SSD:
    """SSD300 VGG16, freshly initialised; ``num_classes`` counts the background."""
    return torchvision_ssd300_vgg16(
        weights=None, weights_backbone=None, num_classes=num_classes, **OFFICIAL_OPTIONS
    )


def detector_key(vgg_key: str) -> str:
    """Where a torchvision VGG16 ``features.N.*`` key lives in the SSD."""
    _, index, leaf = vgg_key.split(".")
    if int(index) < FEATURES_END:
        return f"backbone.features.{index}.{leaf}"
    return f"backbone.extra.0.{int(index) - CONV5_OFFSET}.{leaf}"


def load_vgg16_backbone(detector: SSD, path: str | Path, heads: tuple = ()) -> str:
    """Copy an ImageNet VGG16 state_dict file's 13 convs into the SSD's VGG body.

    The classifier (torchvision's ``classifier.*``) is dropped; fc6, fc7, the extra layers
    and the heads keep their initialisation (``heads`` is not consulted: a backbone file has
    no detection head). Returns a one-line note of what was loaded.
    """
    reference = {f"features.{k}": v for k, v in make_layers(cfgs["D"]).state_dict().items()}
    count = load_backbone(
        detector, path, reference, detector_key, ignored=("classifier.",), expected=EXPECTED
    )
    return f"{count} ImageNet VGG16 tensors (conv1_1 … conv5_3); fc6/fc7, extras, heads fresh"
