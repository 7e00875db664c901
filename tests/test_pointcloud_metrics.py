"""ShapeNet part IoU against hand-worked shapes: absent parts, restriction to the category's
parts, instance vs class means, and the accumulating torchmetrics wrapper."""

from __future__ import annotations

import pytest
import torch
from torchmetrics import MetricCollection

from bibench_cli.data.shapenet import CATEGORY_INDEX, NUM_PARTS
from bibench_cli.metrics.part_iou import (
    PartIoU,
    part_iou,
    restricted_predictions,
    shape_ious,
)

BAG, MUG, TABLE = CATEGORY_INDEX["Bag"], CATEGORY_INDEX["Mug"], CATEGORY_INDEX["Table"]


def logits_for(predictions: list[list[int]]) -> torch.Tensor:
    """(B, 50, N) logits whose argmax is ``predictions``."""
    return torch.nn.functional.one_hot(torch.tensor(predictions), NUM_PARTS).transpose(1, 2).float()


@pytest.mark.parametrize(
    ("category", "target", "prediction", "expected"),
    [
        # Bag (parts 4, 5): part 4 1/2, part 5 2/3
        (BAG, [4, 4, 5, 5], [4, 5, 5, 5], (1 / 2 + 2 / 3) / 2),
        # Table (47-49): 49 absent from both counts 1
        (TABLE, [47, 47, 48, 48], [47, 47, 48, 48], 1.0),
        (TABLE, [47, 47, 48, 48], [47, 47, 47, 48], (2 / 3 + 1 / 2 + 1) / 3),
        # Mug (36, 37): 37 predicted but absent from the truth scores 0
        (MUG, [36, 36, 36, 36], [36, 36, 37, 37], (2 / 4 + 0) / 2),
    ],
)
def test_shape_iou_by_hand(category, target, prediction, expected):
    iou = shape_ious(torch.tensor([prediction]), torch.tensor([target]), torch.tensor([category]))
    assert iou.item() == pytest.approx(expected, abs=1e-12)


def test_predictions_are_restricted_to_the_category_parts():
    logits = torch.zeros(1, NUM_PARTS, 3)
    logits[0, 0] = 10.0  # an Airplane part wins overall at every point
    logits[0, 4] = torch.tensor([1.0, 2.0, 1.0])
    logits[0, 5] = torch.tensor([2.0, 1.0, 2.0])
    bag = torch.tensor([BAG])
    assert restricted_predictions(logits, bag).tolist() == [[5, 4, 5]]
    summary = part_iou(logits, torch.tensor([[5, 5, 5]]), bag)
    # part 4: 0/1, part 5: 2/3 (unrestricted, part 0 everywhere would give (1 + 0) / 2)
    assert summary.instance == pytest.approx((0 + 2 / 3) / 2)


def test_instance_and_class_means_by_hand():
    targets = torch.tensor([[4, 4, 5, 5], [4, 4, 5, 5], [36, 36, 36, 36]])
    predictions = [[4, 5, 5, 5], [4, 4, 5, 5], [36, 36, 37, 37]]
    categories = torch.tensor([BAG, BAG, MUG])
    summary = part_iou(logits_for(predictions), targets, categories)
    bag_a, bag_b, mug = 7 / 12, 1.0, 1 / 4
    assert summary.instance == pytest.approx((bag_a + bag_b + mug) / 3)
    assert summary.classes == pytest.approx(((bag_a + bag_b) / 2 + mug) / 2)
    assert summary.per_category == pytest.approx({"Bag": (bag_a + bag_b) / 2, "Mug": mug})


def test_metric_accumulates_batches_and_merges_like_ddp():
    torch.manual_seed(0)
    categories = torch.tensor([BAG, MUG, TABLE, TABLE, MUG, BAG])
    starts = torch.tensor([4, 36, 47])[torch.tensor([0, 1, 2, 2, 1, 0])]
    targets = starts[:, None] + torch.randint(0, 2, (6, 9))
    logits = torch.randn(6, NUM_PARTS, 9)
    whole = part_iou(logits, targets, categories)
    metric = PartIoU()
    metric.update(logits[:4], targets[:4], categories[:4])
    metric.update(logits[4:], targets[4:], categories[4:])
    assert metric.compute().item() == pytest.approx(whole.classes)
    assert metric.summary().instance == pytest.approx(whole.instance)
    assert metric.summary().per_category["Table"] == pytest.approx(whole.per_category["Table"])
    # two processes' states summed, as DDP's sync does
    first, second = PartIoU("instance"), PartIoU("instance")
    first.update(logits[:2], targets[:2], categories[:2])
    second.update(logits[2:], targets[2:], categories[2:])
    first.merge_state(second)
    assert first.compute().item() == pytest.approx(whole.instance)
    metric.reset()
    with pytest.raises(ValueError, match="no shapes"), pytest.warns(UserWarning, match="update"):
        metric.compute()
    with pytest.raises(ValueError, match="class, instance"):
        PartIoU("mean")


def test_class_and_instance_metrics_in_one_collection_score_each_batch_once():
    categories = torch.tensor([BAG, MUG, MUG])
    targets = torch.tensor([[4, 5, 5], [36, 37, 37], [36, 36, 36]])
    logits = logits_for([[4, 4, 5], [36, 37, 36], [36, 36, 37]])
    collection = MetricCollection({"class": PartIoU("class"), "instance": PartIoU("instance")})
    for _ in range(2):  # the group is formed at the first update, shared from the second
        collection.update(logits, targets, categories)
    whole = part_iou(logits, targets, categories)
    result = collection.compute()
    assert result["class"].item() == pytest.approx(whole.classes)
    assert result["instance"].item() == pytest.approx(whole.instance)
    assert collection.compute_groups == {0: ["class", "instance"]}
