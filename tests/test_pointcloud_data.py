"""Point-cloud readers against tiny files in the official layouts, their errors, the ShapeNet
cache, augmentation and the synthetic sets' geometry."""

from __future__ import annotations

import json
import math

import h5py
import numpy as np
import pytest
import torch

from bibench_cli.data import shapenet
from bibench_cli.data.errors import CorruptDatasetError, DatasetNotFoundError
from bibench_cli.data.modelnet40 import (
    H5_DIRNAME,
    H5_URL,
    TEXT_DIRNAME,
    TEXT_URL,
    augment_point_clouds,
    random_scale,
    random_shift,
    read_modelnet40_h5,
    read_modelnet40_text,
    write_modelnet40_h5,
    write_modelnet40_text,
)
from bibench_cli.data.shapenet import (
    CATEGORIES,
    DIRNAME,
    URL,
    cache_path,
    read_shapenet_part,
    write_shapenet_part,
)
from bibench_cli.data.synthetic_points import (
    PRIMITIVES,
    sample_surfaces,
    synthetic_modelnet40,
    synthetic_shapenet_part,
    torus,
    write_demo_modelnet40,
    write_demo_shapenet_part,
)

TEXT_ATOL = 1e-6  # the releases (and the writers) print %.6f: 5e-7, plus float32 rounding


@pytest.fixture(scope="module")
def modelnet():
    return synthetic_modelnet40(train_per_class=2, test_per_class=1, num_points=32)


