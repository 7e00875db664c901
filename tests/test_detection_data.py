"""VOC and COCO readers on tiny official layouts written by the demo writers; transforms."""

from __future__ import annotations

import json

import pytest
import torch

from bibench_cli.data.coco import (
    COCO_CATEGORIES,
    DEMO_CATEGORIES,
    CocoDetectionDataset,
    annotation_file,
    write_coco_demo,
)
from bibench_cli.data.detection_transforms import drop_difficult, hflip, random_hflip
from bibench_cli.data.errors import CorruptDatasetError, DatasetNotFoundError
from bibench_cli.data.voc import DEMO_CLASSES, VOC_CLASSES, VOCDetectionDataset, write_voc_demo


def voc_expected(objects):
    """What the reader must return for the writer's objects: 1-based VOC pixels."""
    boxes = torch.tensor([[v + 1 for v in o.box] for o in objects], dtype=torch.float32)
    labels = torch.tensor([VOC_CLASSES.index(DEMO_CLASSES[o.shape]) + 1 for o in objects])
    return boxes.reshape(-1, 4), labels, torch.tensor([o.small for o in objects])


def test_voc2007_only_round_trips(tmp_path):
    written = write_voc_demo(tmp_path, test_size=3)
    train = VOCDetectionDataset(tmp_path, "train")
    assert train.parts == ("VOC2007 trainval",)
    assert len(train) == 24
    flags = [o.small for image in written["VOC2007 trainval"].values() for o in image]
    assert any(flags) and not all(flags)  # both kinds of object are read back
    for index, objects in enumerate(written["VOC2007 trainval"].values()):
        image, target = train[index]
        boxes, labels, difficult = voc_expected(objects)
        assert image.shape == (3, 96, 96) and image.dtype == torch.float32
        assert image.min() >= 0 and image.max() <= 1
        assert torch.equal(target["boxes"], boxes)
        assert torch.equal(target["labels"], labels) and target["labels"].dtype == torch.int64
        assert torch.equal(target["difficult"], difficult)
    test = VOCDetectionDataset(tmp_path / "VOCdevkit", "test")  # VOCdevkit itself works too
    assert test.parts == ("VOC2007 test",) and len(test) == 3


def test_voc_train_is_07_plus_12_when_both_exist(tmp_path):
    written = write_voc_demo(tmp_path, train_size=3, test_size=1, voc2012_size=2)
    train = VOCDetectionDataset(tmp_path, "train")
    assert train.parts == ("VOC2007 trainval", "VOC2012 trainval")
    assert train.summary == "VOC2007 trainval (3 images) + VOC2012 trainval (2 images)"
    last_objects = list(written["VOC2012 trainval"].values())[-1]
    assert torch.equal(train[4][1]["boxes"], voc_expected(last_objects)[0])


def test_voc_demo_has_difficult_objects_and_is_seeded(tmp_path):
    first = write_voc_demo(tmp_path / "a", seed=3)
    again = write_voc_demo(tmp_path / "b", seed=3)
    other = write_voc_demo(tmp_path / "c", seed=4)
    assert first == again and first != other
    objects = [o for part in first.values() for image in part.values() for o in image]
    assert 0 < sum(o.small for o in objects) < len(objects)
    assert {o.shape for o in objects} == set(DEMO_CLASSES)
    image = "VOCdevkit/VOC2007/JPEGImages/000001.jpg"
    assert (tmp_path / "a" / image).read_bytes() == (tmp_path / "b" / image).read_bytes()


def test_voc_missing_set_is_one_line_naming_where_and_how(tmp_path):
    with pytest.raises(DatasetNotFoundError) as error:
        VOCDetectionDataset(tmp_path, "train")
    message = str(error.value)
    assert "\n" not in message
    assert str(tmp_path / "VOCdevkit/VOC2007/ImageSets/Main/trainval.txt") in message
    assert "http://host.robots.ox.ac.uk/pascal/VOC/" in message
    write_voc_demo(tmp_path, test_size=0)
    with pytest.raises(DatasetNotFoundError, match="VOC2007/ImageSets/Main/test.txt"):
        VOCDetectionDataset(tmp_path, "test")


def test_voc_missing_or_corrupt_files(tmp_path):
    write_voc_demo(tmp_path, train_size=3, test_size=0)
    base = tmp_path / "VOCdevkit" / "VOC2007"
    (base / "Annotations" / "000002.xml").write_text("<annotation><object>")
    with pytest.raises(CorruptDatasetError, match="000002.xml"):
        VOCDetectionDataset(tmp_path, "train")[1]
    (base / "JPEGImages" / "000003.jpg").unlink()
    with pytest.raises(DatasetNotFoundError, match="1 files listed .* missing, e.g. .*000003.jpg"):
        VOCDetectionDataset(tmp_path, "train")


