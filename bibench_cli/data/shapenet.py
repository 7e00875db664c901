"""``shapenet_part``: ShapeNet part segmentation read from the official release with normals.

Layout of ``shapenetcore_partanno_segmentation_benchmark_v0_normal/``:
``synsetoffset2category.txt`` (lines ``<Category> <synset>``), ``<synset>/<token>.txt``
(one point per line: ``x y z nx ny nz part``, the part a global id 0-49) and
``train_test_split/shuffled_{train,val,test}_file_list.json`` (entries
``shape_data/<synset>/<token>``). Shapes hold ~500 to ~3,000 points each; every shape is
brought to a fixed ``num_points`` (2048, as PointNet's part segmentation) by a sample drawn
once from a seed (see :func:`sample_indices`), so a split is one dense array.

Parsing the text is ~5 ms a shape (~90 s for the 16,881 shapes), so the parsed, sampled
arrays are cached next to the data on first read (``bibench-cache-<split>-<P>pts-seed<S>.npz``)
and reused while the split list, point count and seed match. The cache is written to a
temporary file and renamed into place, so a killed first read never leaves a torn cache.
Editing shape files in place is not detected: delete the cache files after doing so.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from bibench_cli.data.errors import CorruptDatasetError, DatasetNotFoundError

DIRNAME = "shapenetcore_partanno_segmentation_benchmark_v0_normal"
URL = f"https://shapenet.cs.stanford.edu/media/{DIRNAME}.zip"
CATEGORY_FILE = "synsetoffset2category.txt"
SPLIT_DIR = "train_test_split"
SPLITS = ("train", "val", "test")
DEFAULT_NUM_POINTS = 2048
COLUMNS = 7  # x y z nx ny nz part
CACHE_VERSION = 1
HOW_TO_GET = f"download {URL} and extract it there"


@dataclass(frozen=True)
class PartCategory:
    """One of the 16 categories: name, WordNet synset id and its global part ids."""

    name: str
    synset: str
    parts: range


CATEGORIES: tuple[PartCategory, ...] = (
    PartCategory("Airplane", "02691156", range(0, 4)),
    PartCategory("Bag", "02773838", range(4, 6)),
    PartCategory("Cap", "02954340", range(6, 8)),
    PartCategory("Car", "02958343", range(8, 12)),
    PartCategory("Chair", "03001627", range(12, 16)),
    PartCategory("Earphone", "03261776", range(16, 19)),
    PartCategory("Guitar", "03467517", range(19, 22)),
    PartCategory("Knife", "03624134", range(22, 24)),
    PartCategory("Lamp", "03636649", range(24, 28)),
    PartCategory("Laptop", "03642806", range(28, 30)),
    PartCategory("Motorbike", "03790512", range(30, 36)),
    PartCategory("Mug", "03797390", range(36, 38)),
    PartCategory("Pistol", "03948459", range(38, 41)),
    PartCategory("Rocket", "04099429", range(41, 44)),
    PartCategory("Skateboard", "04225987", range(44, 47)),
    PartCategory("Table", "04379243", range(47, 50)),
)
NUM_PARTS = 50
CATEGORY_INDEX = {category.name: index for index, category in enumerate(CATEGORIES)}
SYNSET_INDEX = {category.synset: index for index, category in enumerate(CATEGORIES)}


def category_part_mask() -> np.ndarray:
    """(16, 50) bool: which global part ids belong to each category."""
    mask = np.zeros((len(CATEGORIES), NUM_PARTS), dtype=bool)
    for index, category in enumerate(CATEGORIES):
        mask[index, category.parts.start : category.parts.stop] = True
    return mask


class PartShapes(NamedTuple):
    """One split: points (S, P, 6 or 3) float32, part ids (S, P) int64, category indices
    (S,) int64 into :data:`CATEGORIES`, and shape ids ``<synset>/<token>``."""

    points: np.ndarray
    parts: np.ndarray
    categories: np.ndarray
    shape_ids: list[str]


def shapenet_part_dir(root: str | Path) -> Path:
    """The release directory: ``root/<DIRNAME>``, or ``root`` if it is that directory."""
    root = Path(root)
    for directory in (root / DIRNAME, root):
        if (directory / CATEGORY_FILE).is_file() and (directory / SPLIT_DIR).is_dir():
            return directory
    raise DatasetNotFoundError(
        f"ShapeNet part not found at {root}: expected {root / DIRNAME}/ holding "
        f"{CATEGORY_FILE}, {SPLIT_DIR}/ and one folder per synset; {HOW_TO_GET}"
    )


def _corrupt(path: Path, problem: str) -> CorruptDatasetError:
    return CorruptDatasetError(
        f"corrupt ShapeNet part file {path}: {problem}; delete it and download {URL} again"
    )


def _check_categories(directory: Path) -> None:
    """The category file must name known categories with their official synsets."""
    path = directory / CATEGORY_FILE
    for line in path.read_text().splitlines():
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2 or CATEGORY_INDEX.get(fields[0]) != SYNSET_INDEX.get(fields[1], -1):
            raise _corrupt(path, f"expected lines '<Category> <synset>' of the 16, got {line!r}")


def _split_entries(directory: Path, split: str) -> tuple[list[tuple[int, str]], bytes]:
    """(category index, ``<synset>/<token>``) per shape of ``split``, and the list's bytes."""
    path = directory / SPLIT_DIR / f"shuffled_{split}_file_list.json"
    if not path.is_file():
        raise DatasetNotFoundError(
            f"ShapeNet part at {directory} is incomplete: missing {path} (the {split} split "
            f"list); {HOW_TO_GET}"
        )
    raw = path.read_bytes()
    try:
        entries = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise _corrupt(path, f"not JSON ({error})") from None
    if not isinstance(entries, list):
        raise _corrupt(path, "expected a JSON list of 'shape_data/<synset>/<token>'")
    shapes = []
    for entry in entries:
        fields = entry.split("/") if isinstance(entry, str) else []
        if len(fields) < 2 or fields[-2] not in SYNSET_INDEX:
            raise _corrupt(path, f"expected entries 'shape_data/<synset>/<token>', got {entry!r}")
        shapes.append((SYNSET_INDEX[fields[-2]], f"{fields[-2]}/{fields[-1]}"))
    return shapes, raw