def one_line(error: pytest.ExceptionInfo, *needles: str) -> None:
    message = str(error.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message


# ModelNet40, HDF5 layout


def test_h5_round_trip_over_several_files(tmp_path, modelnet):
    splits, names = modelnet
    directory = write_modelnet40_h5(tmp_path, splits, names, shapes_per_file=3)
    listed = (directory / "train_files.txt").read_text().split()
    assert listed == [f"data/{H5_DIRNAME}/ply_data_train{i}.h5" for i in range(4)]
    for split, (points, labels) in splits.items():
        for root in (tmp_path, directory):  # the parent or the release folder itself
            clouds = read_modelnet40_h5(root, split, num_points=16)
            np.testing.assert_array_equal(clouds.points, points[:, :16, :3])
            np.testing.assert_array_equal(clouds.labels, labels)
            assert clouds.points.dtype == np.float32 and clouds.labels.dtype == np.int64
            assert clouds.class_names == names


def test_h5_files_have_the_release_structure(tmp_path, modelnet):
    splits, names = modelnet
    directory = write_modelnet40_h5(tmp_path, splits, names)
    with h5py.File(directory / "ply_data_test0.h5", "r") as handle:
        assert handle["data"].shape == (5, 32, 3) and handle["data"].dtype == np.float32
        assert handle["label"].shape == (5, 1) and handle["label"].dtype == np.uint8


def test_h5_errors_are_one_line(tmp_path, modelnet):
    with pytest.raises(DatasetNotFoundError) as error:
        read_modelnet40_h5(tmp_path, "train")
    one_line(error, str(tmp_path / H5_DIRNAME), "shape_names.txt", H5_URL)
    directory = write_modelnet40_h5(tmp_path, *modelnet, shapes_per_file=3)
    (directory / "ply_data_train1.h5").unlink()
    with pytest.raises(DatasetNotFoundError) as error:
        read_modelnet40_h5(tmp_path, "train", num_points=16)
    one_line(error, str(directory / "ply_data_train1.h5"), H5_URL)
    (directory / "ply_data_test0.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(CorruptDatasetError) as error:
        read_modelnet40_h5(tmp_path, "test", num_points=16)
    one_line(error, str(directory / "ply_data_test0.h5"), H5_URL)
    (directory / "test_files.txt").unlink()
    with pytest.raises(DatasetNotFoundError) as error:
        read_modelnet40_h5(tmp_path, "test")
    one_line(error, "test_files.txt", H5_URL)


def test_h5_rejects_more_points_than_stored(tmp_path, modelnet):
    write_modelnet40_h5(tmp_path, *modelnet)
    with pytest.raises(ValueError, match="32 points per shape, fewer than num_points=64"):
        read_modelnet40_h5(tmp_path, "train", num_points=64)


# ModelNet40, text layout


def test_text_round_trip_with_and_without_normals(tmp_path, modelnet):
    splits, names = modelnet
    directory = write_modelnet40_text(tmp_path, splits, names)
    # class names hold '_' like the release's flower_pot: the id splits at its last one
    assert (directory / "synthetic_cone" / "synthetic_cone_0003.txt").is_file()
    for split, (points, labels) in splits.items():
        clouds = read_modelnet40_text(tmp_path, split, num_points=16, normals=True)
        np.testing.assert_allclose(clouds.points, points[:, :16], atol=TEXT_ATOL)
        np.testing.assert_array_equal(clouds.labels, labels)
        assert clouds.class_names == names
        xyz = read_modelnet40_text(directory, split, num_points=16)
        np.testing.assert_array_equal(xyz.points, clouds.points[..., :3])


def test_text_errors_are_one_line(tmp_path, modelnet):
    with pytest.raises(DatasetNotFoundError) as error:
        read_modelnet40_text(tmp_path, "train")
    one_line(error, str(tmp_path / TEXT_DIRNAME), "modelnet40_shape_names.txt", TEXT_URL)
    directory = write_modelnet40_text(tmp_path, *modelnet)
    shape = directory / "synthetic_cube" / "synthetic_cube_0001.txt"
    shape.write_text("0.1,0.2,zero,0,0,1\n" * 40)
    with pytest.raises(CorruptDatasetError) as error:
        read_modelnet40_text(tmp_path, "train", num_points=16)
    one_line(error, str(shape), TEXT_URL)
    shape.write_text("0.1,0.2,0.3,0,0,1\n" * 8)  # truncated: 8 of the 16 points asked for
    with pytest.raises(CorruptDatasetError) as error:
        read_modelnet40_text(tmp_path, "train", num_points=16)
    one_line(error, str(shape), "16+ lines")
    shape.unlink()
    with pytest.raises(DatasetNotFoundError) as error:
        read_modelnet40_text(tmp_path, "train", num_points=16)
    one_line(error, str(shape), TEXT_URL)


# augmentation


def test_scale_is_isotropic_per_cloud_and_leaves_normals():
    points = torch.rand(64, 10, 6) + 0.5
    scaled = random_scale(points, torch.Generator().manual_seed(0))
    ratio = scaled[..., :3] / points[..., :3]
    assert torch.allclose(ratio, ratio[:, :1, :1].expand_as(ratio))
    assert ratio.min() >= 0.8 and ratio.max() <= 1.25 and ratio.std() > 0.05
    assert torch.equal(scaled[..., 3:], points[..., 3:])


def test_shift_is_one_vector_per_cloud_and_leaves_normals():
    points = torch.rand(64, 10, 6)
    shifted = random_shift(points, torch.Generator().manual_seed(0))
    offsets = shifted[..., :3] - points[..., :3]
    assert torch.allclose(offsets, offsets[:, :1].expand_as(offsets), atol=1e-6)
    assert offsets.abs().max() <= 0.1 and offsets[:, 0].std(dim=0).min() > 0.02
    assert torch.equal(shifted[..., 3:], points[..., 3:])


def test_augmentation_is_reproducible_from_the_generator():
    points = torch.rand(4, 10, 3)
    first = augment_point_clouds(points, torch.Generator().manual_seed(3))
    again = augment_point_clouds(points, torch.Generator().manual_seed(3))
    other = augment_point_clouds(points, torch.Generator().manual_seed(4))
    assert torch.equal(first, again) and not torch.equal(first, other)


# ShapeNet part


@pytest.fixture()
def part_shapes():
    return synthetic_shapenet_part(
        per_category={"train": 2, "val": 1, "test": 1}, points_range=(20, 44)
    )


def contains_rows(haystack: np.ndarray, needles: np.ndarray) -> bool:
    distance = np.abs(needles[:, None, :] - haystack[None, :, :]).max(axis=-1)
    return bool((distance.min(axis=1) <= TEXT_ATOL).all())


def test_shapenet_round_trip_samples_each_shape(tmp_path, part_shapes):
    write_shapenet_part(tmp_path, part_shapes)
    index = {category.name: i for i, category in enumerate(CATEGORIES)}
    for split, written in part_shapes.items():
        read = read_shapenet_part(tmp_path, split, num_points=32)
        assert read.points.shape == (len(written), 32, 6) and read.points.dtype == np.float32
        assert read.categories.tolist() == [index[shape.category] for shape in written]
        for row, shape in enumerate(written):
            synset = CATEGORIES[index[shape.category]].synset
            assert read.shape_ids[row] == f"{synset}/{shape.token}"
            table = np.column_stack([shape.points, shape.parts])
            sampled = np.column_stack([read.points[row], read.parts[row]])
            assert contains_rows(table, sampled)  # every sampled point is one of the shape's
            distinct = len(np.unique(sampled.round(5), axis=0))
            assert distinct == min(len(table), 32)  # no repeats unless the shape is short


def test_shapenet_sample_follows_the_seed_and_normals_flag(tmp_path, part_shapes):
    write_shapenet_part(tmp_path, part_shapes)
    first = read_shapenet_part(tmp_path, "train", num_points=16, seed=0)
    other = read_shapenet_part(tmp_path, "train", num_points=16, seed=1)
    assert not np.array_equal(first.points, other.points)
    xyz = read_shapenet_part(tmp_path, "train", num_points=16, seed=0, normals=False)
    np.testing.assert_array_equal(xyz.points, first.points[..., :3])
    trainval = read_shapenet_part(tmp_path, "trainval", num_points=16)
    val = read_shapenet_part(tmp_path, "val", num_points=16)
    np.testing.assert_array_equal(trainval.parts, np.concatenate([first.parts, val.parts]))


def test_shapenet_cache_is_reused_and_follows_the_split_list(tmp_path, part_shapes, monkeypatch):
    directory = write_shapenet_part(tmp_path, part_shapes)
    first = read_shapenet_part(tmp_path, "train", num_points=16)
    assert cache_path(directory, "train", 16, 0).is_file()

    def no_parsing(*args):
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(shapenet, "read_shape", no_parsing)
    cached = read_shapenet_part(tmp_path, "train", num_points=16)
    for mine, theirs in zip(first, cached, strict=True):
        np.testing.assert_array_equal(np.asarray(mine), np.asarray(theirs))
    monkeypatch.undo()
    split_list = directory / "train_test_split" / "shuffled_train_file_list.json"
    split_list.write_text(json.dumps(json.loads(split_list.read_text())[:-1]))
    assert len(read_shapenet_part(tmp_path, "train", num_points=16).parts) == len(first.parts) - 1


def test_interrupted_cache_write_leaves_no_file(tmp_path, part_shapes, monkeypatch):
    directory = write_shapenet_part(tmp_path, part_shapes)
    real_savez = np.savez

    def killed_midway(stream, **arrays):
        stream.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", killed_midway)
    with pytest.raises(KeyboardInterrupt):
        read_shapenet_part(tmp_path, "test", num_points=16)
    assert not any(directory.glob("bibench-cache-*"))
    monkeypatch.setattr(np, "savez", real_savez)
    fresh = read_shapenet_part(tmp_path, "test", num_points=16)
    assert [path.name for path in directory.glob("bibench-cache-*")] == [
        "bibench-cache-test-16pts-seed0.npz"
    ]
    # a torn cache left by anything else is ignored and rebuilt
    path = cache_path(directory, "test", 16, 0)
    path.write_bytes(path.read_bytes()[:100])
    np.testing.assert_array_equal(read_shapenet_part(tmp_path, "test", num_points=16)[0], fresh[0])
    assert np.load(path)["points"].shape == fresh.points.shape


def test_shapenet_errors_are_one_line(tmp_path, part_shapes):
    with pytest.raises(DatasetNotFoundError) as error:
        read_shapenet_part(tmp_path, "train")
    one_line(error, str(tmp_path / DIRNAME), "synsetoffset2category.txt", URL)
    directory = write_shapenet_part(tmp_path, part_shapes)
    table = directory / "04379243" / "synthetic-table-0001.txt"
    table.write_text("0 0 0 0 0 1 12.000000\n")  # a Chair part id in a Table
    with pytest.raises(CorruptDatasetError) as error:
        read_shapenet_part(tmp_path, "train")
    one_line(error, str(table), "47-49", URL)
    table.unlink()
    with pytest.raises(DatasetNotFoundError) as error:
        read_shapenet_part(tmp_path, "train")
    one_line(error, str(table), URL)
    split_list = directory / "train_test_split" / "shuffled_test_file_list.json"
    split_list.write_text("[not json")
    with pytest.raises(CorruptDatasetError) as error:
        read_shapenet_part(tmp_path, "test")
    one_line(error, str(split_list), URL)


# synthetic sets


def test_synthetic_sets_are_deterministic_per_seed():
    first, _ = synthetic_modelnet40(seed=1, num_points=16)
    again, _ = synthetic_modelnet40(seed=1, num_points=16)
    other, _ = synthetic_modelnet40(seed=2, num_points=16)
    assert np.array_equal(first["train"][0], again["train"][0])
    assert not np.array_equal(first["train"][0], other["train"][0])
    shapes = synthetic_shapenet_part(seed=1, points_range=(10, 20))["test"]
    repeat = synthetic_shapenet_part(seed=1, points_range=(10, 20))["test"]
    assert all(np.array_equal(a.points, b.points) for a, b in zip(shapes, repeat, strict=True))


@pytest.mark.parametrize("name", ["synthetic_sphere", "synthetic_cube", "synthetic_cylinder",
                                  "synthetic_cone"])  # fmt: skip
def test_convex_primitives_have_unit_outward_normals(name):
    points, _ = sample_surfaces([(PRIMITIVES[name], 0)], 500, np.random.default_rng(0))
    xyz, normals = points[:, :3], points[:, 3:]
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-12)
    # a convex body around the origin: every outward normal points away from it
    assert (np.einsum("ij,ij->i", xyz, normals) > 0.1).all()


def test_torus_points_lie_on_the_tube_with_its_normals():
    major, minor = 0.8, 0.3
    points, _ = sample_surfaces([(torus(major, minor), 0)], 500, np.random.default_rng(0))
    xyz, normals = points[:, :3], points[:, 3:]
    ring = np.column_stack([xyz[:, :2], np.zeros(len(xyz))])
    ring *= major / np.linalg.norm(xyz[:, :2], axis=1, keepdims=True)
    np.testing.assert_allclose(np.linalg.norm(xyz - ring, axis=1), minor, atol=1e-12)
    np.testing.assert_allclose((xyz - ring) / minor, normals, atol=1e-12)


def test_demo_writers_give_readable_sets(tmp_path):
    write_demo_modelnet40(tmp_path, layout="hdf5")
    write_demo_modelnet40(tmp_path, layout="text")
    h5 = read_modelnet40_h5(tmp_path, "train")
    text = read_modelnet40_text(tmp_path, "test", normals=True)
    assert h5.points.shape == (40, 1024, 3) and text.points.shape == (20, 1024, 6)
    assert math.isclose(np.linalg.norm(h5.points, axis=-1).max(), 1.0, abs_tol=1e-6)
    write_demo_shapenet_part(tmp_path)
    parts = read_shapenet_part(tmp_path, "test")
    names = {CATEGORIES[c].name for c in parts.categories}
    assert parts.points.shape == (12, 2048, 6) and names == {"Table", "Mug", "Laptop"}
    assert set(np.unique(parts.parts)) == {28, 29, 36, 37, 47, 48, 49}
