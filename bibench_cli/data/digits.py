"""``digits``: scikit-learn's bundled 8×8 handwritten digits, the offline default task.

1,797 real images (UCI optdigits test set) ship inside scikit-learn, so this task needs no
download and trains a ResNet-20 in seconds on two CPU cores. Pixel counts 0..16 are
stored as uint8 0..255 so digits share the image pipeline (and the robustness hooks) of
the other tasks; the normalisation statistics are those of the training split.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from bibench_cli.data.base import ImageDataModule, InMemoryImages, Splits

SPLIT_SEED = 0  # the split is part of the task, not of the run: independent of ``seed``
VAL_FRACTION = 0.2
TEST_FRACTION = 0.2


@cache
def digits_uint8() -> tuple[torch.Tensor, torch.Tensor]:
    """All 1,797 digits as N×1×8×8 uint8 (0..16 scaled to 0..255) and int64 labels."""
    bunch = load_digits()
    pixels = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)
    return torch.from_numpy(pixels).unsqueeze(1), torch.from_numpy(bunch.target.astype(np.int64))


@cache
def digits_split_indices() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fixed stratified 60/20/20 train/val/test indices into :func:`digits_uint8`."""
    labels = digits_uint8()[1].numpy()
    index = np.arange(len(labels))
    rest, test = train_test_split(
        index, test_size=TEST_FRACTION, stratify=labels, random_state=SPLIT_SEED
    )
    train, val = train_test_split(
        rest,
        test_size=VAL_FRACTION / (1 - TEST_FRACTION),
        stratify=labels[rest],
        random_state=SPLIT_SEED,
    )
    return train, val, test


class DigitsDataModule(ImageDataModule):
    """1×8×8 grey digits, 10 classes, no augmentation, everything in memory."""

    num_classes = 10
    in_channels = 1
    image_size = 8

    def __init__(self, *, batch_size: int = 128, num_workers: int = 0, seed: int = 0) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        train = digits_uint8()[0][digits_split_indices()[0]].float() / 255.0
        self.mean = (train.mean().item(),)
        self.std = (train.std().item(),)

    def load_splits(self) -> Splits:
        images, labels = digits_uint8()
        train, val, test = (torch.from_numpy(i) for i in digits_split_indices())
        return Splits(
            train=InMemoryImages(images[train], labels[train]),
            val=InMemoryImages(images[val], labels[val]),
            test=InMemoryImages(images[test], labels[test]),
        )
