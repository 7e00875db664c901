"""``corrupt()``: apply one registered corruption to a uint8 NHWC batch, reproducibly.

Each image gets its own ``numpy.random.Generator`` seeded from (seed, corruption, image
index), so an image's corruption does not depend on which batch it arrives in (pass
``first_index`` when corrupting a dataset in chunks). The severity is deliberately not part
of the seed: an image sees the same noise pattern, blur angle or fog cloud at every
severity, only scaled by the published parameters, so severities are paired comparisons.

Gray (1-channel) images are replicated to RGB, corrupted, and averaged back over the
channels, as a gray camera would see the corrupted scene. Consequences: per-channel noise
is averaged (std about 1/√3 of the published value), coloured overlays (frost tint, water,
mud) count by their mean level, and saturate leaves gray images unchanged at severities
1-3 (there is no saturation to scale; 4-5 add the original's red tint to gray pixels).
"""

from __future__ import annotations

import zlib

import numpy as np

from bibench_cli.data.corruptions.registry import CORRUPTIONS, SEVERITIES


def list_corruptions() -> list[str]:
    """The registered corruption names, in CIFAR-10-C order."""
    return list(CORRUPTIONS)


def image_rng(seed: int, name: str, index: int) -> np.random.Generator:
    """The generator for one image: a stable hash of the name keeps seeds apart per corruption."""
    return np.random.default_rng([seed, zlib.crc32(name.encode()), index])


def check_request(images: np.ndarray, name: str, severity: int, seed: int) -> None:
    """Reject a bad call with a one-line message naming the bad value and what is accepted."""
    if name not in CORRUPTIONS:
        raise ValueError(f"unknown corruption {name!r}; expected one of: {', '.join(CORRUPTIONS)}")
    if (
        isinstance(severity, bool)
        or not isinstance(severity, (int, np.integer))
        or (severity not in SEVERITIES)
    ):
        raise ValueError(f"severity must be one of {SEVERITIES}, got {severity!r}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not (
        isinstance(images, np.ndarray)
        and images.dtype == np.uint8
        and images.ndim == 4
        and images.shape[-1] in (1, 3)
    ):
        got = f"{type(images).__name__} {getattr(images, 'dtype', '')} {np.shape(images)}"
        raise ValueError(f"images must be a uint8 N×H×W×C array with C 1 or 3, got {got}")


def to_uint8(x: np.ndarray) -> np.ndarray:
    """Float image in [0, 1] to uint8, rounding to nearest.

    The original casts with ``np.uint8`` (floor); rounding keeps an unchanged pixel
    unchanged and removes a half-level darkening bias.
    """
    return np.clip(np.rint(x * 255), 0, 255).astype(np.uint8)


def corrupt(
    images: np.ndarray, name: str, severity: int, seed: int = 0, first_index: int = 0
) -> np.ndarray:
    """Corrupt every image of a uint8 ``N×H×W×C`` batch (C = 1 or 3); same shape and dtype.

    Image ``i`` is drawn with the generator for index ``first_index + i``.
    """
    check_request(images, name, severity, seed)
    function = CORRUPTIONS[name]
    gray = images.shape[-1] == 1
    out = np.empty_like(images)
    for i, image in enumerate(images):
        x = image.astype(np.float64) / 255.0
        if gray:
            x = np.repeat(x, 3, axis=-1)
        y = function(x, int(severity), image_rng(seed, name, first_index + i))
        if gray:
            y = np.clip(y, 0, 1).mean(axis=-1, keepdims=True)
        out[i] = to_uint8(y)
    return out
