"""Object detectors of the BiBench detection track, built from torchvision parts.

``faster_rcnn_r18`` (ResNet-18 C4, no FPN) and ``ssd300_vgg16`` return plain torchvision
detectors (``model(images, targets)`` gives the loss dict in training, detections in eval);
``FASTER_RCNN_KEEP`` / ``SSD_KEEP`` are the fnmatch patterns of the layers that stay full
precision in binarized runs.
"""

from __future__ import annotations

from bibench_cli.models.detection.faster_rcnn import KEEP as FASTER_RCNN_KEEP
from bibench_cli.models.detection.faster_rcnn import faster_rcnn_r18
from bibench_cli.models.detection.resnet_c4 import BackboneCheckpointError, load_imagenet_backbone
from bibench_cli.models.detection.ssd import KEEP as SSD_KEEP
from bibench_cli.models.detection.ssd import ssd300_vgg16

__all__ = [
    "FASTER_RCNN_KEEP",
    "SSD_KEEP",
    "BackboneCheckpointError",
    "faster_rcnn_r18",
    "load_imagenet_backbone",
    "ssd300_vgg16",
]
