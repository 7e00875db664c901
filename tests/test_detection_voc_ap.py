"""VOC07 11-point AP: hand-worked cases, and a cross-check against py-faster-rcnn's voc_eval."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from bibench_cli.metrics.voc_ap import VOC07MeanAP, devkit_iou, voc07_average_precision


def dets(boxes, scores, labels=None) -> dict[str, torch.Tensor]:
    labels = [1] * len(scores) if labels is None else labels
    return {
        "boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
        "scores": torch.tensor(scores, dtype=torch.float32),
        "labels": torch.tensor(labels, dtype=torch.int64),
    }


def truth(boxes, difficult=None, labels=None) -> dict[str, torch.Tensor]:
    labels = [1] * len(boxes) if labels is None else labels
    difficult = [False] * len(boxes) if difficult is None else difficult
    return {
        "boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
        "labels": torch.tensor(labels, dtype=torch.int64),
        "difficult": torch.tensor(difficult, dtype=torch.bool),
    }


def ap_of_class_1(detections, truths) -> float:
    return float(voc07_average_precision(detections, truths, num_classes=1)[0])


def test_devkit_iou_adds_one_pixel_per_side():
    # 4×4 pixel boxes shifted by one: intersection 3×4 = 12, union 16 + 16 - 12 = 20
    iou = devkit_iou(np.array([[0.0, 0, 3, 3]]), np.array([[1.0, 0, 4, 3]]))
    assert iou[0, 0] == pytest.approx(0.6)


def test_plus_one_pixel_decides_a_match():
    # IoU 0.6 with the devkit's +1, exactly 0.5 (no match: IoU must exceed 0.5) without it
    ap = ap_of_class_1([dets([[0, 0, 3, 3]], [0.9])], [truth([[1, 0, 4, 3]])])
    assert ap == pytest.approx(1.0)


def test_iou_of_exactly_one_half_is_not_a_match():
    # 10×10 detection inside a 10×20 object: IoU 100 / 200 = 0.5, not > 0.5
    ap = ap_of_class_1([dets([[0, 0, 9, 9]], [0.9])], [truth([[0, 0, 9, 19]])])
    assert ap == 0.0


def test_hand_worked_curve_with_difficult_duplicate_and_miss():
    """Four positives (g1, g2, g4, g5), g3 difficult, g2 never found. In score order:
    d1 TP (g1) | d2 FP (no overlap) | d3 TP (g4) | d4 ignored (difficult g3) |
    d5 FP (IoU 90/110 with the already matched g1) | d6 TP (g5).
    (recall, precision): (.25, 1) (.25, .5) (.5, 2/3) (.5, 2/3) (.5, .5) (.75, .6).
    Max precision at recall >= r: 1 for r = 0, .1, .2; 2/3 for .3, .4, .5; .6 for .6, .7;
    0 for .8, .9, 1. AP = (3 + 3 * 2/3 + 2 * .6) / 11 = 6.2 / 11."""
    truths = [
        truth([[0, 0, 9, 9], [20, 20, 29, 29], [40, 40, 49, 49]], difficult=[False, False, True]),
        truth([[0, 0, 9, 9], [50, 50, 59, 59]]),
    ]
    detections = [
        dets(
            [[0, 0, 9, 9], [60, 60, 69, 69], [40, 40, 49, 49], [1, 0, 10, 9]],
            [0.9, 0.8, 0.6, 0.5],
        ),
        dets([[0, 0, 9, 9], [50, 50, 59, 59]], [0.7, 0.4]),
    ]
    assert ap_of_class_1(detections, truths) == pytest.approx(6.2 / 11)


def test_best_overlap_already_matched_is_a_false_positive():
    """The devkit matches each detection to the object it overlaps most; if that one is
    taken the detection is a false positive, even though g2 (IoU 100/110) is still free
    (COCO matching would take g2). (recall, precision): (.5, 1), (.5, .5) → AP = 6 / 11."""
    detections = [dets([[0, 0, 9, 9], [0, 0, 9, 9]], [0.9, 0.8])]
    truths = [truth([[0, 0, 9, 9], [0, 0, 9, 10]])]
    assert ap_of_class_1(detections, truths) == pytest.approx(6 / 11)


def test_recall_points_are_exact_tenths():
    """10 positives; 3 TPs, 1 FP, 1 TP: recall .1 .2 .3 .3 .4, precision 1 1 1 .75 .8.
    At r = 0.3 the max precision is 1 (a recall of exactly 0.3 counts): AP = (4 + .8) / 11."""
    gts = [[20 * i, 0, 20 * i + 9, 9] for i in range(10)]
    found = [gts[0], gts[1], gts[2], [500, 500, 509, 509], gts[3]]
    detections = [dets(found, [0.9, 0.8, 0.7, 0.6, 0.5])]
    assert ap_of_class_1(detections, [truth(gts)]) == pytest.approx(4.8 / 11)


def test_detections_of_difficult_objects_are_neither_true_nor_false_positives():
    """Positives g1, g2 (g2 missed) and a difficult g0 found first. Ignored: (recall,
    precision) (0, 0), (.5, 1) → AP = 6 / 11. (As a false positive it would give 3 / 11,
    as a true positive 1.)"""
    truths = [truth([[0, 0, 9, 9], [30, 30, 39, 39], [60, 60, 69, 69]], [True, False, False])]
    detections = [dets([[0, 0, 9, 9], [30, 30, 39, 39]], [0.9, 0.8])]
    assert ap_of_class_1(detections, truths) == pytest.approx(6 / 11)


def test_classes_without_positives_or_detections():
    """Class 1 found perfectly; class 2 has positives and no detections (AP 0); class 3 has
    only a difficult object (no AP, left out of the mean); mAP = (100 + 0) / 2."""
    truths = [truth([[0, 0, 9, 9], [20, 20, 29, 29], [40, 40, 49, 49]], [0, 0, 1], [1, 2, 3])]
    detections = [dets([[0, 0, 9, 9]], [0.9], [1])]
    metric = VOC07MeanAP(num_classes=3)
    metric.update(detections, truths)
    result = metric.compute()
    assert result["ap_per_class"][:2].tolist() == [100.0, 0.0]
    assert math.isnan(result["ap_per_class"][2])
    assert result["map"].item() == pytest.approx(50.0)


def test_detections_in_images_without_objects_are_false_positives():
    truths = [truth([[0, 0, 9, 9]]), truth([])]
    detections = [dets([[0, 0, 9, 9]], [0.5]), dets([[0, 0, 9, 9]], [0.9])]
    # FP then TP: (recall, precision) (0, 0), (1, .5) → AP = .5
    assert ap_of_class_1(detections, truths) == pytest.approx(0.5)


def test_metric_accumulates_batches_like_one_call():
    rng = np.random.default_rng(0)
    detections, truths = random_scenes(rng, images=8, classes=3)
    whole = VOC07MeanAP(num_classes=3)
    whole.update(detections, truths)
    batched = VOC07MeanAP(num_classes=3)
    for start in range(0, 8, 3):
        batched.update(detections[start : start + 3], truths[start : start + 3])
    expected = whole.compute()
    got = batched.compute()
    assert got["map"].item() == pytest.approx(expected["map"].item())
    assert 0 < got["map"].item() < 100


# --- cross-check against the devkit's rules as ported in py-faster-rcnn --------------------


def py_faster_rcnn_voc_eval(detections, truths, label: int) -> float:
    """rbgirshick/py-faster-rcnn lib/datasets/voc_eval.py (``voc_eval`` + ``voc_ap`` with
    ``use_07_metric=True``), transcribed for in-memory inputs; precision uses the
    np.maximum(tp + fp, eps) guard of its later versions."""
    class_recs, npos = {}, 0
    for image, gt in enumerate(truths):
        keep = gt["labels"].numpy() == label
        difficult = gt["difficult"].numpy()[keep]
        class_recs[image] = {
            "bbox": gt["boxes"].numpy()[keep].astype(float),
            "difficult": difficult,
            "det": [False] * int(keep.sum()),
        }
        npos = npos + sum(~difficult)
    image_ids, confidence, bb_rows = [], [], []
    for image, det in enumerate(detections):
        keep = det["labels"].numpy() == label
        image_ids += [image] * int(keep.sum())
        confidence += det["scores"].numpy()[keep].tolist()
        bb_rows += det["boxes"].numpy()[keep].tolist()
    sorted_ind = np.argsort(-np.array(confidence))
    BB = np.array(bb_rows).reshape(-1, 4)[sorted_ind, :]  # noqa: N806 (reference's names)
    image_ids = [image_ids[x] for x in sorted_ind]
    nd = len(image_ids)
    tp, fp = np.zeros(nd), np.zeros(nd)
    for d in range(nd):
        R = class_recs[image_ids[d]]  # noqa: N806
        bb = BB[d, :].astype(float)
        ovmax = -np.inf
        BBGT = R["bbox"]  # noqa: N806
        if BBGT.size > 0:
            ixmin = np.maximum(BBGT[:, 0], bb[0])
            iymin = np.maximum(BBGT[:, 1], bb[1])
            ixmax = np.minimum(BBGT[:, 2], bb[2])
            iymax = np.minimum(BBGT[:, 3], bb[3])
            iw = np.maximum(ixmax - ixmin + 1.0, 0.0)
            ih = np.maximum(iymax - iymin + 1.0, 0.0)
            inters = iw * ih
            uni = (
                (bb[2] - bb[0] + 1.0) * (bb[3] - bb[1] + 1.0)
                + (BBGT[:, 2] - BBGT[:, 0] + 1.0) * (BBGT[:, 3] - BBGT[:, 1] + 1.0)
                - inters
            )
            overlaps = inters / uni
            ovmax = np.max(overlaps)
            jmax = np.argmax(overlaps)
        if ovmax > 0.5:
            if not R["difficult"][jmax]:
                if not R["det"][jmax]:
                    tp[d] = 1.0
                    R["det"][jmax] = 1
                else:
                    fp[d] = 1.0
        else:
            fp[d] = 1.0
    fp, tp = np.cumsum(fp), np.cumsum(tp)
    rec = tp / float(npos)
    prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    ap = 0.0
    for t in np.arange(0.0, 1.1, 0.1):
        p = 0 if np.sum(rec >= t) == 0 else np.max(prec[rec >= t])
        ap = ap + p / 11.0
    return ap


def random_scenes(rng: np.random.Generator, images: int, classes: int):
    """Objects of random classes (some difficult); detections: jittered copies (near and
    far), duplicates and random boxes, with distinct random scores."""
    detections, truths = [], []
    for _ in range(images):
        count = int(rng.integers(1, 6))
        corners = rng.integers(0, 200, (count, 2))
        sides = rng.integers(10, 60, (count, 2))
        gt_boxes = np.concatenate([corners, corners + sides], 1).astype(float)
        gt_labels = rng.integers(1, classes + 1, count)
        truths.append(truth(gt_boxes.tolist(), (rng.random(count) < 0.2).tolist(), gt_labels))
        copies = np.repeat(gt_boxes, 2, axis=0) + rng.normal(0, 4, (2 * count, 4))
        noise_corners = rng.integers(0, 200, (3, 2))
        noise = np.concatenate([noise_corners, noise_corners + rng.integers(10, 60, (3, 2))], 1)
        boxes = np.concatenate([copies, noise])
        labels = np.concatenate([np.repeat(gt_labels, 2), rng.integers(1, classes + 1, 3)])
        flip = rng.random(len(labels)) < 0.15  # some copies get a wrong class
        labels[flip] = rng.integers(1, classes + 1, int(flip.sum()))
        detections.append(dets(boxes.tolist(), rng.random(len(labels)).tolist(), labels))
    return detections, truths


@pytest.mark.parametrize("seed", [0, 2, 5])
def test_matches_py_faster_rcnn_voc_eval(seed):
    rng = np.random.default_rng(seed)
    detections, truths = random_scenes(rng, images=12, classes=3)
    positives = [
        sum(int(((t["labels"] == c) & ~t["difficult"]).sum()) for t in truths) for c in (1, 2, 3)
    ]
    # np.arange's 0.30000000000000004, 0.6000000000000001 and 0.7000000000000001 drop a
    # recall of exactly .3/.6/.7 in the reference; with these counts no recall is one.
    assert all(n % 5 != 0 for n in positives), positives
    ours = voc07_average_precision(detections, truths, num_classes=3)
    reference = [py_faster_rcnn_voc_eval(detections, truths, c) for c in (1, 2, 3)]
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-12)
    assert len(set(np.round(reference, 6))) == 3  # three distinct, non-trivial APs
    assert all(0 < ap < 1 for ap in reference)
