"""Spatter (extra corruption): water drops (severities 1-3) or mud (4-5) on the lens.

Follows the original's procedure step by step, with the OpenCV calls ported in
:mod:`~bibench_cli.data.corruptions.cvports`. Parameters are the CIFAR-10-C table.
"""

from __future__ import annotations

import numpy as np

from bibench_cli.data.corruptions import cvports, filters

# liquid mean, liquid std, liquid smoothness, threshold, intensity (water) or mud blur, is mud
SPATTER = (
    (0.62, 0.1, 0.7, 0.7, 0.5, False),
    (0.65, 0.1, 0.8, 0.7, 0.5, False),
    (0.65, 0.3, 1.0, 0.69, 0.5, False),
    (0.65, 0.1, 0.7, 0.69, 0.6, True),
    (0.65, 0.1, 0.5, 0.68, 0.6, True),
)
WATER_RGB = np.array([175, 238, 238]) / 255.0  # pale turquoise
MUD_RGB = np.array([63, 42, 20]) / 255.0  # mud brown
EMBOSS = np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])
EDGE_DISTANCE_CAP = 20.0


def spatter(x: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Smooth a normal field into a liquid layer, threshold it, then add water or mud."""
    mean, std, smoothness, threshold, intensity, is_mud = SPATTER[severity - 1]
    liquid = filters.gaussian(rng.normal(loc=mean, scale=std, size=x.shape[:2]), smoothness)
    liquid[liquid < threshold] = 0
    if is_mud:
        return mud(x, liquid > threshold, intensity)
    return water(x, liquid, intensity)


def water(x: np.ndarray, liquid: np.ndarray, intensity: float) -> np.ndarray:
    """Translucent embossed water: the original's Canny → distance → equalise → emboss chain.

    Checked against OpenCV 5 on the same liquid layers: identical, except that the
    original's ``astype(np.uint8)`` wraps liquid values above 1 (rare, severity 3) around to
    dark ones, where this clips them.
    """
    liquid_u8 = filters.floor_to_uint8(liquid * 255)
    edges = cvports.canny(liquid_u8, 50, 150)
    dist = cvports.chamfer_distance(edges, EDGE_DISTANCE_CAP)
    dist = filters.floor_to_uint8(cvports.box_blur_3x3(dist))
    dist = cvports.equalize_hist(dist)
    dist = cvports.box_blur_3x3(cvports.filter2d_uint8(dist, EMBOSS)).astype(np.float64)
    layer = liquid_u8 * dist
    peak = layer.max()
    if peak == 0:  # no liquid above threshold: the original divides 0 by 0 here
        return x
    return x + (layer / peak * intensity)[..., None] * WATER_RGB


def mud(x: np.ndarray, mask: np.ndarray, blur: float) -> np.ndarray:
    """Opaque mud: blur the liquid mask, keep its solid core (≥ 0.8), blend in mud brown."""
    cover = filters.gaussian(mask.astype(np.float64), blur)
    cover[cover < 0.8] = 0
    cover = cover[..., None]
    return x * (1 - cover) + cover * MUD_RGB
