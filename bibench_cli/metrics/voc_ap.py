"""PASCAL VOC 2007 detection metric: 11-point interpolated AP at IoU 0.5, per class and mean.

The devkit's rules (``VOCevaldet.m``), which torchmetrics' COCO-style mAP does not follow:

- boxes are inclusive pixel coordinates: widths, heights and intersections get +1;
- detections are taken in descending score order (ties keep their input order); each goes
  to the ground truth it overlaps most; IoU > 0.5 with a not yet matched object is a true
  positive, with an already matched one a false positive (a duplicate), with a
  ``difficult`` object neither (ignored); anything else is a false positive;
- ``difficult`` objects do not count as positives;
- AP = mean over recall r in {0, 0.1, ..., 1} of the highest precision at recall >= r.

The recall points are the exact tenths: the Python ports (py-faster-rcnn, mmdet) take them
from ``np.arange(0, 1.1, 0.1)``, whose 0.30000000000000004, 0.6000000000000001 and
0.7000000000000001 miss a recall of exactly .3, .6 or .7 (a corner case).
A class with no positive (non-difficult) object has no AP (NaN) and is left out of the
mean, as in mmdet; a class with positives but no detections has AP 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor
from torchmetrics import Metric

IOU_THRESHOLD = 0.5
RECALL_POINTS = np.arange(11) / 10

Detections = dict[str, Tensor]  # boxes (N, 4) xyxy, scores (N,), labels (N,)
GroundTruth = dict[str, Tensor]  # boxes (M, 4) xyxy, labels (M,), difficult (M,) bool


def devkit_iou(boxes: np.ndarray, gt_boxes: np.ndarray) -> np.ndarray:
    """IoU matrix (N, M) of inclusive-pixel xyxy boxes: +1 on every side length."""
    low = np.maximum(boxes[:, None, :2], gt_boxes[None, :, :2])
    high = np.minimum(boxes[:, None, 2:], gt_boxes[None, :, 2:])
    inter = np.clip(high - low + 1, 0, None).prod(-1)
    area = (boxes[:, 2:] - boxes[:, :2] + 1).prod(-1)
    gt_area = (gt_boxes[:, 2:] - gt_boxes[:, :2] + 1).prod(-1)
    return inter / (area[:, None] + gt_area[None, :] - inter)


def match_image(
    boxes: np.ndarray, gt_boxes: np.ndarray, difficult: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """True/false-positive flags of one image's detections of one class, given in
    descending score order. Matching state never crosses images, so matching image by
    image equals the devkit's single pass over all detections."""
    tp = np.zeros(len(boxes), dtype=bool)
    fp = np.zeros(len(boxes), dtype=bool)
    if len(gt_boxes) == 0:
        fp[:] = True
        return tp, fp
    overlaps = devkit_iou(boxes, gt_boxes)
    matched = np.zeros(len(gt_boxes), dtype=bool)
    for index, row in enumerate(overlaps):
        best = int(row.argmax())
        if row[best] <= IOU_THRESHOLD:
            fp[index] = True
        elif difficult[best]:
            continue
        elif matched[best]:
            fp[index] = True
        else:
            tp[index] = matched[best] = True
    return tp, fp


def eleven_point_ap(recall: np.ndarray, precision: np.ndarray) -> float:
    """Mean over r in {0, 0.1, ..., 1} of max precision at recall >= r (0 where none)."""
    total = 0.0
    for point in RECALL_POINTS:
        reached = precision[recall >= point]
        total += reached.max() if reached.size else 0.0
    return total / len(RECALL_POINTS)


