"""``coco``: COCO 2017 detection read from the official layout.

``root/annotations/instances_{train,val}2017.json`` with images in ``root/train2017/`` and
``root/val2017/``, read by torchvision's ``CocoDetection`` (pycocotools). COCO's 80
category ids run 1..90 with gaps; labels are their 1-based rank (1..80, 0 = background).
Boxes are converted from xywh to xyxy; zero-width or zero-height boxes are dropped;
``difficult`` is COCO's ``iscrowd`` (a region the evaluation ignores).
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset
from torchvision.datasets import CocoDetection
from torchvision.transforms.functional import pil_to_tensor

from bibench_cli.data.detection_demo import DemoObject, draw_scene
from bibench_cli.data.errors import CorruptDatasetError, DatasetNotFoundError

COCO_CATEGORIES = {
    1: "person", 2: "bicycle", 3: "car", 4: "motorcycle", 5: "airplane", 6: "bus",
    7: "train", 8: "truck", 9: "boat", 10: "traffic light", 11: "fire hydrant",
    13: "stop sign", 14: "parking meter", 15: "bench", 16: "bird", 17: "cat", 18: "dog",
    19: "horse", 20: "sheep", 21: "cow", 22: "elephant", 23: "bear", 24: "zebra",
    25: "giraffe", 27: "backpack", 28: "umbrella", 31: "handbag", 32: "tie",
    33: "suitcase", 34: "frisbee", 35: "skis", 36: "snowboard", 37: "sports ball",
    38: "kite", 39: "baseball bat", 40: "baseball glove", 41: "skateboard",
    42: "surfboard", 43: "tennis racket", 44: "bottle", 46: "wine glass", 47: "cup",
    48: "fork", 49: "knife", 50: "spoon", 51: "bowl", 52: "banana", 53: "apple",
    54: "sandwich", 55: "orange", 56: "broccoli", 57: "carrot", 58: "hot dog",
    59: "pizza", 60: "donut", 61: "cake", 62: "chair", 63: "couch", 64: "potted plant",
    65: "bed", 67: "dining table", 70: "toilet", 72: "tv", 73: "laptop", 74: "mouse",
    75: "remote", 76: "keyboard", 77: "cell phone", 78: "microwave", 79: "oven",
    80: "toaster", 81: "sink", 82: "refrigerator", 84: "book", 85: "clock", 86: "vase",
    87: "scissors", 88: "teddy bear", 89: "hair drier", 90: "toothbrush",
}  # fmt: skip
LABEL_OF_CATEGORY = {cat: rank for rank, cat in enumerate(sorted(COCO_CATEGORIES), start=1)}
SPLITS = ("train", "val")
URL = "https://cocodataset.org"
HOW_TO_GET = (
    f"download train2017.zip, val2017.zip and annotations_trainval2017.zip from {URL} "
    "(Dataset > Download) and unzip them there"
)

Target = dict[str, Tensor]
Transform = Callable[[Tensor, Target], tuple[Tensor, Target]]


def annotation_file(root: Path, split: str) -> Path:
    return root / "annotations" / f"instances_{split}2017.json"


def parse_target(annotations: list[dict[str, Any]], source: str) -> Target:
    """boxes (xyxy)/labels/difficult of one image from its COCO annotation dicts."""
    boxes, labels, crowd = [], [], []
    for ann in annotations:
        try:
            x, y, width, height = (float(v) for v in ann["bbox"])
            label = LABEL_OF_CATEGORY[ann["category_id"]]
        except (KeyError, ValueError, TypeError) as error:
            raise CorruptDatasetError(
                f"bad annotation {ann.get('id')} in {source} ({type(error).__name__}: {error}):"
                " expected a 4-number bbox and one of COCO's 80 category ids"
            ) from None
        if width > 0 and height > 0:
            boxes.append([x, y, x + width, y + height])
            labels.append(label)
            crowd.append(bool(ann.get("iscrowd", 0)))
    return {
        "boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
        "labels": torch.tensor(labels, dtype=torch.int64),
        "difficult": torch.tensor(crowd, dtype=torch.bool),
    }


def check_split(root: str | Path, split: str) -> tuple[Path, Path]:
    """The annotation file and image folder of ``split`` (cheap: reads nothing); one line
    naming the missing one and how to get it."""
    root = Path(root).expanduser().absolute()
    annotations = annotation_file(root, split)
    images = root / f"{split}2017"
    for path, what in ((annotations, "annotation file"), (images, "image folder")):
        if not path.exists():
            raise DatasetNotFoundError(
                f"COCO {split}2017 {what} {path} not found: expected "
                f"annotations/instances_{split}2017.json and {split}2017/ under {root}; "
                f"{HOW_TO_GET}"
            )
    return annotations, images


def _load(images: Path, annotations: Path) -> CocoDetection:
    """torchvision's reader, with pycocotools' progress prints silenced."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return CocoDetection(str(images), str(annotations))
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, AssertionError) as e:
        raise CorruptDatasetError(
            f"cannot read {annotations} as COCO instances json ({type(e).__name__}: {e}); "
            f"{HOW_TO_GET}"
        ) from None


