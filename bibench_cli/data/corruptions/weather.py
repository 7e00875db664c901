"""Weather corruptions: snow, frost, fog, brightness.

Parameters are the CIFAR-10-C tables of ``make_cifar_c.py``; every function maps one float
``H×W×3`` image in [0, 1] to the same. Frost is a procedural substitute (see :func:`frost`).
"""

from __future__ import annotations

import numpy as np

from bibench_cli.data.corruptions import filters
from bibench_cli.data.corruptions.color import hsv_to_rgb, luma, rgb_to_hsv
from bibench_cli.data.corruptions.fractal import fractal_field

# flake mean, flake std, zoom, threshold, motion radius, motion sigma, image weight
SNOW = (
    (0.1, 0.2, 1, 0.6, 8, 3, 0.95),
    (0.1, 0.2, 1, 0.5, 10, 4, 0.9),
    (0.15, 0.3, 1.75, 0.55, 10, 4, 0.9),
    (0.25, 0.3, 2.25, 0.6, 12, 6, 0.85),
    (0.3, 0.3, 1.25, 0.65, 14, 12, 0.8),
)
FROST = ((1, 0.2), (1, 0.3), (0.9, 0.4), (0.85, 0.4), (0.75, 0.45))  # image, frost weight
FOG = ((0.2, 3), (0.5, 3), (0.75, 2.5), (1, 2), (1.5, 1.75))  # fog strength, fractal decay
BRIGHTNESS_SHIFT = (0.05, 0.1, 0.15, 0.2, 0.3)

FROST_TINT = np.array([0.82, 0.9, 1.0])  # bluish white ice
FROST_SEED_DENSITY = 0.08  # fraction of pixels that seed an ice needle
FROST_NEEDLE = (4, 2.0)  # needle length (motion-blur radius) and fall-off (sigma), pixels
FROST_DIRECTIONS = 3  # needle orientations per image


def snow(x: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Falling snow, following the original step by step.

    Normal flake field, centre zoom, threshold, 8-bit cast, ImageMagick motion blur at an
    angle in [-135°, -45°] (8-bit again, as the PNG round trip does), then the image is
    whitened toward ``1.5·gray + 0.5`` and the flakes and their 180° rotation are added.
    """
    mean, std, zoom, threshold, radius, sigma, keep = SNOW[severity - 1]
    flakes = rng.normal(loc=mean, scale=std, size=x.shape[:2])
    flakes = filters.clipped_zoom(flakes, zoom)
    flakes[flakes < threshold] = 0
    flakes = filters.floor_to_uint8(np.clip(flakes, 0, 1) * 255).astype(np.float64)
    flakes = filters.motion_blur(flakes, radius, sigma, rng.uniform(-135, -45))
    flakes = np.clip(np.rint(flakes), 0, 255)[..., None] / 255.0
    x = keep * x + (1 - keep) * np.maximum(x, luma(x) * 1.5 + 0.5)
    return x + flakes + np.rot90(flakes, k=2)


def frost_texture(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """PROCEDURAL stand-in for the original's frost photographs (not shippable), in [0, 1].

    A plasma-fractal haze plus ice needles: sparse random seeds smeared by the motion-blur
    line kernel along a few random orientations, then tinted bluish white. Its statistics
    were chosen by eye, not calibrated against the photographs.
    """
    haze = fractal_field(shape, 2.0, rng)
    seeds = (rng.random(shape) < FROST_SEED_DENSITY).astype(np.float64)
    radius, sigma = FROST_NEEDLE
    needles = np.max(
        [
            filters.motion_blur(seeds, radius, sigma, angle)
            for angle in rng.uniform(0, 360, FROST_DIRECTIONS)
        ],
        axis=0,
    )
    needles = needles / max(needles.max(), 1e-12)
    ice = np.clip(0.35 * haze + 0.75 * needles, 0, 1)
    return ice[..., None] * FROST_TINT


def frost(x: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Frost on the lens: ``a·x + b·frost`` with the published weights (a, b).

    PROCEDURAL: the original blends a random 32×32 crop of one of six frost photographs
    (downscaled by 5); this uses :func:`frost_texture` instead.
    """
    image_weight, frost_weight = FROST[severity - 1]
    return image_weight * x + frost_weight * frost_texture(x.shape[:2], rng)


def fog(x: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Add a plasma-fractal cloud layer, rescaled so the image's maximum is kept."""
    strength, decay = FOG[severity - 1]
    peak = x.max()
    x = x + strength * fractal_field(x.shape[:2], decay, rng)[..., None]
    return x * peak / (peak + strength)


def brightness(x: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Raise HSV value by ``BRIGHTNESS_SHIFT`` (clipped at 1): daylight over-exposure."""
    hsv = rgb_to_hsv(x)
    hsv[..., 2] = np.clip(hsv[..., 2] + BRIGHTNESS_SHIFT[severity - 1], 0, 1)
    return hsv_to_rgb(hsv)
