"""ImageNet class folders: tiny JPEG trees read, viewed and normalised without torchvision."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from fixtures_data import write_fake_imagenet
from PIL import Image

from bibench_cli.data.errors import CorruptDatasetError, DatasetNotFoundError
from bibench_cli.data.imagenet import ImageNetDataModule

CLASSES = ("n01440764", "n01443537", "n01484850")


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, dict]:
    return tmp_path, write_fake_imagenet(tmp_path, classes=CLASSES, size=(40, 30))


def test_reads_class_folders(tree):
    root, written = tree
    dm = ImageNetDataModule(root=root, image_size=16, batch_size=10)
    assert dm.classes == list(CLASSES) and dm.num_classes == 3
    images, labels = next(iter(dm.train_dataloader()))
    assert images.shape == (6, 3, 16, 16) and images.dtype == torch.float32
    assert sorted(labels.tolist()) == [0, 0, 1, 1, 2, 2]
    images, labels = next(iter(dm.test_dataloader()))
    assert images.shape == (3, 3, 16, 16) and labels.tolist() == [0, 1, 2]
    assert dm.splits.val is dm.splits.test  # ILSVRC test labels are not public
    assert [path for path, _ in dm.splits.test.samples] == [p for p, _ in written["val"]]


def test_root_may_be_the_shared_data_root(tmp_path):
    write_fake_imagenet(tmp_path / "imagenet", classes=CLASSES)
    assert ImageNetDataModule(root=tmp_path).num_classes == 3


def test_default_view_is_224():
    assert ImageNetDataModule(root="unused").image_size == 224


def test_eval_transform_matches_the_test_loader(tree):
    root, written = tree
    dm = ImageNetDataModule(root=root, image_size=16, batch_size=10)
    raw, labels = dm.test_images_uint8()
    assert raw.shape == (3, 16, 16, 3) and raw.dtype == np.uint8 and labels.tolist() == [0, 1, 2]
    images, _ = next(iter(dm.test_dataloader()))
    assert torch.equal(dm.eval_transform(raw), images)
    # full-size decoded images get the resize/centre-crop view first
    decoded = np.stack([np.asarray(Image.open(path).convert("RGB")) for path, _ in written["val"]])
    assert decoded.shape == (3, 30, 40, 3)
    assert torch.equal(dm.eval_transform(decoded), images)


def test_training_views_follow_the_seed(tree):
    root, _ = tree

    def batch() -> torch.Tensor:
        dm = ImageNetDataModule(root=root, image_size=16, batch_size=6, seed=0)
        torch.manual_seed(0)
        return next(iter(dm.train_dataloader()))[0]

    assert torch.equal(batch(), batch())


def test_greyscale_images_become_rgb(tree):
    root, _ = tree
    Image.new("L", (20, 20), 128).save(root / "val" / CLASSES[0] / "grey.JPEG")
    images, _ = next(iter(ImageNetDataModule(root=root, image_size=8).test_dataloader()))
    assert images.shape == (4, 3, 8, 8)


def test_missing_tree_says_where_what_and_how(tmp_path):
    with pytest.raises(DatasetNotFoundError) as caught:
        ImageNetDataModule(root=tmp_path).setup()
    message = str(caught.value)
    assert "\n" not in message and str(tmp_path) in message
    assert "train/<class>/*.JPEG" in message and "image-net.org" in message


def test_val_class_unknown_to_train_is_rejected(tree):
    root, _ = tree
    (root / "val" / "n99999999").mkdir()
    with pytest.raises(DatasetNotFoundError, match="n99999999"):
        ImageNetDataModule(root=root).setup()


def test_corrupt_image_is_named(tree):
    root, written = tree
    path = written["val"][1][0]
    path.write_bytes(b"\xff\xd8 definitely not a jpeg")
    dm = ImageNetDataModule(root=root, image_size=8)
    with pytest.raises(CorruptDatasetError) as caught:
        next(iter(dm.test_dataloader()))
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)
