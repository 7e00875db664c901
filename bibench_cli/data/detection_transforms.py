"""Transforms of (image, target) pairs for detection: the boxes move with the pixels.

Images are float ``C×H×W`` tensors in [0, 1]; targets hold ``boxes`` (N×4 xyxy float),
``labels`` and ``difficult``. torchvision's detectors resize again inside the model
(``min_size``/``max_size``), so resizing here is optional: it shrinks images before they
are batched. Randomness comes from an explicit ``torch.Generator``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

Target = dict[str, Tensor]


def resize_keep_ratio(
    image: Tensor, target: Target, *, min_size: int, max_size: int
) -> tuple[Tensor, Target]:
    """Scale so the short side is ``min_size`` unless the long side would pass ``max_size``
    (mmdet's keep-ratio ``img_scale=(max_size, min_size)``); boxes scale with the image."""
    height, width = image.shape[-2:]
    scale = min(min_size / min(height, width), max_size / max(height, width))
    new_height, new_width = round(height * scale), round(width * scale)
    resized = F.interpolate(
        image[None], size=(new_height, new_width), mode="bilinear", antialias=scale < 1
    )[0]
    factors = torch.tensor([new_width / width, new_height / height] * 2)
    return resized, {**target, "boxes": target["boxes"] * factors}


def hflip(image: Tensor, target: Target) -> tuple[Tensor, Target]:
    """Mirror left-right: x becomes width - x, so x1 and x2 swap roles."""
    width = image.shape[-1]
    boxes = target["boxes"]
    flipped = torch.stack([width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0], boxes[:, 3]], 1)
    return image.flip(-1), {**target, "boxes": flipped}


def drop_difficult(target: Target) -> Target:
    """Only the objects that are not ``difficult``: mmdet trains without them (VOC difficult
    objects, COCO crowd regions) while the evaluation ignores them."""
    keep = ~target["difficult"]
    return {key: value[keep] for key, value in target.items()}


@dataclass
class DetectionAugment:
    """Training transform: random horizontal flip, then an optional keep-ratio resize."""

    flip_probability: float = 0.5
    resize: tuple[int, int] | None = None  # (min_size, max_size)
    generator: torch.Generator | None = None

    def __call__(self, image: Tensor, target: Target) -> tuple[Tensor, Target]:
        if torch.rand((), generator=self.generator) < self.flip_probability:
            image, target = hflip(image, target)
        if self.resize is not None:
            min_size, max_size = self.resize
            image, target = resize_keep_ratio(image, target, min_size=min_size, max_size=max_size)
        return image, target