def sample_indices(count: int, num_points: int, rng: np.random.Generator) -> np.ndarray:
    """``num_points`` indices into a shape of ``count`` points: a random subset without
    repetition when the shape has enough points, else every point once plus random repeats
    (repeats leave a max-pooled feature unchanged)."""
    if count >= num_points:
        return rng.permutation(count)[:num_points]
    return np.concatenate([np.arange(count), rng.integers(0, count, num_points - count)])


def _shape_rng(shape_id: str, seed: int) -> np.random.Generator:
    """A generator per shape, so a shape's sample does not depend on the other shapes."""
    return np.random.default_rng([seed, zlib.crc32(shape_id.encode())])


def read_shape(path: Path, category: int) -> tuple[np.ndarray, np.ndarray]:
    """One shape file as (n×6 float32 xyz + normals, n int64 part ids of ``category``)."""
    if not path.is_file():
        raise DatasetNotFoundError(
            f"ShapeNet part shape {path} is missing (listed in the split files); {HOW_TO_GET}"
        )
    try:
        table = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except ValueError as error:
        raise _corrupt(path, f"expected lines 'x y z nx ny nz part' ({error})") from None
    if table.shape[0] == 0 or table.shape[1] != COLUMNS:
        raise _corrupt(
            path, f"expected n×{COLUMNS} numbers 'x y z nx ny nz part', got {table.shape}"
        )
    parts = table[:, 6]
    valid = CATEGORIES[category].parts
    if not np.all((parts == np.round(parts)) & (parts >= valid.start) & (parts < valid.stop)):
        raise _corrupt(
            path, f"part ids must be integers {valid.start}-{valid.stop - 1} for this category"
        )
    return table[:, :6].astype(np.float32), parts.astype(np.int64)


def _parse_split(
    directory: Path, shapes: list[tuple[int, str]], num_points: int, seed: int
) -> PartShapes:
    points = np.empty((len(shapes), num_points, 6), dtype=np.float32)
    parts = np.empty((len(shapes), num_points), dtype=np.int64)
    for row, (category, shape_id) in enumerate(shapes):
        xyz_normals, labels = read_shape(directory / f"{shape_id}.txt", category)
        chosen = sample_indices(len(labels), num_points, _shape_rng(shape_id, seed))
        points[row], parts[row] = xyz_normals[chosen], labels[chosen]
    categories = np.array([category for category, _ in shapes], dtype=np.int64)
    return PartShapes(points, parts, categories, [shape_id for _, shape_id in shapes])


