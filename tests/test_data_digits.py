"""The embedded ``digits`` task: a fixed, stratified, disjoint split and seeded loaders."""

from __future__ import annotations

import numpy as np
import torch

from bibench_cli.data.digits import DigitsDataModule, digits_split_indices, digits_uint8


def test_split_is_60_20_20_disjoint_and_complete():
    train, val, test = digits_split_indices()
    assert (len(train), len(val), len(test)) == (1077, 360, 360)
    everything = np.concatenate([train, val, test])
    assert len(np.unique(everything)) == len(everything) == 1797


def test_split_is_stratified():
    labels = digits_uint8()[1].numpy()
    overall = np.bincount(labels) / len(labels)
    for part in digits_split_indices():
        share = np.bincount(labels[part], minlength=10) / len(part)
        assert np.abs(share - overall).max() < 0.01


def test_split_does_not_depend_on_the_run_seed():
    first, other = DigitsDataModule(seed=0), DigitsDataModule(seed=7)
    for a, b in zip(first.test_images_uint8(), other.test_images_uint8(), strict=True):
        assert np.array_equal(a, b)
    assert torch.equal(first.splits.val.labels, other.splits.val.labels)


def test_shapes_and_normalisation():
    dm = DigitsDataModule(batch_size=2000)
    assert (dm.num_classes, dm.in_channels, dm.image_size) == (10, 1, 8)
    images, labels = next(iter(dm.train_dataloader()))
    assert images.shape == (1077, 1, 8, 8) and images.dtype == torch.float32
    assert labels.dtype == torch.int64
    assert abs(images.mean().item()) < 1e-4 and abs(images.std().item() - 1) < 1e-3


def test_shuffling_follows_the_seed():
    def first_labels(seed: int) -> torch.Tensor:
        return next(iter(DigitsDataModule(seed=seed, batch_size=32).train_dataloader()))[1]

    assert torch.equal(first_labels(1), first_labels(1))
    assert not torch.equal(first_labels(1), first_labels(2))


def test_eval_transform_of_raw_test_images_matches_the_test_loader():
    dm = DigitsDataModule(batch_size=400)
    raw, labels = dm.test_images_uint8()
    assert raw.shape == (360, 8, 8, 1) and raw.dtype == np.uint8
    images, loader_labels = next(iter(dm.test_dataloader()))
    assert torch.equal(dm.eval_transform(raw), images)
    assert np.array_equal(labels, loader_labels.numpy())
