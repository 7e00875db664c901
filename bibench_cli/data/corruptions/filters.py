"""Filters shared by several corruptions, each matching the library call the original used.

Hendrycks & Dietterich's ``make_cifar_c.py`` mixes scikit-image, OpenCV, SciPy and ImageMagick;
these are their numpy/scipy equivalents so one kernel builder serves every corruption that
needs it. Images are float ``H×W×C`` arrays; 2-D fields (snow, spatter) are ``H×W``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage


def gaussian(
    x: np.ndarray, sigma: float, mode: str = "nearest", truncate: float = 4.0
) -> np.ndarray:
    """``skimage.filters.gaussian(x, sigma, multichannel=True)``: blur rows and columns only."""
    sigmas = (sigma, sigma) + (0,) * (x.ndim - 2)
    return ndimage.gaussian_filter(x, sigmas, mode=mode, truncate=truncate)


def cv2_gaussian_taps(ksize: int, sigma: float) -> np.ndarray:
    """``cv2.getGaussianKernel(ksize, sigma)`` for ``sigma > 0``: normalised sampled Gaussian."""
    t = np.arange(ksize) - (ksize - 1) / 2
    taps = np.exp(-(t**2) / (2 * sigma**2))
    return taps / taps.sum()


def disk_kernel(radius: float, alias_blur: float) -> np.ndarray:
    """The original ``disk()``: a normalised aliased disk, anti-aliased by a 3×3 Gaussian.

    The original builds it on a 17×17 grid (every CIFAR radius is ≤ 8, where it uses the 3×3
    anti-aliasing kernel); rows and columns that stay exactly zero are trimmed, which leaves
    the correlation unchanged and keeps it cheap.
    """
    half = math.ceil(radius) + 1
    grid = np.arange(-half, half + 1)
    disk = (grid[:, None] ** 2 + grid[None, :] ** 2 <= radius**2).astype(np.float64)
    disk /= disk.sum()
    taps = cv2_gaussian_taps(3, alias_blur)
    kernel = ndimage.correlate1d(
        ndimage.correlate1d(disk, taps, axis=0, mode="mirror"), taps, axis=1, mode="mirror"
    )
    rows = np.flatnonzero(kernel.any(axis=1))
    cols = np.flatnonzero(kernel.any(axis=0))
    return kernel[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def correlate_reflect101(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``cv2.filter2D(x, -1, kernel)`` per channel: correlation, reflect-101 (scipy 'mirror')."""
    weights = kernel.reshape(kernel.shape + (1,) * (x.ndim - 2))
    return ndimage.correlate(x, weights, mode="mirror")


def motion_blur(x: np.ndarray, radius: float, sigma: float, angle: float) -> np.ndarray:
    """ImageMagick's ``MotionBlurImage`` (MagickCore/effect.c), the original's motion blur.

    A one-sided line of ``2*ceil(radius)+1`` taps weighted ``exp(-i²/2σ²)`` (normalised);
    tap ``i`` reads the pixel at ``(x + ceil(i·cos θ - ½), y + ceil(i·sin θ - ½))``, with
    ImageMagick's default "edge" virtual pixels outside the image.
    """
    width = 2 * math.ceil(radius) + 1
    i = np.arange(width)
    weights = np.exp(-(i**2) / (2 * sigma**2))
    weights /= weights.sum()
    theta = math.radians(angle)
    dx = np.ceil(i * math.cos(theta) - 0.5).astype(int)
    dy = np.ceil(i * math.sin(theta) - 0.5).astype(int)
    h, w = x.shape[:2]
    rows = np.clip(np.arange(h)[None, :] + dy[:, None], 0, h - 1)
    cols = np.clip(np.arange(w)[None, :] + dx[:, None], 0, w - 1)
    taps = x[rows[:, :, None], cols[:, None, :]]  # width × H × W (× C)
    return np.tensordot(weights, taps, axes=1)


def clipped_zoom(x: np.ndarray, factor: float) -> np.ndarray:
    """The original ``clipped_zoom``: enlarge the centre crop by ``factor`` (bilinear), keep H×W.

    The original assumes square images; here height and width are cropped independently.
    """
    h, w = x.shape[:2]
    ch, cw = math.ceil(h / factor), math.ceil(w / factor)
    top, left = (h - ch) // 2, (w - cw) // 2
    zoom = (factor, factor) + (1,) * (x.ndim - 2)
    zoomed = ndimage.zoom(x[top : top + ch, left : left + cw], zoom, order=1)
    top, left = (zoomed.shape[0] - h) // 2, (zoomed.shape[1] - w) // 2
    return zoomed[top : top + h, left : left + w]


def floor_to_uint8(x: np.ndarray) -> np.ndarray:
    """``np.uint8(x)`` as the original casts intermediates: floor, not round.

    Clipped first: every value the original casts is already in 0..255, so this only guards
    against wrap-around.
    """
    return np.clip(x, 0, 255).astype(np.uint8)