def _cache_key(split_list: bytes, num_points: int, seed: int) -> str:
    digest = hashlib.sha256(split_list).hexdigest()
    return json.dumps(
        {"version": CACHE_VERSION, "list": digest, "points": num_points, "seed": seed}
    )


def cache_path(directory: Path, split: str, num_points: int, seed: int) -> Path:
    return directory / f"bibench-cache-{split}-{num_points}pts-seed{seed}.npz"


def _load_cache(path: Path, key: str) -> PartShapes | None:
    """The cached split if the file is whole and was made from the same inputs."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            if str(archive["key"]) != key:
                return None
            return PartShapes(
                archive["points"],
                archive["parts"].astype(np.int64),
                archive["categories"].astype(np.int64),
                archive["shape_ids"].tolist(),
            )
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None


def write_cache(path: Path, key: str, shapes: PartShapes) -> None:
    """Write atomically: a temporary file in the same folder, fsync'd, renamed into place."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez(
                stream,
                key=np.array(key),
                points=shapes.points,
                parts=shapes.parts.astype(np.uint8),
                categories=shapes.categories.astype(np.uint8),
                shape_ids=np.array(shapes.shape_ids),
            )
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _read_split(directory: Path, split: str, num_points: int, seed: int) -> PartShapes:
    shapes, raw = _split_entries(directory, split)
    path = cache_path(directory, split, num_points, seed)
    key = _cache_key(raw, num_points, seed)
    cached = _load_cache(path, key) if path.is_file() else None
    if cached is not None:
        return cached
    parsed = _parse_split(directory, shapes, num_points, seed)
    try:
        write_cache(path, key, parsed)
    except OSError as error:  # a read-only copy of the data still trains, just slower
        warnings.warn(f"cannot cache ShapeNet part arrays at {path}: {error}", stacklevel=3)
    return parsed


def read_shapenet_part(
    root: str | Path,
    split: str,
    *,
    num_points: int = DEFAULT_NUM_POINTS,
    seed: int = 0,
    normals: bool = True,
) -> PartShapes:
    """``split`` ("train", "val", "test" or "trainval", the two concatenated as PointNet
    trains) as dense arrays of ``num_points`` points per shape, xyz (+ normals)."""
    if split not in (*SPLITS, "trainval"):
        raise ValueError(f"ShapeNet part split must be one of {', '.join(SPLITS)}, trainval")
    if num_points < 1:
        raise ValueError(f"num_points must be >= 1, got {num_points}")
    directory = shapenet_part_dir(root)
    _check_categories(directory)
    names = ("train", "val") if split == "trainval" else (split,)
    pieces = [_read_split(directory, name, num_points, seed) for name in names]
    points = np.concatenate([piece.points for piece in pieces])
    return PartShapes(
        points if normals else np.ascontiguousarray(points[..., :3]),
        np.concatenate([piece.parts for piece in pieces]),
        np.concatenate([piece.categories for piece in pieces]),
        [shape_id for piece in pieces for shape_id in piece.shape_ids],
    )


@dataclass(frozen=True)
class PartShape:
    """A shape to write: category name, token, n×6 xyz + normals, n global part ids."""

    category: str
    token: str
    points: np.ndarray
    parts: np.ndarray


def write_shapenet_part(root: str | Path, splits: Mapping[str, Sequence[PartShape]]) -> Path:
    """Write ``root/<DIRNAME>`` in the release layout (all 16 categories listed, values as
    ``%.6f`` like the release) and return that directory."""
    directory = Path(root) / DIRNAME
    (directory / SPLIT_DIR).mkdir(parents=True, exist_ok=True)
    lines = [f"{category.name}\t{category.synset}" for category in CATEGORIES]
    (directory / CATEGORY_FILE).write_text("\n".join(lines) + "\n")
    for split, shapes in splits.items():
        if split not in SPLITS:
            raise ValueError(f"ShapeNet part splits are {', '.join(SPLITS)}, got {split!r}")
        entries = []
        for shape in shapes:
            synset = CATEGORIES[CATEGORY_INDEX[shape.category]].synset
            (directory / synset).mkdir(exist_ok=True)
            table = np.column_stack([shape.points, shape.parts])
            np.savetxt(directory / synset / f"{shape.token}.txt", table, fmt="%.6f")
            entries.append(f"shape_data/{synset}/{shape.token}")
        list_path = directory / SPLIT_DIR / f"shuffled_{split}_file_list.json"
        list_path.write_text(json.dumps(entries))
    return directory
