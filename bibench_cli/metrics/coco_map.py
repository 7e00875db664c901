"""COCO detection metric: mAP@[.5:.95] and mAP@0.5 in percent, by torchmetrics.

torchmetrics' ``MeanAveragePrecision`` with the ``faster_coco_eval`` backend computes the
official COCO numbers; its thresholds must include 100 detections (COCO's own summary
reads that one, else it reports -1). Ground truths marked ``difficult`` (COCO's
``iscrowd``, as the readers here call it) are ignored regions, as in the COCO evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor
from torchmetrics.detection import MeanAveragePrecision

MAX_DETECTIONS = [1, 10, 100]


class CocoMeanAP(MeanAveragePrecision):
    """``update(preds, target)`` with xyxy boxes; ``compute()`` gives ``map`` (mAP@[.5:.95])
    and ``map_50`` in percent."""

    def __init__(self, **kwargs) -> None:
        super().__init__(
            box_format="xyxy",
            iou_type="bbox",
            max_detection_thresholds=MAX_DETECTIONS,
            backend="faster_coco_eval",
            **kwargs,
        )

    def update(self, preds: Sequence[dict[str, Tensor]], target: Sequence[dict[str, Tensor]]):
        """``target`` as the readers give it: boxes, labels and ``difficult`` (= iscrowd)."""
        coco_target = [
            {"boxes": t["boxes"], "labels": t["labels"], "iscrowd": t["difficult"].long()}
            for t in target
        ]
        super().update(preds, coco_target)

    def compute(self) -> dict[str, Tensor]:
        result = super().compute()
        return {"map": 100.0 * result["map"], "map_50": 100.0 * result["map_50"]}
