"""CIFAR-10 from a tiny fake release in the official pickle layout (no network)."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from fixtures_data import CIFAR10_CLASSES, write_fake_cifar10

from bibench_cli.data import cifar10 as cifar10_module
from bibench_cli.data.cifar10 import Cifar10DataModule, download_cifar10, file_md5, read_cifar10
from bibench_cli.data.errors import CorruptDatasetError, DatasetNotFoundError


@pytest.fixture
def release(tmp_path: Path) -> tuple[Path, dict[str, np.ndarray]]:
    return tmp_path, write_fake_cifar10(tmp_path, per_batch=4, test_size=6)


def as_images(rows: np.ndarray) -> np.ndarray:
    return rows.reshape(-1, 3, 32, 32)


def test_reader_round_trips_values_and_labels(release):
    root, written = release
    train_x, train_y, test_x, test_y, names = read_cifar10(root)
    assert np.array_equal(train_x, as_images(written["train_data"]))
    assert np.array_equal(train_y, written["train_labels"])
    assert np.array_equal(test_x, as_images(written["test_data"]))
    assert np.array_equal(test_y, written["test_labels"])
    assert names == CIFAR10_CLASSES
    # root may also be the cifar-10-batches-py directory itself
    assert np.array_equal(read_cifar10(root / "cifar-10-batches-py")[2], test_x)


def test_datamodule_splits_and_raw_test_images(release):
    root, written = release
    dm = Cifar10DataModule(root=root, val_size=5, batch_size=100)
    assert (dm.num_classes, dm.in_channels, dm.image_size) == (10, 3, 32)
    train, val = dm.splits.train, dm.splits.val
    assert (len(train), len(val), len(dm.splits.test)) == (15, 5, 6)
    # train and val partition the training images
    together = torch.cat([train.images, val.images]).flatten(1).numpy()
    assert sorted(map(bytes, together)) == sorted(map(bytes, written["train_data"]))
    raw, labels = dm.test_images_uint8()
    assert raw.shape == (6, 32, 32, 3) and raw.dtype == np.uint8
    assert np.array_equal(raw, as_images(written["test_data"]).transpose(0, 2, 3, 1))
    assert np.array_equal(labels, written["test_labels"])
    images, _ = next(iter(dm.test_dataloader()))
    assert torch.equal(dm.eval_transform(raw), images)


def test_val_split_is_fixed_across_run_seeds(release):
    root, _ = release
    first = Cifar10DataModule(root=root, val_size=5, seed=0).splits.val.images
    assert torch.equal(first, Cifar10DataModule(root=root, val_size=5, seed=9).splits.val.images)


def test_training_batches_are_augmented_and_seeded(release):
    root, _ = release

    def batch(seed: int, augment: bool = True) -> torch.Tensor:
        dm = Cifar10DataModule(root=root, val_size=5, seed=seed, augment=augment, batch_size=15)
        return next(iter(dm.train_dataloader()))[0]

    assert batch(0).shape == (15, 3, 32, 32)
    assert torch.equal(batch(0), batch(0))
    assert not torch.equal(batch(0), batch(0, augment=False))
    plain = Cifar10DataModule(root=root, val_size=5, augment=False, batch_size=15)
    images = next(iter(plain.train_dataloader()))[0]
    expected = plain.eval_transform(plain.splits.train.images.permute(0, 2, 3, 1).numpy())
    # the same images, shuffled, unaugmented
    assert sorted(map(bytes, images.numpy())) == sorted(map(bytes, expected.numpy()))


def test_val_size_must_leave_training_images(release):
    root, _ = release
    with pytest.raises(ValueError, match=r"val_size must be in 0\.\.19"):
        Cifar10DataModule(root=root, val_size=20).setup()


def test_missing_directory_says_where_what_and_how(tmp_path):
    with pytest.raises(DatasetNotFoundError) as caught:
        Cifar10DataModule(root=tmp_path / "nowhere").setup()
    message = str(caught.value)
    assert "\n" not in message
    assert str(tmp_path / "nowhere") in message and "data_batch_1..5" in message
    assert "data.download=true" in message and cifar10_module.URL in message


def test_missing_batch_is_named(release):
    root, _ = release
    (root / "cifar-10-batches-py" / "data_batch_3").unlink()
    with pytest.raises(DatasetNotFoundError, match="missing data_batch_3 ") as caught:
        read_cifar10(root)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(b"this is not a pickle"),
        lambda path: path.write_bytes(path.read_bytes()[:500]),  # truncated
        lambda path: path.write_bytes(__import__("pickle").dumps({b"labels": [1]})),
    ],
    ids=["garbage", "truncated", "no-data-key"],
)
def test_corrupt_batch_is_named(release, damage):
    root, _ = release
    path = root / "cifar-10-batches-py" / "data_batch_2"
    damage(path)
    with pytest.raises(CorruptDatasetError) as caught:
        read_cifar10(root)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message


def _no_network(*args, **kwargs):
    raise AssertionError("the network must not be used")


def test_md5_mismatch_of_an_archive_already_there(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar10_module.urllib.request, "urlretrieve", _no_network)
    archive = tmp_path / "cifar-10-python.tar.gz"
    archive.write_bytes(b"not the release")
    with pytest.raises(CorruptDatasetError) as caught:
        Cifar10DataModule(root=tmp_path, download=True).setup()
    message = str(caught.value)
    assert "md5 mismatch" in message and str(archive) in message
    assert cifar10_module.MD5 in message and "\n" not in message


def test_download_fetches_verifies_and_extracts(tmp_path, monkeypatch):
    source = tmp_path / "source"
    written = write_fake_cifar10(source, per_batch=2, test_size=3)
    archive = tmp_path / "release.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    monkeypatch.setattr(cifar10_module, "MD5", file_md5(archive))
    monkeypatch.setattr(
        cifar10_module.urllib.request, "urlretrieve", lambda url, dest: shutil.copy(archive, dest)
    )
    root = tmp_path / "data"
    assert download_cifar10(root) == root / "cifar-10-batches-py"
    assert np.array_equal(read_cifar10(root)[3], written["test_labels"])
    monkeypatch.setattr(cifar10_module.urllib.request, "urlretrieve", _no_network)
    download_cifar10(root)  # already there: nothing fetched
