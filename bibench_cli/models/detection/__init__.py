"""Object detectors of the BiBench detection track, built from torchvision parts.

``faster_rcnn_r18`` (ResNet-18 C4, no FPN) and ``ssd300_vgg16`` return plain torchvision
detectors (``model(images, targets)`` gives the loss dict in training, detections in eval).
Each module declares ``KEEP`` (layers that stay full precision in binarized runs),
``KEEP_ACTIVATIONS`` (ReLUs that stay ReLU) and a loader of ImageNet backbone weights.
"""

from __future__ import annotations

from bibench_cli.models.detection.backbone_weights import BackboneCheckpointError
from bibench_cli.models.detection.faster_rcnn import faster_rcnn_r18
from bibench_cli.models.detection.resnet_c4 import load_imagenet_backbone
from bibench_cli.models.detection.ssd import load_vgg16_backbone, ssd300_vgg16

__all__ = [
    "BackboneCheckpointError",
    "faster_rcnn_r18",
    "load_imagenet_backbone",
    "load_vgg16_backbone",
    "ssd300_vgg16",
]
