"""Diamond-square plasma fractal: the cloud texture behind fog (and the haze of frost)."""

from __future__ import annotations

import numpy as np


def plasma_fractal(size: int, decay: float, rng: np.random.Generator) -> np.ndarray:
    """The original ``plasma_fractal(mapsize, wibbledecay)``: a ``size×size`` map in [0, 1].

    Each level sets square centres and then diamond centres to the mean of their four
    neighbours (wrapping around) plus ``wibble·U(-wibble, wibble)``; ``wibble`` starts at 100
    and is divided by ``decay`` per level, so a larger decay gives smoother clouds. ``size``
    must be a power of two.
    """
    if size & (size - 1):
        raise ValueError(f"plasma_fractal size must be a power of two, got {size}")
    field = np.zeros((size, size))
    step, wibble = size, 100.0

    def wibbled_mean(total: np.ndarray) -> np.ndarray:
        return total / 4 + wibble * rng.uniform(-wibble, wibble, total.shape)

    while step >= 2:
        half = step // 2
        corners = field[0::step, 0::step]
        square = corners + np.roll(corners, -1, axis=0)
        square = square + np.roll(square, -1, axis=1)
        field[half::step, half::step] = wibbled_mean(square)
        centres = field[half::step, half::step]
        corners = field[0::step, 0::step]
        field[0::step, half::step] = wibbled_mean(
            centres + np.roll(centres, 1, axis=0) + corners + np.roll(corners, -1, axis=1)
        )
        field[half::step, 0::step] = wibbled_mean(
            centres + np.roll(centres, 1, axis=1) + corners + np.roll(corners, -1, axis=0)
        )
        step //= 2
        wibble /= decay
    field -= field.min()
    return field / field.max()


def fractal_field(shape: tuple[int, int], decay: float, rng: np.random.Generator) -> np.ndarray:
    """A plasma fractal cropped to ``shape``, as the original crops its 32×32 map ``[:32, :32]``."""
    size = 1 << max(1, (max(shape) - 1).bit_length())
    return plasma_fractal(size, decay, rng)[: shape[0], : shape[1]]
