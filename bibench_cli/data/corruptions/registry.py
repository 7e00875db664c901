"""The 19 CIFAR-10-C corruptions by name, in the release's order (15 common, then 4 extra)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bibench_cli.data.corruptions import blur, digital, noise, weather
from bibench_cli.data.corruptions.spatter import spatter

Corruption = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]

CORRUPTIONS: dict[str, Corruption] = {
    "gaussian_noise": noise.gaussian_noise,
    "shot_noise": noise.shot_noise,
    "impulse_noise": noise.impulse_noise,
    "defocus_blur": blur.defocus_blur,
    "glass_blur": blur.glass_blur,
    "motion_blur": blur.motion_blur,
    "zoom_blur": blur.zoom_blur,
    "snow": weather.snow,
    "frost": weather.frost,
    "fog": weather.fog,
    "brightness": weather.brightness,
    "contrast": digital.contrast,
    "elastic_transform": digital.elastic_transform,
    "pixelate": digital.pixelate,
    "jpeg_compression": digital.jpeg_compression,
    "speckle_noise": noise.speckle_noise,
    "gaussian_blur": blur.gaussian_blur,
    "spatter": spatter,
    "saturate": digital.saturate,
}

# Corruptions whose texture is generated here instead of taken from the original's assets;
# results on them are not comparable with the published CIFAR-10-C files.
PROCEDURAL: frozenset[str] = frozenset({"frost"})

# Corruptions that draw random numbers (the rest ignore their generator).
RANDOM: frozenset[str] = frozenset(
    {
        "gaussian_noise",
        "shot_noise",
        "impulse_noise",
        "speckle_noise",
        "glass_blur",
        "motion_blur",
        "snow",
        "frost",
        "fog",
        "spatter",
        "elastic_transform",
    }
)

SEVERITIES = (1, 2, 3, 4, 5)
