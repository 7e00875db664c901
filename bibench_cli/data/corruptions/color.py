"""Colour-space helpers: scikit-image's HSV conversion and OpenCV's RGB→gray weights."""

from __future__ import annotations

import numpy as np

LUMA = np.array([0.299, 0.587, 0.114])  # cv2.COLOR_RGB2GRAY (ITU-R BT.601)


def rgb_to_hsv(rgb: np.ndarray) -> np.ndarray:
    """``skimage.color.rgb2hsv``: hue in [0, 1); gray pixels get hue 0 and saturation 0."""
    v = rgb.max(axis=-1)
    delta = v - rgb.min(axis=-1)
    safe_delta = np.where(delta == 0, 1.0, delta)
    r, g, b = np.moveaxis(rgb, -1, 0)
    # scikit-image assigns red, then green, then blue: on ties the later channel wins
    hue = np.select(
        [b == v, g == v],
        [4.0 + (r - g) / safe_delta, 2.0 + (b - r) / safe_delta],
        (g - b) / safe_delta,
    )
    hue = np.where(delta == 0, 0.0, (hue / 6.0) % 1.0)
    sat = np.where(delta == 0, 0.0, delta / np.where(v == 0, 1.0, v))
    return np.stack([hue, sat, v], axis=-1)


def hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    """``skimage.color.hsv2rgb``: the six-sector formula."""
    h, s, v = np.moveaxis(hsv, -1, 0)
    sector = np.floor(h * 6.0)
    f = h * 6.0 - sector
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    choices = np.stack(
        [
            np.stack([v, t, p], axis=-1),
            np.stack([q, v, p], axis=-1),
            np.stack([p, v, t], axis=-1),
            np.stack([p, q, v], axis=-1),
            np.stack([t, p, v], axis=-1),
            np.stack([v, p, q], axis=-1),
        ]
    )
    index = (sector.astype(int) % 6)[None, ..., None]
    return np.take_along_axis(choices, index, axis=0)[0]


def luma(rgb: np.ndarray) -> np.ndarray:
    """``cv2.cvtColor(x, cv2.COLOR_RGB2GRAY)`` on a float image, keeping a channel axis."""
    return rgb @ LUMA[:, None]