def class_average_precision(
    detections: Sequence[tuple[np.ndarray, np.ndarray]],
    ground_truths: Sequence[tuple[np.ndarray, np.ndarray]],
) -> float:
    """VOC07 AP of one class: per image (boxes, scores) and (gt boxes, difficult flags)."""
    positives = sum(int((~difficult).sum()) for _, difficult in ground_truths)
    if positives == 0:
        return float("nan")
    scores, tps, fps = [], [], []
    for (boxes, image_scores), (gt_boxes, difficult) in zip(detections, ground_truths, strict=True):
        order = np.argsort(-image_scores, kind="stable")
        tp, fp = match_image(boxes[order], gt_boxes, difficult)
        scores.append(image_scores[order])
        tps.append(tp)
        fps.append(fp)
    order = np.argsort(-np.concatenate(scores), kind="stable")
    tp = np.cumsum(np.concatenate(tps)[order])
    fp = np.cumsum(np.concatenate(fps)[order])
    recall = tp / positives
    precision = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    return eleven_point_ap(recall, precision)


def _numpy(tensor: Tensor, dtype: type) -> np.ndarray:
    return tensor.detach().cpu().numpy().astype(dtype)


def voc07_average_precision(
    detections: Sequence[Detections], ground_truths: Sequence[GroundTruth], num_classes: int
) -> np.ndarray:
    """AP of classes 1..num_classes (label 0 is the background), NaN where no positives.

    ``detections[i]`` and ``ground_truths[i]`` describe the same image.
    """
    if len(detections) != len(ground_truths):
        raise ValueError(f"{len(detections)} detection sets for {len(ground_truths)} images")
    per_class = []
    for label in range(1, num_classes + 1):
        class_detections, class_truths = [], []
        for det, gt in zip(detections, ground_truths, strict=True):
            keep = _numpy(det["labels"], np.int64) == label
            boxes = _numpy(det["boxes"], np.float64).reshape(-1, 4)[keep]
            class_detections.append((boxes, _numpy(det["scores"], np.float64)[keep]))
            is_class = _numpy(gt["labels"], np.int64) == label
            gt_boxes = _numpy(gt["boxes"], np.float64).reshape(-1, 4)[is_class]
            class_truths.append((gt_boxes, _numpy(gt["difficult"], bool)[is_class]))
        per_class.append(class_average_precision(class_detections, class_truths))
    return np.asarray(per_class, dtype=np.float64)


def mean_ap(per_class: np.ndarray) -> float:
    """Mean over the classes that have an AP (NaN if none has)."""
    defined = per_class[~np.isnan(per_class)]
    return float(defined.mean()) if defined.size else float("nan")


class VOC07MeanAP(Metric):
    """Accumulates per-image detections and ground truths; ``compute`` gives the VOC07 mAP
    and per-class APs in percent. Per-image list states keep image boundaries when
    torchmetrics gathers them across processes."""

    full_state_update = False
    _STATES = ("det_boxes", "det_scores", "det_labels", "gt_boxes", "gt_labels", "gt_difficult")

    def __init__(self, num_classes: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_classes = num_classes
        for name in self._STATES:
            self.add_state(name, default=[], dist_reduce_fx=None)

    def update(self, preds: Sequence[Detections], target: Sequence[GroundTruth]) -> None:
        """``preds``: boxes/scores/labels per image; ``target``: boxes/labels/difficult."""
        if len(preds) != len(target):
            raise ValueError(f"{len(preds)} predictions for {len(target)} targets")
        for det, gt in zip(preds, target, strict=True):
            self.det_boxes.append(det["boxes"].detach().reshape(-1, 4))
            self.det_scores.append(det["scores"].detach())
            self.det_labels.append(det["labels"].detach())
            self.gt_boxes.append(gt["boxes"].detach().reshape(-1, 4))
            self.gt_labels.append(gt["labels"].detach())
            self.gt_difficult.append(gt["difficult"].detach())

    def compute(self) -> dict[str, Tensor]:
        detections = [
            {"boxes": b, "scores": s, "labels": lab}
            for b, s, lab in zip(self.det_boxes, self.det_scores, self.det_labels, strict=True)
        ]
        truths = [
            {"boxes": b, "labels": lab, "difficult": d}
            for b, lab, d in zip(self.gt_boxes, self.gt_labels, self.gt_difficult, strict=True)
        ]
        per_class = voc07_average_precision(detections, truths, self.num_classes)
        return {
            "map": torch.tensor(100.0 * mean_ap(per_class)),
            "ap_per_class": torch.from_numpy(100.0 * per_class),
        }
