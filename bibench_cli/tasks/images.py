"""Image classification tasks: the embedded digits, CIFAR-10 and ImageNet."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bibench_cli.data.cifar10 import Cifar10DataModule, write_cifar10_demo
from bibench_cli.data.digits import DigitsDataModule
from bibench_cli.data.imagenet import ImageNetDataModule, write_imagenet_demo
from bibench_cli.models.inputs import ImageInput, TaskShape
from bibench_cli.tasks.classification import TOP1, TOP5, ClassificationModule
from bibench_cli.tasks.spec import CORRUPTIONS, TaskSpec


def image_shape(datamodule_class: type, default_classes: int):
    """The shape function of an image task: channels from the datamodule class, side from
    ``task.data.image_size`` (or the class's fixed side), classes from the data read when
    there is some (an ImageNet subset), else the published count."""

    def shape(data: Mapping[str, Any], datamodule: Any = None) -> TaskShape:
        size = data.get("image_size") or datamodule_class.image_size
        classes = datamodule.num_classes if datamodule is not None else default_classes
        return TaskShape(ImageInput(datamodule_class.in_channels, size), {"num_classes": classes})

    return shape


def _embedded(root: Path, seed: int) -> str:
    return "digits ship inside scikit-learn: nothing to write"


TASKS = (
    TaskSpec(
        "digits",
        DigitsDataModule,
        ClassificationModule,
        (TOP1,),
        image_shape(DigitsDataModule, 10),
        demo=_embedded,
        capabilities=frozenset({CORRUPTIONS}),
    ),
    TaskSpec(
        "cifar10",
        Cifar10DataModule,
        ClassificationModule,
        (TOP1,),
        image_shape(Cifar10DataModule, 10),
        demo=write_cifar10_demo,
        capabilities=frozenset({CORRUPTIONS}),
        corruption_release="CIFAR-10-C",
    ),
    TaskSpec(
        "imagenet",
        ImageNetDataModule,
        ClassificationModule,
        (TOP1, TOP5),
        image_shape(ImageNetDataModule, 1000),
        demo=write_imagenet_demo,
        capabilities=frozenset({CORRUPTIONS}),
    ),
)
