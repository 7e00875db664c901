"""Full-precision architectures, looked up by name (timm style).

``build_model("resnet20", num_classes=10, in_channels=3, image_size=32)`` returns a plain
``nn.Module`` whose convs/linears and ``nn.ReLU`` modules a binarizer can swap in place;
the stem conv is ``conv1`` and the classifier ``fc`` in every architecture.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from bibench_cli.models.errors import IncompatibleError, UnknownArchitectureError
from bibench_cli.models.inputs import ImageInputSpec
from bibench_cli.models.resnet import (
    RESNET18_INPUT,
    RESNET20_INPUT,
    RESNET34_INPUT,
    resnet18,
    resnet20,
    resnet34,
)
from bibench_cli.models.vgg_small import VGGSMALL_INPUT, vggsmall

__all__ = [
    "IncompatibleError",
    "UnknownArchitectureError",
    "architecture_family",
    "build_model",
    "check_compatible",
    "list_architectures",
]


@dataclass(frozen=True)
class ArchSpec:
    """A registered architecture: its builder, what it accepts and a one-line description."""

    build: Callable[..., nn.Module]
    inputs: ImageInputSpec
    family: str
    description: str


_REGISTRY: dict[str, ArchSpec] = {
    "resnet20": ArchSpec(
        resnet20, RESNET20_INPUT, "cnn", "ResNet-20 for CIFAR: 3 stages 16/32/64, 0.27M params"
    ),
    "resnet18": ArchSpec(
        resnet18, RESNET18_INPUT, "cnn", "ResNet-18 (torchvision layout), CIFAR stem <= 64 px"
    ),
    "resnet34": ArchSpec(
        resnet34, RESNET34_INPUT, "cnn", "ResNet-34 (torchvision layout), CIFAR stem <= 64 px"
    ),
    "vggsmall": ArchSpec(
        vggsmall, VGGSMALL_INPUT, "cnn", "VGG-Small (LQ-Nets): 6 convs 128-512, 4.66M params"
    ),
}


def _spec(name: str) -> ArchSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise UnknownArchitectureError(f"unknown architecture {name!r}; known: {known}") from None


def list_architectures() -> dict[str, str]:
    """Registered names, each with a one-line description."""
    return {name: spec.description for name, spec in _REGISTRY.items()}


def architecture_family(name: str) -> str:
    """The architecture family the paper's architecture track groups by ("cnn", ...)."""
    return _spec(name).family


def check_compatible(
    name: str, *, in_channels: int, image_size: int, input_kind: str = "image"
) -> None:
    """Raise a one-line :class:`IncompatibleError` if ``name`` cannot take this input."""
    _spec(name).inputs.check(in_channels=in_channels, image_size=image_size, input_kind=input_kind)


def build_model(name: str, *, num_classes: int, in_channels: int, image_size: int) -> nn.Module:
    """Build a freshly initialised full-precision ``name`` for the given task shape."""
    spec = _spec(name)
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1 to build {name!r}, got {num_classes}")
    return spec.build(num_classes=num_classes, in_channels=in_channels, image_size=image_size)
