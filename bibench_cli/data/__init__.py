"""Tasks: one LightningDataModule per learning task, looked up by name.

``build_datamodule("cifar10", root="data", batch_size=128)`` returns a datamodule exposing
``num_classes``, ``in_channels``, ``image_size``, ``input_kind`` and the loaders;
``task_info`` answers the same questions without touching any data.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from bibench_cli.data.base import ImageDataModule
from bibench_cli.data.cifar10 import Cifar10DataModule
from bibench_cli.data.digits import DigitsDataModule
from bibench_cli.data.errors import CorruptDatasetError, DatasetNotFoundError, UnknownTaskError
from bibench_cli.data.imagenet import ImageNetDataModule

__all__ = [
    "CorruptDatasetError",
    "DatasetNotFoundError",
    "TaskInfo",
    "UnknownTaskError",
    "build_datamodule",
    "list_tasks",
    "task_info",
]

# Every option a datamodule may take; each task takes the subset its constructor names.
DATAMODULE_OPTIONS = (
    "root",
    "download",
    "batch_size",
    "num_workers",
    "seed",
    "val_size",
    "image_size",
    "augment",
)


@dataclass(frozen=True)
class TaskInfo:
    """What a task feeds a model and how it is scored; ``metrics[0]`` is the primary one.

    Metric names: ``acc`` is top-1 multiclass accuracy, ``acc_top5`` top-5 accuracy.
    """

    name: str
    description: str
    datamodule: type[ImageDataModule]
    num_classes: int
    in_channels: int
    image_size: int
    input_kind: str = "image"
    metrics: tuple[str, ...] = ("acc",)

    @property
    def primary_metric(self) -> str:
        return self.metrics[0]


_TASKS: dict[str, TaskInfo] = {
    info.name: info
    for info in (
        TaskInfo(
            "digits",
            "8×8 handwritten digits bundled with scikit-learn (offline default)",
            DigitsDataModule,
            num_classes=10,
            in_channels=1,
            image_size=8,
        ),
        TaskInfo(
            "cifar10",
            "CIFAR-10 image classification (32×32, 10 classes)",
            Cifar10DataModule,
            num_classes=10,
            in_channels=3,
            image_size=32,
        ),
        TaskInfo(
            "imagenet",
            "ImageNet-1k image classification (224×224 crops, top-1/top-5)",
            ImageNetDataModule,
            num_classes=1000,
            in_channels=3,
            image_size=224,
            metrics=("acc", "acc_top5"),
        ),
    )
}


def task_info(task: str) -> TaskInfo:
    """Shape, input kind and metrics of ``task`` (the published dataset), without loading it."""
    try:
        return _TASKS[task]
    except KeyError:
        raise UnknownTaskError(f"unknown task {task!r}; known: {', '.join(_TASKS)}") from None


def list_tasks() -> dict[str, str]:
    """Registered task names, each with a one-line description."""
    return {name: info.description for name, info in _TASKS.items()}


def build_datamodule(task: str, **options: Any) -> ImageDataModule:
    """The datamodule of ``task``; reads no data until ``setup``.

    ``options`` are the shared :data:`DATAMODULE_OPTIONS`; ones set to None and ones the
    task does not take (``root`` for the embedded digits, say) are dropped, so one config
    serves every task. Anything else is a one-line TypeError.
    """
    info = task_info(task)
    unknown = sorted(set(options) - set(DATAMODULE_OPTIONS))
    if unknown:
        raise TypeError(
            f"unknown datamodule option(s) {', '.join(unknown)}; "
            f"known: {', '.join(DATAMODULE_OPTIONS)}"
        )
    accepted = inspect.signature(info.datamodule).parameters
    kwargs = {k: v for k, v in options.items() if v is not None and k in accepted}
    return info.datamodule(**kwargs)
