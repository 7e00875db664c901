"""Image transforms in plain torch and Pillow (torchvision is not a dependency).

Batch transforms work on whole ``N×C×H×W`` uint8 tensors at once, so in-memory datasets
(digits, CIFAR-10) augment a batch in one indexing op instead of per image. The Pillow
functions follow torchvision's definitions (RandomResizedCrop's sampling, Resize's
shorter-side rule, CenterCrop's rounding) so ImageNet numbers stay comparable.

Randomness comes from an explicit ``torch.Generator``; ``None`` means torch's global RNG,
which DataLoader worker processes seed from the loader's own generator.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def nhwc_to_nchw(images: np.ndarray) -> torch.Tensor:
    """Stack of H×W×C uint8 images (numpy) to an N×C×H×W uint8 tensor."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).contiguous()


def normalize(
    images_uint8: torch.Tensor, mean: Sequence[float], std: Sequence[float]
) -> torch.Tensor:
    """uint8 N×C×H×W to float32 scaled to [0, 1], then per-channel ``(x - mean) / std``."""
    shape = (1, -1, 1, 1)
    mean_t = torch.tensor(mean, dtype=torch.float32).view(shape)
    std_t = torch.tensor(std, dtype=torch.float32).view(shape)
    return (images_uint8.float().div_(255.0) - mean_t) / std_t


def random_crop_padded(
    images: torch.Tensor, padding: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Zero-pad each image by ``padding`` and cut a random window of the original size."""
    n, c, h, w = images.shape
    padded = F.pad(images, (padding, padding, padding, padding))
    top = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    left = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    rows = (top[:, None] + torch.arange(h))[:, None, :, None]
    cols = (left[:, None] + torch.arange(w))[:, None, None, :]
    batch = torch.arange(n)[:, None, None, None]
    channel = torch.arange(c)[None, :, None, None]
    return padded[batch, channel, rows, cols]


def random_hflip(
    images: torch.Tensor, generator: torch.Generator | None = None, p: float = 0.5
) -> torch.Tensor:
    """Mirror each image left-right with probability ``p``."""
    flip = torch.rand(images.shape[0], generator=generator) < p
    return torch.where(flip[:, None, None, None], images.flip(-1), images)


def random_resized_crop_box(
    width: int,
    height: int,
    scale: tuple[float, float] = (0.08, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
    generator: torch.Generator | None = None,
) -> tuple[int, int, int, int]:
    """torchvision's RandomResizedCrop sampling; returns the box ``(left, top, right, bottom)``.

    Ten tries at a random area fraction and log-uniform aspect ratio that fits, else the
    largest centred crop whose aspect ratio lies within ``ratio``.
    """
    area = width * height
    log_low, log_high = math.log(ratio[0]), math.log(ratio[1])
    for _ in range(10):
        u_area, u_ratio = torch.rand(2, generator=generator).tolist()
        target_area = area * (scale[0] + (scale[1] - scale[0]) * u_area)
        aspect = math.exp(log_low + (log_high - log_low) * u_ratio)
        w = round(math.sqrt(target_area * aspect))
        h = round(math.sqrt(target_area / aspect))
        if 0 < w <= width and 0 < h <= height:
            top = int(torch.randint(0, height - h + 1, (1,), generator=generator))
            left = int(torch.randint(0, width - w + 1, (1,), generator=generator))
            return left, top, left + w, top + h
    in_ratio = width / height
    w, h = width, height
    if in_ratio < ratio[0]:
        h = round(width / ratio[0])
    elif in_ratio > ratio[1]:
        w = round(height * ratio[1])
    top, left = (height - h) // 2, (width - w) // 2
    return left, top, left + w, top + h


def random_resized_crop(
    image: Image.Image, size: int, generator: torch.Generator | None = None
) -> Image.Image:
    """Crop a random box (see :func:`random_resized_crop_box`) and resize it to size×size."""
    box = random_resized_crop_box(image.width, image.height, generator=generator)
    return image.resize((size, size), Image.Resampling.BILINEAR, box=box)


def resize_shorter(image: Image.Image, size: int) -> Image.Image:
    """Resize so the shorter side is ``size``, keeping the aspect ratio (torchvision Resize)."""
    w, h = image.size
    new = (size, int(size * h / w)) if w <= h else (int(size * w / h), size)
    return image.resize(new, Image.Resampling.BILINEAR)


def center_crop(image: Image.Image, size: int) -> Image.Image:
    """The central size×size window, offsets rounded as torchvision CenterCrop does."""
    w, h = image.size
    top = round((h - size) / 2.0)
    left = round((w - size) / 2.0)
    return image.crop((left, top, left + size, top + size))


def eval_resize_crop(image: Image.Image, size: int) -> Image.Image:
    """The standard ImageNet test view: shorter side to size·8/7 (256 for 224), centre crop."""
    return center_crop(resize_shorter(image, round(size * 8 / 7)), size)
