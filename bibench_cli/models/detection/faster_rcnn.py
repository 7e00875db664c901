"""Faster R-CNN with a ResNet-18 C4 backbone, no FPN: the official BiBench/mmdet layout.

ResNet-18 stages 1-3 (stride 16, 256 ch) → RPN (anchors 32..512, ratios 0.5/1/2) → RoIAlign
14×14 (sampling_ratio 0) → stage 4 + average pool → class-specific box regression (target
stds 0.1/0.1/0.2/0.2, i.e. torchvision weights 10/10/5/5). Samplers, proposal counts and
test thresholds follow the official config (``resnet18_faster-rcnn.py``); images are resized
keeping their ratio to fit 1000×600. Unlike that config (``requires_grad=False`` BN, stage 1
frozen: pretrained fine-tuning), BatchNorm is plain and every stage trains, as binarized
training needs.

Binarized layers: every conv of ``layer1..4`` (downsample convs included); the stem conv,
the RPN and the predictor stay full precision (:data:`KEEP`). Mind the cost on CPU: the
head runs stage 4 on every sampled RoI (512 per image in training, 1000 at test).
"""

from __future__ import annotations

from typing import Any

from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor
from torchvision.ops import MultiScaleRoIAlign

from bibench_cli.models.detection.resnet_c4 import resnet18_c4

KEEP = ("backbone.conv1", "rpn.*", "roi_heads.box_predictor.*")

ANCHOR_SIZES = (32, 64, 128, 256, 512)
ANCHOR_RATIOS = (0.5, 1.0, 2.0)
ROI_SIZE = 14

OFFICIAL_OPTIONS: dict[str, Any] = {
    "min_size": 600,
    "max_size": 1000,
    "rpn_pre_nms_top_n_train": 12000,
    "rpn_post_nms_top_n_train": 2000,
    "rpn_pre_nms_top_n_test": 6000,
    "rpn_post_nms_top_n_test": 1000,
    "rpn_nms_thresh": 0.7,
    "rpn_batch_size_per_image": 256,
    "rpn_positive_fraction": 0.5,
    "box_batch_size_per_image": 512,
    "box_positive_fraction": 0.25,
    "box_score_thresh": 0.02,
    "box_nms_thresh": 0.5,
    "box_detections_per_img": 100,
    "bbox_reg_weights": (10.0, 10.0, 5.0, 5.0),
}


def faster_rcnn_r18(*, num_classes: int, **options: Any) -> FasterRCNN:
    """The official R18-C4 Faster R-CNN, freshly initialised.

    ``num_classes`` counts the background (21 for VOC, 81 for COCO). ``options`` override
    torchvision ``FasterRCNN`` arguments (e.g. ``min_size``, ``max_size``,
    ``rpn_post_nms_top_n_train``, ``box_batch_size_per_image`` for tiny tests).
    """
    body, head = resnet18_c4()
    return FasterRCNN(
        body,
        num_classes=None,  # given by the predictor
        rpn_anchor_generator=AnchorGenerator((ANCHOR_SIZES,), (ANCHOR_RATIOS,)),
        box_roi_pool=MultiScaleRoIAlign(["0"], output_size=ROI_SIZE, sampling_ratio=0),
        box_head=head,
        box_predictor=FastRCNNPredictor(head.out_channels, num_classes),
        **{**OFFICIAL_OPTIONS, **options},
    )