def test_coco_maps_gapped_category_ids_and_converts_boxes(tmp_path):
    written = write_coco_demo(tmp_path, train_size=4, val_size=3)
    assert sorted(COCO_CATEGORIES)[62] == 72  # ten ids are unused below 72: tv is label 63
    expected_label = {"square": 63, "circle": 33, "triangle": 34}
    assert {s: sorted(COCO_CATEGORIES).index(c) + 1 for s, c in DEMO_CATEGORIES.items()} == (
        expected_label
    )
    val = CocoDetectionDataset(tmp_path, "val")
    assert len(val) == 3
    for index, objects in enumerate(written["val"].values()):
        image, target = val[index]
        assert image.shape == (3, 96, 96)
        boxes = torch.tensor(
            [[x0, y0, x1 + 1, y1 + 1] for x0, y0, x1, y1 in (o.box for o in objects)]
        )
        assert torch.equal(target["boxes"], boxes.float())
        assert target["labels"].tolist() == [expected_label[o.shape] for o in objects]
        assert not target["difficult"].any()
    assert len(CocoDetectionDataset(tmp_path, "train")) == 4


def test_coco_crowd_is_difficult_and_empty_boxes_are_dropped(tmp_path):
    write_coco_demo(tmp_path, train_size=0, val_size=2)
    path = annotation_file(tmp_path, "val")
    content = json.loads(path.read_text())
    first_image = [a for a in content["annotations"] if a["image_id"] == 1]
    first_image[0]["iscrowd"] = 1
    content["annotations"].append(
        {"id": 999, "image_id": 1, "category_id": 1, "bbox": [5, 5, 0, 4], "iscrowd": 0}
    )
    path.write_text(json.dumps(content))
    target = CocoDetectionDataset(tmp_path, "val")[0][1]
    assert len(target["boxes"]) == len(first_image)
    assert target["difficult"].tolist() == [True] + [False] * (len(first_image) - 1)


def test_coco_images_without_a_box_to_learn_are_not_trained_on(tmp_path):
    write_coco_demo(tmp_path, train_size=3, val_size=0)
    path = annotation_file(tmp_path, "train")
    content = json.loads(path.read_text())
    for annotation in content["annotations"]:
        if annotation["image_id"] == 1:
            annotation["iscrowd"] = 1  # only crowd regions: nothing to learn
    content["annotations"] = [a for a in content["annotations"] if a["image_id"] != 3]
    path.write_text(json.dumps(content))
    assert CocoDetectionDataset(tmp_path, "train").annotated() == [1]  # image id 2


def test_coco_missing_and_corrupt_annotations(tmp_path):
    with pytest.raises(DatasetNotFoundError) as error:
        CocoDetectionDataset(tmp_path, "val")
    message = str(error.value)
    assert "\n" not in message and "https://cocodataset.org" in message
    assert str(tmp_path / "annotations" / "instances_val2017.json") in message
    write_coco_demo(tmp_path, train_size=0, val_size=1)
    path = annotation_file(tmp_path, "val")
    content = json.loads(path.read_text())
    content["categories"].append({"id": 12, "name": "not a coco class"})
    path.write_text(json.dumps(content))
    with pytest.raises(CorruptDatasetError, match=r"category ids \[12\] outside COCO's 80"):
        CocoDetectionDataset(tmp_path, "val")
    path.write_text("{not json")
    with pytest.raises(CorruptDatasetError, match="instances_val2017.json"):
        CocoDetectionDataset(tmp_path, "val")


TARGET = {
    "boxes": torch.tensor([[10.0, 20.0, 30.0, 60.0], [0.0, 0.0, 96.0, 48.0]]),
    "labels": torch.tensor([3, 5]),
    "difficult": torch.tensor([False, True]),
}


def test_hflip_mirrors_boxes_with_pixels():
    image = torch.zeros(3, 48, 96)
    image[:, 20:60, 10:30] = 1  # rows 20..59, columns 10..29: box (10, 20, 30, 60)
    flipped, target = hflip(image, TARGET)
    assert torch.equal(target["boxes"][0], torch.tensor([66.0, 20.0, 86.0, 60.0]))
    columns = flipped[0].nonzero()[:, 1]
    assert (columns.min().item(), columns.max().item() + 1) == (66, 86)
    assert torch.equal(target["boxes"][1], TARGET["boxes"][1])  # full-width box stays


def test_random_flip_is_seeded_and_drop_difficult_keeps_the_rest():
    image = torch.rand(3, 48, 96)
    runs = []
    for _ in range(2):
        generator = torch.Generator().manual_seed(0)
        runs.append([random_hflip(image, TARGET, 0.5, generator)[1]["boxes"] for _ in range(8)])
    assert all(torch.equal(a, b) for a, b in zip(*runs, strict=True))
    assert len({tuple(b[0].tolist()) for b in runs[0]}) == 2  # both flipped and not
    kept = drop_difficult(TARGET)
    assert kept["labels"].tolist() == [3] and kept["boxes"].shape == (1, 4)
