"""Transforms of (image, target) pairs for detection: the boxes move with the pixels.

Images are float ``C×H×W`` tensors in [0, 1]; targets hold ``boxes`` (N×4 xyxy float),
``labels`` and ``difficult``. torchvision's detectors resize and normalise inside the model
(Faster R-CNN keeping the ratio within 1000×600, SSD to 300×300), so only the training
augmentation and the choice of training objects happen here. Randomness comes from an
explicit ``torch.Generator``.
"""

from __future__ import annotations

import torch
from torch import Tensor

Target = dict[str, Tensor]


def hflip(image: Tensor, target: Target) -> tuple[Tensor, Target]:
    """Mirror left-right: x becomes width - x, so x1 and x2 swap roles."""
    width = image.shape[-1]
    boxes = target["boxes"]
    flipped = torch.stack([width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0], boxes[:, 3]], 1)
    return image.flip(-1), {**target, "boxes": flipped}


def random_hflip(
    image: Tensor, target: Target, probability: float, generator: torch.Generator | None
) -> tuple[Tensor, Target]:
    """:func:`hflip` with ``probability`` (the official configs' flip ratio 0.5)."""
    if torch.rand((), generator=generator) < probability:
        return hflip(image, target)
    return image, target


def drop_difficult(target: Target) -> Target:
    """Only the objects that are not ``difficult``: mmdet trains without them (VOC difficult
    objects, COCO crowd regions) while the evaluation ignores them."""
    keep = ~target["difficult"]
    return {key: value[keep] for key, value in target.items()}
