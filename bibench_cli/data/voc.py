"""``voc``: PASCAL VOC detection read from the official ``VOCdevkit`` layout.

``root/VOCdevkit/VOC2007`` and ``VOC2012`` each hold ``JPEGImages/*.jpg``,
``Annotations/*.xml`` and ``ImageSets/Main/{trainval,test}.txt``. The task's training set
is VOC2007 trainval + VOC2012 trainval (whichever are present; ``parts`` says which), its
test set VOC2007 test. torchvision's ``VOCDetection`` reads the files; ``difficult`` is
taken from its raw XML dict (torchvision's v2 wrapper drops it). Boxes are the XML's
numbers as they are: 1-based inclusive pixel coordinates, which the VOC07 metric's +1
convention expects. Labels are 1..20 in the devkit's class order; 0 is the background.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset
from torchvision.datasets import VOCDetection
from torchvision.transforms.functional import pil_to_tensor

from bibench_cli.data.detection_demo import DemoObject, draw_scene
from bibench_cli.data.errors import CorruptDatasetError, DatasetNotFoundError

log = logging.getLogger("bibench")

VOC_CLASSES = (
    "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
    "train", "tvmonitor",
)  # fmt: skip
URL = "http://host.robots.ox.ac.uk/pascal/VOC/"
HOW_TO_GET = (
    f"download VOC2007 trainval + test and VOC2012 trainval from {URL} and extract the "
    "tars there (they unpack into VOCdevkit/)"
)
SPLIT_PARTS = {
    "train": (("2007", "trainval"), ("2012", "trainval")),
    "test": (("2007", "test"),),
}
BOX_KEYS = ("xmin", "ymin", "xmax", "ymax")

Target = dict[str, Tensor]
Transform = Callable[[Tensor, Target], tuple[Tensor, Target]]


def voc_root(root: str | Path) -> Path:
    """The directory holding ``VOCdevkit/``: ``root``, or its parent if ``root`` is it."""
    root = Path(root).expanduser().absolute()
    return root.parent if root.name == "VOCdevkit" else root


def split_file(root: Path, year: str, image_set: str) -> Path:
    return root / "VOCdevkit" / f"VOC{year}" / "ImageSets" / "Main" / f"{image_set}.txt"


def parse_target(annotation: dict[str, Any], source: str) -> Target:
    """boxes/labels/difficult of one image from torchvision's parsed-XML dict."""
    boxes, labels, difficult = [], [], []
    for obj in annotation["annotation"].get("object", []):
        try:
            labels.append(VOC_CLASSES.index(obj["name"]) + 1)
            boxes.append([float(obj["bndbox"][key]) for key in BOX_KEYS])
        except (KeyError, ValueError, TypeError) as error:
            raise CorruptDatasetError(
                f"bad object in {source} ({type(error).__name__}: {error}): expected a <name> "
                f"among the 20 VOC classes and a <bndbox> with {', '.join(BOX_KEYS)}"
            ) from None
        difficult.append(obj.get("difficult", "0") == "1")
    return {
        "boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
        "labels": torch.tensor(labels, dtype=torch.int64),
        "difficult": torch.tensor(difficult, dtype=torch.bool),
    }


def present_parts(root: str | Path, split: str) -> list[tuple[str, str]]:
    """The official (year, image set) parts of ``split`` whose listing exists under ``root``
    (cheap: reads nothing); one line saying where and how to get them when there is none."""
    root = voc_root(root)
    wanted = SPLIT_PARTS[split]
    present = [p for p in wanted if split_file(root, *p).is_file()]
    if not present:
        expected = " and/or ".join(str(split_file(root, *p)) for p in wanted)
        raise DatasetNotFoundError(
            f"PASCAL VOC {split} set not found under {root}: expected {expected} "
            f"beside JPEGImages/ and Annotations/; {HOW_TO_GET}"
        )
    return present


def _check_files(dataset: VOCDetection, listing: Path) -> None:
    missing = [p for p in (*dataset.images, *dataset.annotations) if not Path(p).is_file()]
    if missing:
        raise DatasetNotFoundError(
            f"{len(missing)} files listed in {listing} are missing, e.g. {missing[0]}; {HOW_TO_GET}"
        )


