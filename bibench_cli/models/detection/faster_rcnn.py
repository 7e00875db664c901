"""Faster R-CNN with a ResNet-18 C4 backbone, no FPN: the official BiBench/mmdet layout.

ResNet-18 stages 1-3 (stride 16, 256 ch) → RPN (anchors 32..512, ratios 0.5/1/2) → RoIAlign
14×14 (sampling_ratio 0) → stage 4 + average pool → class-specific box regression (target
stds 0.1/0.1/0.2/0.2, i.e. torchvision weights 10/10/5/5). Samplers, proposal counts and
test thresholds follow the official config (``resnet18_faster-rcnn.py``); images are resized
keeping their ratio to fit ``max_size``×``min_size`` (1000×600). Unlike that config
(``requires_grad=False`` BN, stage 1 frozen: pretrained fine-tuning), BatchNorm is plain and
every stage trains, as binarized training needs.

Every batch is padded to one square canvas (``max_size`` rounded up to a multiple of 32)
instead of mmdet's per-batch multiple of 32, so every image reaches the binarized layers in
one geometry: XNOR++'s Γ (one factor per output row and column) is then defined for every
batch, and FP32 and binarized runs see the same inputs. It costs about 4 % more in training
(the stage-4 head on 512 RoIs per image dominates, and it is unaffected).

Binarized layers: every conv of ``layer1..4`` (downsample convs included); the stem conv,
the RPN and the predictor stay full precision (:data:`KEEP`), and so does the RPN's ReLU
(:data:`KEEP_ACTIVATIONS`). Mind the cost on CPU: the head runs stage 4 on every sampled
RoI (512 per image in training, 1000 at test).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor
from torchvision.ops import MultiScaleRoIAlign

from bibench_cli.models.detection.resnet_c4 import resnet18_c4
from bibench_cli.models.inputs import DetectionInput

KEEP = {
    "backbone.conv1": "stem",
    "rpn.*": "RPN head",
    "roi_heads.box_predictor.*": "box classifier and regressor",
}
KEEP_ACTIVATIONS = {"rpn.*": "RPN head"}

ANCHOR_SIZES = (32, 64, 128, 256, 512)
ANCHOR_RATIOS = (0.5, 1.0, 2.0)
ROI_SIZE = 14
STRIDE_ALIGNMENT = 32  # the canvas stays a multiple of the backbone's total stride

OFFICIAL_OPTIONS: dict[str, Any] = {
    "rpn_nms_thresh": 0.7,
    "rpn_batch_size_per_image": 256,
    "rpn_positive_fraction": 0.5,
    "box_positive_fraction": 0.25,
    "box_score_thresh": 0.02,
    "box_nms_thresh": 0.5,
    "box_detections_per_img": 100,
    "bbox_reg_weights": (10.0, 10.0, 5.0, 5.0),
}


def canvas_side(max_size: int) -> int:
    """The side of the square every batch is padded to."""
    return math.ceil(max_size / STRIDE_ALIGNMENT) * STRIDE_ALIGNMENT


def faster_rcnn_r18(
    input: DetectionInput,
    *,
    num_classes: int,
    min_size: int = 600,
    max_size: int = 1000,
    rpn_pre_nms_top_n_train: int = 12000,
    rpn_post_nms_top_n_train: int = 2000,
    rpn_pre_nms_top_n_test: int = 6000,
    rpn_post_nms_top_n_test: int = 1000,
    box_batch_size_per_image: int = 512,
) -> FasterRCNN:
    """The official R18-C4 Faster R-CNN, freshly initialised.

    ``num_classes`` counts the background (21 for VOC, 81 for COCO). The keyword options
    (``arch.params``) are the image scale and the proposal and RoI-sample counts, the
    official values by default; smaller ones make CPU demos and tests fast.
    """
    body, head = resnet18_c4()
    return FasterRCNN(
        body,
        num_classes=None,  # given by the predictor
        min_size=min_size,
        max_size=max_size,
        size_divisible=canvas_side(max_size),
        rpn_anchor_generator=AnchorGenerator((ANCHOR_SIZES,), (ANCHOR_RATIOS,)),
        rpn_pre_nms_top_n_train=rpn_pre_nms_top_n_train,
        rpn_post_nms_top_n_train=rpn_post_nms_top_n_train,
        rpn_pre_nms_top_n_test=rpn_pre_nms_top_n_test,
        rpn_post_nms_top_n_test=rpn_post_nms_top_n_test,
        box_roi_pool=MultiScaleRoIAlign(["0"], output_size=ROI_SIZE, sampling_ratio=0),
        box_head=head,
        box_predictor=FastRCNNPredictor(head.out_channels, num_classes),
        box_batch_size_per_image=box_batch_size_per_image,
        **OFFICIAL_OPTIONS,
    )


@contextmanager
def every_proposal(model: FasterRCNN) -> Iterator[None]:
    """The RPN's NMS off while a model is counted, so the box head runs on its whole test
    budget of proposals (``rpn_post_nms_top_n_test``, 1000 officially) whatever the
    weights propose: the count is then the same for every algorithm (mmdet's get_flops
    likewise feeds the R-CNN head 1000 proposals)."""
    saved = model.rpn.nms_thresh
    model.rpn.nms_thresh = 1.0  # suppress only above IoU 1: nothing
    try:
        yield
    finally:
        model.rpn.nms_thresh = saved
