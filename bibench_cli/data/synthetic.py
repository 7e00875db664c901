"""Tiny learnable, clearly synthetic images for demo datasets (no download needed).

Each class is a sinusoidal grating at its own orientation, tinted with its own colour, with
a random phase and pixel noise per image: a small CNN separates the classes within a few
epochs, yet no image looks like real data.
"""

from __future__ import annotations

import numpy as np


def grating_images(
    labels: np.ndarray, num_classes: int, size: int, channels: int, rng: np.random.Generator
) -> np.ndarray:
    """N×C×S×S uint8 images, image i showing class ``labels[i]``'s pattern."""
    count = len(labels)
    angle = np.pi * labels / num_classes
    phase = rng.uniform(0, 2 * np.pi, count)
    axis = np.linspace(0, 2 * np.pi * 3, size, endpoint=False)  # three periods per side
    x, y = np.meshgrid(axis, axis, indexing="xy")
    wave = np.sin(
        np.cos(angle)[:, None, None] * x + np.sin(angle)[:, None, None] * y + phase[:, None, None]
    )
    hue = 2 * np.pi * labels / num_classes
    tint = 0.6 + 0.4 * np.cos(hue[:, None] + 2 * np.pi * np.arange(channels) / max(channels, 1))
    images = 0.5 + 0.4 * wave[:, None] * tint[:, :, None, None]
    images += rng.normal(0.0, 0.08, images.shape)
    return np.clip(np.rint(images * 255), 0, 255).astype(np.uint8)


def balanced_labels(count: int, num_classes: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` labels, every class equally often (up to one), in random order."""
    return rng.permutation(np.arange(count) % num_classes).astype(np.int64)
