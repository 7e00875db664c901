"""numpy/scipy ports of the OpenCV calls inside the original spatter corruption.

Each follows OpenCV's documented algorithm on 8-bit single-channel images, so spatter needs
no ``opencv-python`` dependency.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

EIGHT_NEIGHBOURS = np.ones((3, 3), dtype=bool)
TAN_22_5_Q15 = int(0.4142135623730950488 * (1 << 15) + 0.5)  # OpenCV's fixed-point tan 22.5°
# cv2.DIST_L2 with a 5×5 mask: axial 1, diagonal 1.4, knight's move 2.1969
CHAMFER_5X5 = tuple(
    (dy, dx, {1: 1.0, 2: 1.4, 5: 2.1969}[dy * dy + dx * dx])
    for dy in range(-2, 3)
    for dx in range(-2, 3)
    if dy * dy + dx * dx in (1, 2, 5)
)


def sobel_3x3(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer 3×3 Sobel derivatives (x, y) with replicated borders, as ``cv2.Canny`` takes them."""
    p = np.pad(image.astype(np.int64), 1, mode="edge")
    gx = (p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2])
    gy = (p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:])
    return gx, gy


def canny(image: np.ndarray, low: float, high: float) -> np.ndarray:
    """``cv2.Canny(image, low, high)`` (aperture 3, L1 gradient) as a boolean edge mask.

    Non-maximum suppression quantises the gradient direction with OpenCV's fixed-point
    tan 22.5° test and its asymmetric comparisons (strict on one side); hysteresis keeps the
    8-connected components of candidates (magnitude > low) that hold a pixel > high.
    """
    gx, gy = sobel_3x3(image)
    mag = np.abs(gx) + np.abs(gy)
    m = np.pad(mag, 1)  # OpenCV treats magnitudes outside the image as 0

    def at(dy: int, dx: int) -> np.ndarray:
        return m[1 + dy : m.shape[0] - 1 + dy, 1 + dx : m.shape[1] - 1 + dx]

    ax, ay = np.abs(gx), np.abs(gy) << 15
    tg22 = ax * TAN_22_5_Q15
    horizontal = ay < tg22
    vertical = ~horizontal & (ay > tg22 + (ax << 16))
    same_sign = (gx ^ gy) >= 0
    diagonal_max = np.where(
        same_sign, (mag > at(-1, -1)) & (mag > at(1, 1)), (mag > at(-1, 1)) & (mag > at(1, -1))
    )
    local_max = np.where(
        horizontal,
        (mag > at(0, -1)) & (mag >= at(0, 1)),
        np.where(vertical, (mag > at(-1, 0)) & (mag >= at(1, 0)), diagonal_max),
    )
    candidates = local_max & (mag > int(low))
    labels, _ = ndimage.label(candidates, structure=EIGHT_NEIGHBOURS)
    strong = np.unique(labels[candidates & (mag > int(high))])
    return np.isin(labels, strong[strong > 0])


def chamfer_distance(zero: np.ndarray, cap: float) -> np.ndarray:
    """``cv2.distanceTransform(src, cv2.DIST_L2, 5)`` then ``cv2.threshold(.., cap, THRESH_TRUNC)``.

    Distance from each pixel to the nearest ``zero`` pixel under the 5×5 chamfer metric,
    capped at ``cap``. OpenCV computes the chamfer metric in two raster passes; the same
    metric is reached here by min-plus relaxation over the 16 mask moves (at most ``cap``
    rounds, since every move costs ≥ 1). Pixels outside the image are never sources.
    """
    dist = np.where(zero, 0.0, cap)
    h, w = dist.shape
    for _ in range(int(np.ceil(cap))):
        padded = np.pad(dist, 2, constant_values=np.inf)
        relaxed = dist
        for dy, dx, cost in CHAMFER_5X5:
            relaxed = np.minimum(relaxed, padded[2 + dy : 2 + dy + h, 2 + dx : 2 + dx + w] + cost)
        if np.array_equal(relaxed, dist):
            break
        dist = relaxed
    return dist


def equalize_hist(image: np.ndarray) -> np.ndarray:
    """``cv2.equalizeHist``: map through the cumulative histogram, first used level → 0.

    The scale is float32 as in OpenCV, which decides exact ties such as 252.5.
    """
    hist = np.bincount(image.ravel(), minlength=256)
    first = int(np.flatnonzero(hist)[0])
    if hist[first] == image.size:
        return np.full_like(image, first)
    scale = np.float32(255) / np.float32(image.size - hist[first])
    lut = np.rint((np.cumsum(hist) - hist[first]).astype(np.float32) * scale)
    lut[: first + 1] = 0
    return np.clip(lut, 0, 255).astype(np.uint8)[image]


def box_blur_3x3(image: np.ndarray) -> np.ndarray:
    """``cv2.blur(image, (3, 3))``: 3×3 mean with reflect-101 borders.

    8-bit input is rounded back to 8 bits; any other input is averaged into float32 as
    OpenCV does for the original's float32 distances (the floor cast that follows sees
    float32 rounding, e.g. 19.999998 rather than 20).
    """
    if image.dtype == np.uint8:
        mean = ndimage.uniform_filter(image.astype(np.float64), size=3, mode="mirror")
        return np.rint(mean).astype(np.uint8)
    return ndimage.uniform_filter(
        image.astype(np.float32), size=3, mode="mirror", output=np.float32
    )


def filter2d_uint8(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``cv2.filter2D(image, cv2.CV_8U, kernel)``: correlation, reflect-101, saturated to 0..255."""
    out = ndimage.correlate(image.astype(np.float64), kernel.astype(np.float64), mode="mirror")
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
