"""COCO mAP wrapper: cases whose answer follows from COCO's definition by hand."""

from __future__ import annotations

import pytest
import torch

from bibench_cli.metrics.coco_map import CocoMeanAP


def one_image(gt_boxes, det_boxes, crowd=None):
    crowd = [False] * len(gt_boxes) if crowd is None else crowd
    target = {
        "boxes": torch.tensor(gt_boxes, dtype=torch.float32),
        "labels": torch.ones(len(gt_boxes), dtype=torch.int64),
        "difficult": torch.tensor(crowd),
    }
    preds = {
        "boxes": torch.tensor(det_boxes, dtype=torch.float32).reshape(-1, 4),
        "scores": torch.linspace(0.9, 0.5, len(det_boxes)),
        "labels": torch.ones(len(det_boxes), dtype=torch.int64),
    }
    metric = CocoMeanAP()
    metric.update([preds], [target])
    return {k: v.item() for k, v in metric.compute().items()}


GT = [[10.0, 10.0, 50.0, 60.0], [60.0, 5.0, 90.0, 40.0]]


def test_perfect_detections_score_100():
    assert one_image(GT, GT) == pytest.approx({"map": 100.0, "map_50": 100.0})


def test_half_recall_integrates_51_of_101_recall_points():
    # precision 1 up to recall 0.5, nothing beyond: 51 of COCO's 101 recall points
    assert one_image(GT, GT[:1]) == pytest.approx({"map": 100 * 51 / 101, "map_50": 100 * 51 / 101})


def test_iou_0625_matches_three_of_ten_thresholds():
    # a 10×10 detection inside a 10×16 object: IoU 100 / 160 = 0.625, a match at
    # thresholds .50, .55, .60 only
    result = one_image([[0.0, 0.0, 10.0, 16.0]], [[0.0, 0.0, 10.0, 10.0]])
    assert result == pytest.approx({"map": 30.0, "map_50": 100.0})


def test_crowd_regions_are_neither_missed_nor_false_positives():
    # the undetected crowd object costs no recall; a detection on it is no false positive
    crowd = [False, True]
    assert one_image(GT, GT[:1], crowd)["map"] == pytest.approx(100.0)
    assert one_image(GT, [GT[1], GT[0]], crowd)["map"] == pytest.approx(100.0)
