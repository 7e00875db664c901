"""Blur corruptions: defocus, glass, motion, zoom (common) and gaussian (extra).

Parameters are the CIFAR-10-C tables of ``make_cifar_c.py``; every function maps one float
``H×W×3`` image in [0, 1] to the same.
"""

from __future__ import annotations

import numpy as np

from bibench_cli.data.corruptions import filters

DEFOCUS_BLUR = ((0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1))  # radius, alias blur
GLASS_BLUR = ((0.05, 1), (0.25, 1), (0.4, 1), (0.25, 2), (0.4, 2))  # sigma, iterations
MOTION_BLUR = ((6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5))  # ImageMagick radius, sigma
ZOOM_BLUR_STOP = (1.06, 1.11, 1.16, 1.21, 1.26)  # zoom factors np.arange(1, stop, 0.01)
GAUSSIAN_BLUR_SIGMA = (0.4, 0.6, 0.7, 0.8, 1.0)


def defocus_blur(x: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Correlate with an anti-aliased disk (out-of-focus lens aperture)."""
    radius, alias_blur = DEFOCUS_BLUR[severity - 1]
    return filters.correlate_reflect101(x, filters.disk_kernel(radius, alias_blur))


def glass_blur(x: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Gaussian blur, local pixel shuffling, Gaussian blur (frosted glass).

    The original visits pixels ``h, w`` from ``H-1`` down to 2 with offsets
    ``randint(-1, 1)`` (upper bound exclusive, so each offset is -1 or 0) and "swaps" with
    ``x[h, w], x[h', w'] = x[h', w'], x[h, w]`` — on numpy views that copies the neighbour
    into ``(h, w)`` and leaves the neighbour unchanged. Every neighbour it reads lies above
    or left, i.e. is visited later, so one pass equals a single gather from the unmodified
    image, which is what is done here (max_delta is 1 at every CIFAR severity). The
    intermediate ``np.uint8`` cast (floor) is kept.
    """
    sigma, iterations = GLASS_BLUR[severity - 1]
    shuffled = filters.floor_to_uint8(filters.gaussian(x, sigma) * 255)
    h, w = x.shape[:2]
    rows, cols = np.arange(2, h), np.arange(2, w)
    for _ in range(iterations):
        dx, dy = rng.integers(-1, 1, size=(2, len(rows), len(cols)), endpoint=False)
        shuffled[2:, 2:] = shuffled[rows[:, None] + dy, cols[None, :] + dx]
    return filters.gaussian(shuffled / 255.0, sigma)


def motion_blur(x: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """ImageMagick motion blur at a uniform random angle in [-45°, 45°] (camera shake)."""
    radius, sigma = MOTION_BLUR[severity - 1]
    return filters.motion_blur(x, radius, sigma, rng.uniform(-45, 45))


def zoom_blur(x: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Average the image with centre zooms by 1, 1.01, ... (moving toward the camera).

    The factors are the original's ``np.arange(1, stop, 0.01)``, floating-point end effects
    included: severities 1..5 average 7, 12, 16, 21 and 26 zooms plus the image itself.
    """
    factors = np.arange(1, ZOOM_BLUR_STOP[severity - 1], 0.01)
    total = sum(filters.clipped_zoom(x, factor) for factor in factors)
    return (x + total) / (len(factors) + 1)


def gaussian_blur(x: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Gaussian blur of std ``GAUSSIAN_BLUR_SIGMA`` pixels (scikit-image, 'nearest' borders)."""
    return filters.gaussian(x, GAUSSIAN_BLUR_SIGMA[severity - 1])
