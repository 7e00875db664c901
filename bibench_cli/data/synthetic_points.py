"""Tiny, learnable, clearly synthetic point clouds in the ModelNet40 and ShapeNet part layouts.

For ``bibench data demo`` and tests (no download). Points are drawn uniformly (by area) on
the surfaces of primitives, with exact outward normals, and every shape is centred and
scaled into the unit sphere like the releases.

- ModelNet40 stand-in: five classes ``synthetic_<primitive>`` (sphere, cube, cylinder, cone,
  torus), each shape stretched by a random factor per axis.
- ShapeNet part stand-in: three real categories with their real synset and part ids —
  Table (47-49: top, four legs, shelf), Mug (36-37: open cylinder body, half-torus handle),
  Laptop (28-29: base slab, tilted screen) — with random proportions. Which region gets
  which of the category's ids is this module's choice; tokens read ``synthetic-...``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bibench_cli.data.modelnet40 import Split, write_modelnet40_h5, write_modelnet40_text
from bibench_cli.data.shapenet import PartShape, write_shapenet_part

Draw = Callable[[int, np.random.Generator], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Surface:
    """A surface of known area that draws n uniform (points, unit normals), each n×3."""

    area: float
    draw: Draw

    def moved(
        self, rotation: np.ndarray | None = None, offset: Sequence[float] = (0, 0, 0)
    ) -> Surface:
        """The same surface rotated about the origin, then translated by ``offset``."""
        rotation = np.eye(3) if rotation is None else rotation

        def draw(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
            points, normals = self.draw(count, rng)
            return points @ rotation.T + np.asarray(offset), normals @ rotation.T

        return Surface(self.area, draw)


def _pick(count: int, areas: Sequence[float], rng: np.random.Generator) -> np.ndarray:
    """Which of several pieces each of ``count`` points lands on, by area."""
    areas = np.asarray(areas, dtype=np.float64)
    return rng.choice(len(areas), count, p=areas / areas.sum())


def sphere(radius: float) -> Surface:
    def draw(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        normals = rng.normal(size=(count, 3))
        normals /= np.linalg.norm(normals, axis=1, keepdims=True)
        return radius * normals, normals

    return Surface(4 * math.pi * radius**2, draw)


def box(half: Sequence[float]) -> Surface:
    """An axis-aligned box of half-extents ``half`` centred at the origin."""
    hx, hy, hz = half
    faces = np.repeat(4 * np.array([hy * hz, hx * hz, hx * hy]), 2)  # -x, +x, -y, +y, -z, +z

    def draw(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        face = _pick(count, faces, rng)
        axis, sign = face // 2, np.where(face % 2 == 1, 1.0, -1.0)
        rows = np.arange(count)
        points = rng.uniform(-np.asarray(half), np.asarray(half), (count, 3))
        points[rows, axis] = sign * np.asarray(half)[axis]
        normals = np.zeros((count, 3))
        normals[rows, axis] = sign
        return points, normals

    return Surface(float(faces.sum()), draw)


def _disk(count: int, radius: float, z: float, rng: np.random.Generator) -> np.ndarray:
    rho, theta = radius * np.sqrt(rng.uniform(size=count)), rng.uniform(0, 2 * math.pi, count)
    return np.column_stack([rho * np.cos(theta), rho * np.sin(theta), np.full(count, z)])


def cylinder(radius: float, half_height: float, top: bool = True) -> Surface:
    """Axis z, closed at the bottom, and at the top unless ``top`` is False (a mug)."""
    side, cap = 4 * math.pi * radius * half_height, math.pi * radius**2
    pieces = [side, cap, cap if top else 0.0]

    def draw(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        piece = _pick(count, pieces, rng)
        theta = rng.uniform(0, 2 * math.pi, count)
        points = np.column_stack(
            [radius * np.cos(theta), radius * np.sin(theta), rng.uniform(-1, 1, count)]
        )
        points[:, 2] *= half_height
        normals = np.column_stack([np.cos(theta), np.sin(theta), np.zeros(count)])
        for index, z in ((1, -half_height), (2, half_height)):
            on_cap = piece == index
            points[on_cap] = _disk(int(on_cap.sum()), radius, z, rng)
            normals[on_cap] = (0, 0, np.sign(z))
        return points, normals

    return Surface(sum(pieces), draw)


def cone(radius: float, height: float) -> Surface:
    """Apex up at z = height/2, base disk at z = -height/2."""
    slant = math.hypot(radius, height)
    pieces = [math.pi * radius * slant, math.pi * radius**2]

    def draw(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        on_base = _pick(count, pieces, rng) == 1
        # distance from the apex ∝ sqrt(U): the lateral area grows linearly with it
        fraction, theta = np.sqrt(rng.uniform(size=count)), rng.uniform(0, 2 * math.pi, count)
        points = np.column_stack(
            [
                radius * fraction * np.cos(theta),
                radius * fraction * np.sin(theta),
                height / 2 - height * fraction,
            ]
        )
        normals = np.column_stack(
            [height * np.cos(theta), height * np.sin(theta), np.full(count, radius)]
        )
        normals /= slant
        points[on_base] = _disk(int(on_base.sum()), radius, -height / 2, rng)
        normals[on_base] = (0, 0, -1)
        return points, normals

    return Surface(sum(pieces), draw)


def torus(major: float, minor: float, arc: float = 2 * math.pi) -> Surface:
    """Ring about the z axis, angle -arc/2..arc/2 around it (a half ring for a handle)."""

    def draw(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        # the tube angle phi has density ∝ major + minor·cos(phi): rejection sampling
        accepted = [np.empty(0)]
        while sum(len(a) for a in accepted) < count:
            phi = rng.uniform(0, 2 * math.pi, 2 * count)
            keep = rng.uniform(size=2 * count) * (major + minor) < major + minor * np.cos(phi)
            accepted.append(phi[keep])
        phi = np.concatenate(accepted)[:count]
        theta = rng.uniform(-arc / 2, arc / 2, count)
        ring = major + minor * np.cos(phi)
        points = np.column_stack([ring * np.cos(theta), ring * np.sin(theta), minor * np.sin(phi)])
        normals = np.column_stack(
            [np.cos(phi) * np.cos(theta), np.cos(phi) * np.sin(theta), np.sin(phi)]
        )
        return points, normals

    return Surface(arc * major * 2 * math.pi * minor, draw)


def rotation_x(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[1.0, 0, 0], [0, c, -s], [0, s, c]])


def sample_surfaces(
    pieces: Sequence[tuple[Surface, int]], count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` points spread over labelled surfaces by area: (count×6 xyz + normals, labels)."""
    areas = np.array([surface.area for surface, _ in pieces])
    counts = rng.multinomial(count, areas / areas.sum())
    drawn = [
        (surface.draw(n, rng), label) for (surface, label), n in zip(pieces, counts, strict=True)
    ]
    points = np.concatenate([np.hstack(arrays) for arrays, _ in drawn])
    labels = np.concatenate([np.full(len(arrays[0]), label) for arrays, label in drawn])
    return points, labels.astype(np.int64)


