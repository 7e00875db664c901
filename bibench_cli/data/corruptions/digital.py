"""Digital corruptions: contrast, elastic, pixelate, JPEG (common) and saturate (extra).

Parameters are the CIFAR-10-C tables of ``make_cifar_c.py``; every function maps one float
``H×W×3`` image in [0, 1] to the same.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from scipy import ndimage

from bibench_cli.data.corruptions import filters
from bibench_cli.data.corruptions.color import hsv_to_rgb, rgb_to_hsv

CONTRAST_FACTOR = (0.75, 0.5, 0.4, 0.3, 0.15)
# displacement scale, displacement smoothness, affine jitter: fractions of the image side
ELASTIC = (
    (0, 0, 0.08),
    (0.05, 0.2, 0.07),
    (0.08, 0.06, 0.06),
    (0.1, 0.04, 0.05),
    (0.1, 0.03, 0.03),
)
PIXELATE_SCALE = (0.95, 0.9, 0.85, 0.75, 0.65)
JPEG_QUALITY = (80, 65, 58, 50, 40)
SATURATE = ((0.3, 0), (0.1, 0), (1.5, 0), (2, 0.1), (2.5, 0.2))  # saturation gain, offset


def contrast(x: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Shrink every channel toward its mean by ``CONTRAST_FACTOR`` (fog-free low contrast)."""
    means = x.mean(axis=(0, 1), keepdims=True)
    return (x - means) * CONTRAST_FACTOR[severity - 1] + means


def affine_from_points(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """``cv2.getAffineTransform``: the 2×3 matrix mapping three ``(x, y)`` points onto three."""
    design = np.hstack([src, np.ones((3, 1))])
    return np.linalg.solve(design, dst).T


def elastic_transform(x: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Random affine warp, then a smooth random displacement field (pixels on a rubber sheet).

    As the original (itself a modification of a public gist): three points around the centre
    jittered by ``U(±jitter)`` define an affine ``cv2.warpAffine`` (bilinear, reflect-101
    borders), then each pixel is displaced by ``scale · gaussian(U(-1, 1), smoothness)``
    (bilinear, reflect borders). The original's parameters are fractions of ``IMSIZE = 32``;
    here they scale with the image's shorter side (identical on 32×32), and point coordinates
    are ``(x, y)`` for non-square images. OpenCV interpolates with 1/32-pixel fixed-point
    weights, this in floating point.
    """
    h, w = x.shape[:2]
    side = min(h, w)
    scale, smoothness, jitter = (side * f for f in ELASTIC[severity - 1])
    centre = np.array([w // 2, h // 2], dtype=np.float64)
    half = side // 3
    src = np.array([centre + half, [centre[0] + half, centre[1] - half], centre - half])
    dst = src + rng.uniform(-jitter, jitter, size=src.shape)
    forward = np.vstack([affine_from_points(src, dst), [0, 0, 1]])
    inverse = np.linalg.inv(forward)[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    src_x = inverse[0, 0] * xs + inverse[0, 1] * ys + inverse[0, 2]
    src_y = inverse[1, 0] * xs + inverse[1, 1] * ys + inverse[1, 2]
    warped = sample_channels(x, src_y, src_x, mode="mirror")
    dx = filters.gaussian(rng.uniform(-1, 1, (h, w)), smoothness, mode="reflect", truncate=3)
    dy = filters.gaussian(rng.uniform(-1, 1, (h, w)), smoothness, mode="reflect", truncate=3)
    return sample_channels(warped, ys + dy * scale, xs + dx * scale, mode="reflect")


def sample_channels(x: np.ndarray, rows: np.ndarray, cols: np.ndarray, mode: str) -> np.ndarray:
    """Bilinear lookup of every channel of ``x`` at fractional ``(rows, cols)``."""
    return np.stack(
        [
            ndimage.map_coordinates(x[..., c], [rows, cols], order=1, mode=mode)
            for c in range(x.shape[-1])
        ],
        axis=-1,
    )


def to_pil(x: np.ndarray) -> Image.Image:
    """The float image back as the 8-bit RGB PIL image the original worked on (exact here)."""
    return Image.fromarray(np.clip(np.rint(x * 255), 0, 255).astype(np.uint8))


def pixelate(x: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """PIL box-downsample by ``PIXELATE_SCALE`` and box-upsample back (low resolution)."""
    h, w = x.shape[:2]
    scale = PIXELATE_SCALE[severity - 1]
    small = to_pil(x).resize((max(1, int(w * scale)), max(1, int(h * scale))), Image.BOX)
    return np.asarray(small.resize((w, h), Image.BOX)) / 255.0


def jpeg_compression(x: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Pillow JPEG round trip at ``JPEG_QUALITY`` (default 4:2:0 chroma subsampling)."""
    buffer = io.BytesIO()
    to_pil(x).save(buffer, format="JPEG", quality=JPEG_QUALITY[severity - 1])
    return np.asarray(Image.open(buffer).convert("RGB")) / 255.0


def saturate(x: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """HSV saturation ``s·gain + offset`` (clipped): severities 1-2 wash out, 3-5 oversaturate.

    As in the original, gray pixels have hue 0, so a positive offset (severities 4-5) tints
    them red.
    """
    gain, offset = SATURATE[severity - 1]
    hsv = rgb_to_hsv(x)
    hsv[..., 1] = np.clip(hsv[..., 1] * gain + offset, 0, 1)
    return hsv_to_rgb(hsv)
