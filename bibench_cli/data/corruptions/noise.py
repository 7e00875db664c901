"""Noise corruptions: gaussian, shot, impulse (common) and speckle (extra).

Parameters are the CIFAR-10-C tables of Hendrycks & Dietterich's ``make_cifar_c.py``
(severities 1..5). Every function maps one float ``H×W×3`` image in [0, 1] to the same.
"""

from __future__ import annotations

import numpy as np

GAUSSIAN_NOISE_STD = (0.04, 0.06, 0.08, 0.09, 0.10)
SHOT_NOISE_PHOTONS = (500, 250, 100, 75, 50)
IMPULSE_NOISE_AMOUNT = (0.01, 0.02, 0.03, 0.05, 0.07)
SPECKLE_NOISE_STD = (0.06, 0.10, 0.12, 0.16, 0.20)


def gaussian_noise(x: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Additive i.i.d. normal noise of std ``GAUSSIAN_NOISE_STD``: sensor read noise."""
    return x + rng.normal(scale=GAUSSIAN_NOISE_STD[severity - 1], size=x.shape)


def shot_noise(x: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Poisson photon counting with ``SHOT_NOISE_PHOTONS`` photons at full intensity."""
    photons = SHOT_NOISE_PHOTONS[severity - 1]
    return rng.poisson(x * photons) / photons


def impulse_noise(x: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Salt-and-pepper: each value becomes 0 or 1 (even odds) with probability ``amount``.

    The original calls ``skimage.util.random_noise(mode='s&p')``; this is current
    scikit-image's per-value draw. The 2018 scikit-image drew ``ceil(amount·size/2)``
    coordinates per kind with ``randint(0, dim - 1)``, which never reached the last row,
    column or channel; that quirk is not reproduced.
    """
    flipped = rng.random(x.shape) < IMPULSE_NOISE_AMOUNT[severity - 1]
    salted = rng.random(x.shape) < 0.5
    return np.where(flipped, salted.astype(x.dtype), x)


def speckle_noise(x: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Multiplicative normal noise ``x + x·N(0, std²)``: brighter pixels get noisier."""
    return x + x * rng.normal(scale=SPECKLE_NOISE_STD[severity - 1], size=x.shape)
