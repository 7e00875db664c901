"""Synthetic scenes for the detection demo writers: red squares, green circles and blue
triangles on plain or noisy backgrounds. Shapes do not overlap and each box is the exact
extent of its shape's pixels, so a detector can learn the set in a few hundred steps.
Scenes depend only on the numpy generator passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

SHAPE_COLOURS = {"square": (220, 40, 40), "circle": (40, 190, 60), "triangle": (50, 80, 230)}
SHAPES = tuple(SHAPE_COLOURS)
SMALL_FRACTION = 1 / 6  # shapes narrower than this share of the image are "small"
MAX_OBJECTS = 3
PLACEMENT_TRIES = 20


@dataclass(frozen=True)
class DemoObject:
    """One drawn shape; ``box`` = first and last covered pixel (x0, y0, x1, y1), 0-based."""

    shape: str
    box: tuple[int, int, int, int]
    small: bool


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    base = rng.integers(70, 200) + rng.integers(-20, 21, 3)
    image = np.broadcast_to(base, (size, size, 3)).astype(np.float64)
    if rng.random() < 0.5:
        image = image + rng.normal(0, 25, (size, size, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def _mask(shape: str, x0: int, y0: int, side: int, size: int) -> np.ndarray:
    mask = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(mask)
    x1, y1 = x0 + side - 1, y0 + side - 1
    if shape == "square":
        draw.rectangle((x0, y0, x1, y1), fill=255)
    elif shape == "circle":
        draw.ellipse((x0, y0, x1, y1), fill=255)
    else:  # triangle pointing up
        draw.polygon([(x0, y1), (x1, y1), ((x0 + x1) // 2, y0)], fill=255)
    return np.asarray(mask) > 0


def _disjoint(box: tuple[int, int, int, int], others: list[DemoObject]) -> bool:
    x0, y0, x1, y1 = box
    return all(x1 < o.box[0] or o.box[2] < x0 or y1 < o.box[1] or o.box[3] < y0 for o in others)


def draw_scene(rng: np.random.Generator, size: int) -> tuple[Image.Image, list[DemoObject]]:
    """A ``size``×``size`` RGB scene of 1-3 non-overlapping shapes and their exact boxes."""
    pixels = _background(rng, size)
    objects: list[DemoObject] = []
    for _ in range(int(rng.integers(1, MAX_OBJECTS + 1))):
        shape = SHAPES[int(rng.integers(len(SHAPES)))]
        side = int(rng.integers(size // 8, int(size / 2.5) + 1))
        for _ in range(PLACEMENT_TRIES):
            x0, y0 = (int(v) for v in rng.integers(0, size - side + 1, 2))
            mask = _mask(shape, x0, y0, side, size)
            rows, cols = np.nonzero(mask)
            box = (int(cols.min()), int(rows.min()), int(cols.max()), int(rows.max()))
            if _disjoint(box, objects):
                colour = np.clip(np.add(SHAPE_COLOURS[shape], rng.integers(-25, 26, 3)), 0, 255)
                pixels[mask] = colour.astype(np.uint8)
                objects.append(DemoObject(shape, box, small=side < size * SMALL_FRACTION))
                break
    return Image.fromarray(pixels), objects