class VOCDetectionDataset(Dataset):
    """(image, target) pairs: float C×H×W image in [0, 1]; target boxes (N×4 xyxy float),
    labels (int64, 1..20) and difficult (bool)."""

    def __init__(
        self, root: str | Path, split: str = "train", transform: Transform | None = None
    ) -> None:
        if split not in SPLIT_PARTS:
            raise ValueError(f"VOC split must be one of {', '.join(SPLIT_PARTS)}, got {split!r}")
        self.root = voc_root(root)
        self.transform = transform
        present = present_parts(self.root, split)
        self.parts = tuple(f"VOC{year} {image_set}" for year, image_set in present)
        self._sets = []
        for year, image_set in present:
            dataset = VOCDetection(str(self.root), year=year, image_set=image_set)
            _check_files(dataset, split_file(self.root, year, image_set))
            self._sets.append(dataset)
        self._items = [(dataset, i) for dataset in self._sets for i in range(len(dataset))]
        log.info("VOC %s: %s", split, self.summary)

    @property
    def summary(self) -> str:
        """Which official parts were found, with their sizes."""
        return " + ".join(
            f"{p} ({len(d)} images)" for p, d in zip(self.parts, self._sets, strict=True)
        )

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int) -> tuple[Tensor, Target]:
        dataset, local = self._items[index]
        source = dataset.annotations[local]
        try:
            image, annotation = dataset[local]
        except (OSError, ET.ParseError) as error:
            raise CorruptDatasetError(
                f"cannot read VOC image {index} ({source} or its JPEG): "
                f"{type(error).__name__}: {error}; {HOW_TO_GET}"
            ) from None
        pixels = pil_to_tensor(image).float().div_(255.0)
        target = parse_target(annotation, source)
        if self.transform is not None:
            pixels, target = self.transform(pixels, target)
        return pixels, target


# Demo: shapes labelled with real VOC class names, so the demo keeps the task's label space.
DEMO_CLASSES = {"square": "tvmonitor", "circle": "pottedplant", "triangle": "boat"}
DEMO_PARTS = (("2007", "trainval"), ("2007", "test"), ("2012", "trainval"))


def _annotation_xml(folder: str, name: str, size: int, objects: list[DemoObject]) -> ET.Element:
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = folder
    ET.SubElement(root, "filename").text = f"{name}.jpg"
    size_node = ET.SubElement(root, "size")
    for key, value in (("width", size), ("height", size), ("depth", 3)):
        ET.SubElement(size_node, key).text = str(value)
    ET.SubElement(root, "segmented").text = "0"
    for obj in objects:
        node = ET.SubElement(root, "object")
        ET.SubElement(node, "name").text = DEMO_CLASSES[obj.shape]
        ET.SubElement(node, "pose").text = "Unspecified"
        ET.SubElement(node, "truncated").text = "0"
        ET.SubElement(node, "difficult").text = str(int(obj.small))
        box = ET.SubElement(node, "bndbox")
        for key, value in zip(BOX_KEYS, obj.box, strict=True):
            ET.SubElement(box, key).text = str(value + 1)  # VOC pixels are 1-based
    return root


def write_voc_demo(
    root: str | Path,
    *,
    seed: int = 0,
    train_size: int = 24,
    test_size: int = 8,
    voc2012_size: int = 0,
    image_size: int = 96,
) -> dict[str, dict[str, list[DemoObject]]]:
    """Write a tiny synthetic VOC in the official layout under ``root/VOCdevkit``.

    VOC2007 gets ``train_size`` trainval and ``test_size`` test images, VOC2012
    ``voc2012_size`` trainval images (none by default). Small shapes are marked difficult.
    Returns, per part ("VOC2007 trainval", ...), the objects drawn in each image id.
    """
    rng = np.random.default_rng(seed)
    counts = (train_size, test_size, voc2012_size)
    written: dict[str, dict[str, list[DemoObject]]] = {}
    next_id = {"2007": 1, "2012": 1}
    for (year, image_set), count in zip(DEMO_PARTS, counts, strict=True):
        if count == 0:
            continue
        base = Path(root) / "VOCdevkit" / f"VOC{year}"
        for folder in ("JPEGImages", "Annotations", "ImageSets/Main"):
            (base / folder).mkdir(parents=True, exist_ok=True)
        part: dict[str, list[DemoObject]] = {}
        for _ in range(count):
            number = next_id[year]
            next_id[year] += 1
            name = f"{number:06d}" if year == "2007" else f"{year}_{number:06d}"
            image, objects = draw_scene(rng, image_size)
            image.save(base / "JPEGImages" / f"{name}.jpg", quality=95)
            xml = _annotation_xml(f"VOC{year}", name, image_size, objects)
            ET.ElementTree(xml).write(base / "Annotations" / f"{name}.xml")
            part[name] = objects
        (base / "ImageSets" / "Main" / f"{image_set}.txt").write_text("\n".join(part) + "\n")
        written[f"VOC{year} {image_set}"] = part
    return written