class CocoDetectionDataset(Dataset):
    """(image, target) pairs: float C×H×W image in [0, 1]; target boxes (N×4 xyxy float),
    labels (int64, 1..80) and difficult (bool, = iscrowd)."""

    def __init__(
        self, root: str | Path, split: str = "train", transform: Transform | None = None
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"COCO split must be one of {', '.join(SPLITS)}, got {split!r}")
        self.root = Path(root).expanduser().absolute()
        self.transform = transform
        annotations, images = check_split(self.root, split)
        self.source = str(annotations)
        self._coco = _load(images, annotations)
        unknown = sorted(set(self._coco.coco.cats) - set(COCO_CATEGORIES))
        if unknown:
            raise CorruptDatasetError(
                f"{annotations} has category ids {unknown[:5]} outside COCO's 80; "
                f"expected the official instances file; {HOW_TO_GET}"
            )

    def __len__(self) -> int:
        return len(self._coco)

    def annotated(self) -> list[int]:
        """Indices of the images with a box to train on (not crowd, positive size): mmdet
        trains on those only (``filter_empty_gt``), as do torchvision's references."""
        annotations = self._coco.coco.imgToAnns
        return [
            index
            for index, image_id in enumerate(self._coco.ids)
            if (~parse_target(annotations.get(image_id, []), self.source)["difficult"]).any()
        ]

    def __getitem__(self, index: int) -> tuple[Tensor, Target]:
        try:
            image, annotations = self._coco[int(index)]
        except OSError as error:
            raise CorruptDatasetError(
                f"cannot read COCO image {index} listed in {self.source}: {error}; {HOW_TO_GET}"
            ) from None
        pixels = pil_to_tensor(image).float().div_(255.0)
        target = parse_target(annotations, self.source)
        if self.transform is not None:
            pixels, target = self.transform(pixels, target)
        return pixels, target


# Demo: shapes labelled with real COCO ids on both sides of the id gaps (72 -> label 63).
DEMO_CATEGORIES = {"square": 72, "circle": 37, "triangle": 38}  # tv, sports ball, kite
DEMO_SPLITS = ("train", "val")


def _coco_json(
    images: list[tuple[int, str]], objects: dict[int, list[DemoObject]], size: int
) -> dict[str, Any]:
    annotations = []
    for image_id, _ in images:
        for obj in objects[image_id]:
            x0, y0, x1, y1 = obj.box
            width, height = x1 - x0 + 1, y1 - y0 + 1  # COCO boxes cover whole pixels
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": DEMO_CATEGORIES[obj.shape],
                    "bbox": [x0, y0, width, height],
                    "area": width * height,
                    "iscrowd": 0,
                }
            )
    return {
        "info": {"description": "bibench synthetic COCO demo (coloured shapes)"},
        "images": [
            {"id": i, "file_name": name, "width": size, "height": size} for i, name in images
        ],
        "annotations": annotations,
        "categories": [
            {"id": cat, "name": name, "supercategory": "demo"}
            for cat, name in COCO_CATEGORIES.items()
        ],
    }


def write_coco_demo(
    root: str | Path,
    *,
    seed: int = 0,
    train_size: int = 24,
    val_size: int = 8,
    image_size: int = 96,
) -> dict[str, dict[int, list[DemoObject]]]:
    """Write a tiny synthetic COCO 2017 in the official layout under ``root``.

    The json lists all 80 official categories, as the real file does. Returns, per split,
    the objects drawn in each image id.
    """
    rng = np.random.default_rng(seed)
    root = Path(root)
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    written: dict[str, dict[int, list[DemoObject]]] = {}
    next_id = 1
    for split, count in zip(DEMO_SPLITS, (train_size, val_size), strict=True):
        folder = root / f"{split}2017"
        folder.mkdir(exist_ok=True)
        images: list[tuple[int, str]] = []
        objects: dict[int, list[DemoObject]] = {}
        for image_id in range(next_id, next_id + count):
            image, objects[image_id] = draw_scene(rng, image_size)
            name = f"{image_id:012d}.jpg"
            image.save(folder / name, quality=95)
            images.append((image_id, name))
        next_id += count
        content = _coco_json(images, objects, image_size)
        annotation_file(root, split).write_text(json.dumps(content))
        written[split] = objects
    return written
