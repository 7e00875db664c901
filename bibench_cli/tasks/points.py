"""Point-cloud tasks: ModelNet40 classification and ShapeNet part segmentation.

``modelnet40`` is a classification task of the existing kind (overall accuracy first, mean
class accuracy second). ``shapenet`` is a part-segmentation task: class mIoU first (the
paper's Table 11 row is the mean over the categories), instance mIoU second; its subtasks
are the 16 categories, run one per model with ``task.data.per_category=true`` or reported
together by the all-category model (no subtask).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bibench_cli.data.modelnet40 import DEFAULT_NUM_POINTS as MODELNET40_POINTS
from bibench_cli.data.modelnet40 import write_modelnet40_h5, write_modelnet40_text
from bibench_cli.data.modelnet40_datamodule import NUM_CLASSES, ModelNet40DataModule
from bibench_cli.data.shapenet import CATEGORIES, CATEGORY_INDEX, NUM_PARTS, write_shapenet_part
from bibench_cli.data.shapenet_datamodule import DEFAULT_NUM_POINTS as SHAPENET_POINTS
from bibench_cli.data.shapenet_datamodule import ShapeNetPartDataModule, check_category
from bibench_cli.data.synthetic_points import synthetic_modelnet40, synthetic_shapenet_part
from bibench_cli.models.inputs import PartPointsInput, PointsInput, TaskShape
from bibench_cli.tasks.classification import MEAN_CLASS, TOP1, ClassificationModule
from bibench_cli.tasks.part_segmentation import (
    CLASS_MIOU,
    INSTANCE_MIOU,
    PartSegmentationModule,
)
from bibench_cli.tasks.spec import TaskSpec


def modelnet40_shape(data: Mapping[str, Any], datamodule: Any = None) -> TaskShape:
    """xyz (+ normals) clouds of ``num_points``; the classes of the release read, else 40."""
    channels = 6 if data.get("normals", False) else 3
    points = data.get("num_points", MODELNET40_POINTS)
    classes = datamodule.num_classes if datamodule is not None else NUM_CLASSES
    return TaskShape(PointsInput(channels, points), {"num_classes": classes})


def shapenet_shape(data: Mapping[str, Any], datamodule: Any = None) -> TaskShape:
    """All 50 parts from points + category (16-wide one-hot), or one category's parts from
    the points alone (``per_category``)."""
    per_category, category = data.get("per_category", False), data.get("category", "")
    check_category(per_category, category)
    channels = 6 if data.get("normals", True) else 3
    points = data.get("num_points", SHAPENET_POINTS)
    if per_category:
        parts = len(CATEGORIES[CATEGORY_INDEX[category]].parts)
        return TaskShape(PartPointsInput(channels, points, 0), {"num_classes": parts})
    return TaskShape(PartPointsInput(channels, points, len(CATEGORIES)), {"num_classes": NUM_PARTS})


def write_modelnet40_demo(root: Path, seed: int) -> str:
    """Both release layouts of the synthetic stand-in (primitive shapes, one per class)."""
    splits, names = synthetic_modelnet40(seed=seed)
    h5, text = write_modelnet40_h5(root, splits, names), write_modelnet40_text(root, splits, names)
    sizes = ", ".join(f"{len(labels)} {split}" for split, (_, labels) in splits.items())
    return f"ModelNet40 layouts, {sizes} shapes of {len(names)} synthetic classes: {h5}, {text}"


def write_shapenet_demo(root: Path, seed: int) -> str:
    """The release layout of the synthetic stand-in (Table, Mug and Laptop shapes)."""
    splits = synthetic_shapenet_part(seed=seed)
    directory = write_shapenet_part(root, splits)
    sizes = ", ".join(f"{len(shapes)} {split}" for split, shapes in splits.items())
    categories = sorted({shape.category for shapes in splits.values() for shape in shapes})
    return f"ShapeNet part layout, {sizes} synthetic {'/'.join(categories)} shapes: {directory}"


TASKS = (
    TaskSpec(
        "modelnet40",
        ModelNet40DataModule,
        ClassificationModule,
        (TOP1, MEAN_CLASS),
        modelnet40_shape,
        demo=write_modelnet40_demo,
    ),
    TaskSpec(
        "shapenet",
        ShapeNetPartDataModule,
        PartSegmentationModule,
        (CLASS_MIOU, INSTANCE_MIOU),
        shapenet_shape,
        demo=write_shapenet_demo,
        subtasks=tuple(category.name for category in CATEGORIES),
        allow_no_subtask=True,
    ),
)