def stretch(points: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Scale xyz per axis; normals transform by the inverse scale and are renormalised."""
    normals = points[:, 3:] / factors
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    return np.hstack([points[:, :3] * factors, normals])


def unit_sphere(points: np.ndarray) -> np.ndarray:
    """Centre xyz on the centroid and scale the farthest point to radius 1."""
    xyz = points[:, :3] - points[:, :3].mean(axis=0)
    return np.hstack([xyz / np.linalg.norm(xyz, axis=1).max(), points[:, 3:]])


PRIMITIVES: dict[str, Surface] = {
    "synthetic_sphere": sphere(1.0),
    "synthetic_cube": box((1.0, 1.0, 1.0)),
    "synthetic_cylinder": cylinder(0.6, 1.0),
    "synthetic_cone": cone(0.8, 2.0),
    "synthetic_torus": torus(0.8, 0.3),
}


def synthetic_modelnet40(
    *, seed: int = 0, train_per_class: int = 8, test_per_class: int = 4, num_points: int = 2048
) -> tuple[dict[str, Split], list[str]]:
    """{"train", "test"}: (points (N, num_points, 6) float32, labels) and the class names."""
    rng = np.random.default_rng(seed)
    names = list(PRIMITIVES)
    splits = {}
    for split, per_class in (("train", train_per_class), ("test", test_per_class)):
        labels = np.repeat(np.arange(len(names)), per_class)
        clouds = [
            unit_sphere(
                stretch(
                    sample_surfaces([(PRIMITIVES[names[label]], 0)], num_points, rng)[0],
                    rng.uniform(0.75, 1.25, 3),
                )
            )
            for label in labels
        ]
        splits[split] = (np.stack(clouds).astype(np.float32), labels)
    return splits, names


def _table(rng: np.random.Generator) -> list[tuple[Surface, int]]:
    width, depth, height = rng.uniform(0.6, 1.0), rng.uniform(0.4, 0.7), rng.uniform(0.6, 0.9)
    legs = [
        (
            box((0.04, 0.04, height / 2)).moved(offset=(x * (width - 0.06), y * (depth - 0.06), 0)),
            48,
        )
        for x in (-1, 1)
        for y in (-1, 1)
    ]
    top = box((width, depth, 0.03)).moved(offset=(0, 0, height / 2))
    shelf = box((width - 0.1, depth - 0.1, 0.02)).moved(offset=(0, 0, -height / 6))
    return [(top, 47), *legs, (shelf, 49)]


def _mug(rng: np.random.Generator) -> list[tuple[Surface, int]]:
    radius, half_height = rng.uniform(0.3, 0.45), rng.uniform(0.35, 0.5)
    handle = torus(0.6 * half_height, rng.uniform(0.04, 0.07), arc=math.pi)
    return [
        (cylinder(radius, half_height, top=False), 36),
        (handle.moved(rotation_x(math.pi / 2), offset=(radius, 0, 0)), 37),
    ]


def _laptop(rng: np.random.Generator) -> list[tuple[Surface, int]]:
    width, depth = rng.uniform(0.6, 0.8), rng.uniform(0.4, 0.55)
    tilt = rng.uniform(-0.45, -0.15)  # radians back from upright
    screen = box((width, 0.015, depth)).moved(offset=(0, 0, depth))
    return [
        (box((width, depth, 0.025)), 28),
        (screen.moved(rotation_x(tilt), offset=(0, depth, 0)), 29),
    ]


PART_SHAPES = {"Table": _table, "Mug": _mug, "Laptop": _laptop}


def synthetic_shapenet_part(
    *,
    seed: int = 0,
    per_category: dict[str, int] | None = None,
    points_range: tuple[int, int] = (1800, 2800),
) -> dict[str, list[PartShape]]:
    """Split -> shapes; ``per_category`` shapes of each category per split (default train 8,
    val 2, test 4); each shape has a random point count in ``points_range`` (some fewer than
    the readers' 2048, as in the release)."""
    rng = np.random.default_rng(seed)
    per_category = per_category or {"train": 8, "val": 2, "test": 4}
    made = dict.fromkeys(PART_SHAPES, 0)
    splits: dict[str, list[PartShape]] = {}
    for split, count in per_category.items():
        splits[split] = []
        for category, build in PART_SHAPES.items():
            for _ in range(count):
                made[category] += 1
                size = int(rng.integers(*points_range, endpoint=True))
                points, parts = sample_surfaces(build(rng), size, rng)
                token = f"synthetic-{category.lower()}-{made[category]:04d}"
                splits[split].append(PartShape(category, token, unit_sphere(points), parts))
    return splits


def write_demo_modelnet40(root: str | Path, *, layout: str = "hdf5", seed: int = 0) -> Path:
    """Write the synthetic ModelNet40 stand-in in the ``hdf5`` or ``text`` release layout."""
    splits, names = synthetic_modelnet40(seed=seed)
    if layout == "hdf5":
        return write_modelnet40_h5(root, splits, names)
    if layout == "text":
        return write_modelnet40_text(root, splits, names)
    raise ValueError(f"ModelNet40 layout must be 'hdf5' or 'text', got {layout!r}")


def write_demo_shapenet_part(root: str | Path, *, seed: int = 0) -> Path:
    """Write the synthetic ShapeNet part stand-in in the release layout."""
    return write_shapenet_part(root, synthetic_shapenet_part(seed=seed))
