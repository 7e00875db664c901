"""``modelnet40``: ModelNet40 point clouds read from either official release.

- ``modelnet40_ply_hdf5_2048/`` (PointNet's): ``ply_data_{train,test}<i>.h5`` with ``data``
  (N×2048×3 float32) and ``label`` (N×1), listed by ``train_files.txt`` / ``test_files.txt``
  (as ``data/modelnet40_ply_hdf5_2048/<file>``: resolved by file name in the folder), class
  names in ``shape_names.txt``; 9,840 / 2,468 shapes.
- ``modelnet40_normal_resampled/`` (PointNet++'s): ``<class>/<class>_NNNN.txt``, 10,000
  comma-separated ``x,y,z,nx,ny,nz`` lines each, shape ids in ``modelnet40_{train,test}.txt``
  (class = id up to its last ``_``), class names in ``modelnet40_shape_names.txt``.

Both hold shapes already centred and scaled into the unit sphere; the readers return them
as stored. By default the first 1024 points of each shape are used, as PointNet's training
script does (``current_data[:, 0:NUM_POINT, :]``): the stored points were sampled uniformly
from the mesh surface, so any prefix is itself a uniform sample. The official BiBench code
instead re-samples 1024 points from the meshes at every access with torch-geometric; that
dependency (and the mesh release) is avoided here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import h5py
import numpy as np
import torch

from bibench_cli.data.errors import CorruptDatasetError, DataOptionError, DatasetNotFoundError

H5_DIRNAME = "modelnet40_ply_hdf5_2048"
TEXT_DIRNAME = "modelnet40_normal_resampled"
H5_URL = f"https://shapenet.cs.stanford.edu/media/{H5_DIRNAME}.zip"
TEXT_URL = f"https://shapenet.cs.stanford.edu/media/{TEXT_DIRNAME}.zip"
H5_NAMES = "shape_names.txt"
TEXT_NAMES = "modelnet40_shape_names.txt"
H5_EXPECTED = f"train_files.txt, test_files.txt, {H5_NAMES} and the ply_data_*.h5 they list"
TEXT_EXPECTED = f"{TEXT_NAMES}, modelnet40_train.txt, modelnet40_test.txt and <class>/ folders"
SPLITS = ("train", "test")
DEFAULT_NUM_POINTS = 1024
SHAPES_PER_H5 = 2048  # the release's file size: ply_data_train0..4 hold 2048 shapes but the last


class PointClouds(NamedTuple):
    """A split: points (N, P, C) float32, labels (N,) int64, class names by label."""

    points: np.ndarray
    labels: np.ndarray
    class_names: list[str]


def _release_dir(root: str | Path, dirname: str, marker: str, url: str, expected: str) -> Path:
    """``root/<dirname>``, or ``root`` itself when it is the release folder."""
    root = Path(root)
    for directory in (root / dirname, root):
        if (directory / marker).is_file():
            return directory
    raise DatasetNotFoundError(
        f"ModelNet40 not found at {root}: expected {root / dirname}/ holding {expected}; "
        f"download {url} and extract it there"
    )


def _read_lines(path: Path, url: str) -> list[str]:
    if not path.is_file():
        raise DatasetNotFoundError(
            f"ModelNet40 at {path.parent} is incomplete: missing {path.name}; "
            f"download {url} and extract it again"
        )
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def _corrupt(path: Path, problem: str, url: str) -> CorruptDatasetError:
    return CorruptDatasetError(
        f"corrupt ModelNet40 file {path}: {problem}; delete it and download {url} again"
    )


def _check_split(split: str, num_points: int) -> None:
    if split not in SPLITS:
        raise ValueError(f"ModelNet40 split must be one of {', '.join(SPLITS)}, got {split!r}")
    if num_points < 1:
        raise ValueError(f"num_points must be >= 1, got {num_points}")


def read_h5_file(path: Path, num_points: int, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """One ``ply_data_*.h5`` as (N×num_points×3 float32, N int64 labels)."""
    if not path.is_file():
        raise DatasetNotFoundError(
            f"ModelNet40 file {path} is missing (listed in the split file); "
            f"download {H5_URL} and extract it again"
        )
    try:
        with h5py.File(path, "r") as handle:
            data, labels = handle["data"], handle["label"]
            shape_ok = data.ndim == 3 and data.shape[2] == 3
            if not (shape_ok and labels.shape in ((len(data),), (len(data), 1))):
                raise _corrupt(
                    path,
                    f"expected 'data' N×P×3 and 'label' N×1, got {data.shape} and {labels.shape}",
                    H5_URL,
                )
            if data.shape[1] < num_points:
                raise DataOptionError(
                    f"{path} holds {data.shape[1]} points per shape, fewer than "
                    f"num_points={num_points}"
                )
            points = np.asarray(data[:, :num_points, :], dtype=np.float32)
            classes = np.asarray(labels, dtype=np.int64).reshape(-1)
    except (OSError, KeyError) as error:
        raise _corrupt(
            path, f"not an HDF5 file with 'data' and 'label' ({error})", H5_URL
        ) from None
    if classes.size and not 0 <= classes.min() <= classes.max() < num_classes:
        raise _corrupt(path, f"labels must be 0..{num_classes - 1}", H5_URL)
    return points, classes


def read_modelnet40_h5(
    root: str | Path, split: str, *, num_points: int = DEFAULT_NUM_POINTS
) -> PointClouds:
    """``split`` of ``modelnet40_ply_hdf5_2048`` (xyz only): the first ``num_points`` points."""
    _check_split(split, num_points)
    directory = _release_dir(root, H5_DIRNAME, H5_NAMES, H5_URL, H5_EXPECTED)
    names = _read_lines(directory / H5_NAMES, H5_URL)
    files = [
        directory / Path(line).name
        for line in _read_lines(directory / f"{split}_files.txt", H5_URL)
    ]
    pieces = [read_h5_file(path, num_points, len(names)) for path in files]
    if not pieces:
        raise _corrupt(directory / f"{split}_files.txt", "lists no .h5 file", H5_URL)
    points = np.concatenate([points for points, _ in pieces])
    return PointClouds(points, np.concatenate([labels for _, labels in pieces]), names)


def read_text_shape(path: Path, num_points: int) -> np.ndarray:
    """The first ``num_points`` lines of one shape file as num_points×6 float32."""
    if not path.is_file():
        raise DatasetNotFoundError(
            f"ModelNet40 shape {path} is missing (listed in the split file); "
            f"download {TEXT_URL} and extract it again"
        )
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.float32, max_rows=num_points, ndmin=2)
    except ValueError as error:
        raise _corrupt(path, f"expected lines 'x,y,z,nx,ny,nz' ({error})", TEXT_URL) from None
    if table.shape != (num_points, 6):
        raise _corrupt(
            path, f"expected {num_points}+ lines of 6 numbers, got {table.shape}", TEXT_URL
        )
    return table


def read_modelnet40_text(
    root: str | Path, split: str, *, num_points: int = DEFAULT_NUM_POINTS, normals: bool = False
) -> PointClouds:
    """``split`` of ``modelnet40_normal_resampled``: the first ``num_points`` points of each
    shape, xyz, or xyz + normals (C = 6) with ``normals``."""
    _check_split(split, num_points)
    directory = _release_dir(root, TEXT_DIRNAME, TEXT_NAMES, TEXT_URL, TEXT_EXPECTED)
    names = _read_lines(directory / TEXT_NAMES, TEXT_URL)
    index = {name: label for label, name in enumerate(names)}
    list_path = directory / f"modelnet40_{split}.txt"
    shape_ids = _read_lines(list_path, TEXT_URL)
    labels = np.empty(len(shape_ids), dtype=np.int64)
    points = np.empty((len(shape_ids), num_points, 6 if normals else 3), dtype=np.float32)
    for row, shape_id in enumerate(shape_ids):
        name = shape_id.rsplit("_", 1)[0]
        if name not in index:
            raise _corrupt(
                list_path, f"shape {shape_id!r} is of no class in {TEXT_NAMES}", TEXT_URL
            )
        labels[row] = index[name]
        points[row] = read_text_shape(directory / name / f"{shape_id}.txt", num_points)[
            :, : points.shape[2]
        ]
    return PointClouds(points, labels, names)


LAYOUTS = ("hdf5", "text")


def check_layout(layout: str, normals: bool) -> None:
    """One line for a layout that does not exist or cannot give normals."""
    if layout not in LAYOUTS:
        raise DataOptionError(
            f"ModelNet40 layout must be one of {', '.join(LAYOUTS)}, got {layout!r}"
        )
    if layout == "hdf5" and normals:
        raise DataOptionError(
            f"ModelNet40's hdf5 release ({H5_DIRNAME}) has no normals: use the text layout "
            f"({TEXT_DIRNAME}) for normals"
        )


def check_release(root: str | Path, layout: str) -> Path:
    """The release folder of ``layout`` under ``root`` (reads nothing but its marker file)."""
    check_layout(layout, normals=False)
    if layout == "hdf5":
        return _release_dir(root, H5_DIRNAME, H5_NAMES, H5_URL, H5_EXPECTED)
    return _release_dir(root, TEXT_DIRNAME, TEXT_NAMES, TEXT_URL, TEXT_EXPECTED)


def read_modelnet40(
    root: str | Path, split: str, *, layout: str, num_points: int, normals: bool
) -> PointClouds:
    """``split`` of the release in ``layout``; normals (C = 6) exist in the text layout only."""
    check_layout(layout, normals)
    if layout == "hdf5":
        return read_modelnet40_h5(root, split, num_points=num_points)
    return read_modelnet40_text(root, split, num_points=num_points, normals=normals)


Split = tuple[np.ndarray, np.ndarray]  # points (N, P, C), labels (N,)


def write_modelnet40_h5(
    root: str | Path,
    splits: Mapping[str, Split],
    class_names: Sequence[str],
    *,
    shapes_per_file: int = SHAPES_PER_H5,
) -> Path:
    """Write ``root/modelnet40_ply_hdf5_2048`` as the release does (float32 ``data`` of the
    xyz channels, uint8 ``label`` N×1, list files naming ``data/<dir>/<file>``)."""
    directory = Path(root) / H5_DIRNAME
    directory.mkdir(parents=True, exist_ok=True)
    (directory / H5_NAMES).write_text("".join(f"{name}\n" for name in class_names))
    for split, (points, labels) in splits.items():
        listed = []
        for number, start in enumerate(range(0, len(labels), shapes_per_file)):
            name = f"ply_data_{split}{number}.h5"
            with h5py.File(directory / name, "w") as handle:
                chunk = slice(start, start + shapes_per_file)
                handle["data"] = np.asarray(points[chunk, :, :3], dtype=np.float32)
                handle["label"] = np.asarray(labels[chunk], dtype=np.uint8).reshape(-1, 1)
            listed.append(f"data/{H5_DIRNAME}/{name}\n")
        (directory / f"{split}_files.txt").write_text("".join(listed))
    return directory


def write_modelnet40_text(
    root: str | Path, splits: Mapping[str, Split], class_names: Sequence[str]
) -> Path:
    """Write ``root/modelnet40_normal_resampled`` as the release does: ``%.6f`` values, shapes
    numbered per class from 0001 across train then test. Points must be (N, P, 6)."""
    directory = Path(root) / TEXT_DIRNAME
    directory.mkdir(parents=True, exist_ok=True)
    (directory / TEXT_NAMES).write_text("".join(f"{name}\n" for name in class_names))
    written = dict.fromkeys(class_names, 0)
    for split, (points, labels) in splits.items():
        shape_ids = []
        for cloud, label in zip(points, labels, strict=True):
            name = class_names[label]
            written[name] += 1
            shape_id = f"{name}_{written[name]:04d}"
            (directory / name).mkdir(exist_ok=True)
            np.savetxt(directory / name / f"{shape_id}.txt", cloud, fmt="%.6f", delimiter=",")
            shape_ids.append(f"{shape_id}\n")
        (directory / f"modelnet40_{split}.txt").write_text("".join(shape_ids))
    return directory


def random_scale(
    points: torch.Tensor,
    generator: torch.Generator | None,
    low: float = 0.8,
    high: float = 1.25,
) -> torch.Tensor:
    """Scale each cloud of a (B, P, C) batch by one factor ~ U(low, high), xyz only.

    Isotropic (one factor per cloud, as PointNet++'s ``random_scale_point_cloud``, which
    the widely used PyTorch PointNet training also applies), so normals keep their direction.
    """
    factors = torch.empty(len(points), dtype=points.dtype).uniform_(low, high, generator=generator)
    factors = factors.to(points.device).view(-1, 1, 1)
    return torch.cat([points[..., :3] * factors, points[..., 3:]], dim=-1)


def random_shift(
    points: torch.Tensor, generator: torch.Generator | None, shift: float = 0.1
) -> torch.Tensor:
    """Translate each cloud of a (B, P, C) batch by a vector ~ U(-shift, shift)³, xyz only
    (PointNet++'s ``shift_point_cloud``)."""
    offsets = torch.empty(len(points), 1, 3, dtype=points.dtype)
    offsets = offsets.uniform_(-shift, shift, generator=generator).to(points.device)
    return torch.cat([points[..., :3] + offsets, points[..., 3:]], dim=-1)


def augment_point_clouds(points: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Training augmentation of a (B, P, C) batch: random scale, then random shift.

    This is the scale + shift recipe of PointNet++ / the common PyTorch PointNet training.
    PointNet's own script rotates about the up axis and jitters points instead, and the
    official BiBench code augments nothing beyond re-sampling points from the meshes.
    """
    return random_shift(random_scale(points, generator), generator)
