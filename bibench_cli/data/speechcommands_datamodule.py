"""The ``speechcommands`` datamodule: batches of 1 s waveforms from the official splits.

A batch is ``(waveforms (B, 16000) float32, labels (B,) int64)``; the log-mel front end runs
in the task's module, batched, on the training device (``tasks/speech.py``). Training clips
are shuffled and augmented as the official pipeline does, both drawn from (seed, epoch, ...)
so a run repeats exactly with any number of workers and after a resume. Lightning's only
per-epoch call on a dataloader is the sampler's ``set_epoch``, so the sampler carries the
epoch to the dataset's augmentation before each epoch's iterator runs.

Every clip is read once at setup: a malformed WAV fails the run before it starts, with one
line naming the file, rather than mid-training or at the final test.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
from torch.utils.data import DataLoader, Sampler

from bibench_cli.data.errors import DataOptionError
from bibench_cli.data.speech_augment import SpeechAugment
from bibench_cli.data.speechcommands import (
    SILENCE_MODES,
    VERSIONS,
    SpeechCommandsDataset,
    SpeechCommandsSplit,
    check_release,
    read_split,
)
from bibench_cli.data.wav import read_wav_int16

log = logging.getLogger("bibench")
SILENCE_SEED = 0  # noise-silence windows: the same clips for every run, whatever its seed
SILENCE_NOTES = {
    "zeros": "all-zero clips, as the official code; trivially recognised, they inflate accuracy",
    "noise": "1 s windows of the background-noise recordings",
}


class EpochSampler(Sampler[int]):
    """A permutation drawn from (seed, epoch) that also sets the dataset's epoch.

    Lightning calls :meth:`set_epoch` before each training epoch (also after a resume). An
    iteration that no ``set_epoch`` preceded counts as the next epoch, so augmentations
    never repeat silently when the caller does not say the epoch.
    """

    def __init__(self, dataset: SpeechCommandsDataset, seed: int) -> None:
        self.dataset = dataset
        self.seed = seed
        self.epoch = -1  # the epoch last iterated
        self._next: int | None = None  # the epoch set_epoch announced for the next iteration

    def set_epoch(self, epoch: int) -> None:
        self._next = epoch

    def __len__(self) -> int:
        return len(self.dataset)

    def __iter__(self) -> Iterator[int]:
        self.epoch = self._next if self._next is not None else self.epoch + 1
        self._next = None
        self.dataset.set_epoch(self.epoch)
        order = np.random.default_rng((self.seed, self.epoch)).permutation(len(self.dataset))
        return iter(order.tolist())


def _check_readable(split: SpeechCommandsSplit) -> None:
    """Read every recorded clip of ``split`` (silence windows come from noise files the
    dataset reads itself); raises the reader's one-line error for a malformed WAV."""
    for clip in split.clips:
        if clip.path is not None and clip.start is None:
            read_wav_int16(clip.path)


class SpeechCommandsDataModule(pl.LightningDataModule):
    """Speech Commands (``version``) with the paper's 12 classes.

    ``silence``: ``zeros`` (official) or ``noise`` (see :mod:`bibench_cli.data.speechcommands`);
    ``augment``: the official training augmentation (background noise, amplitude, speed,
    time shift). ``root`` holds the release (``root/<version>/``, or the release itself).
    """

    def __init__(
        self,
        *,
        root: str | Path = "data",
        version: str = VERSIONS[0],
        silence: str = "zeros",
        augment: bool = True,
        batch_size: int = 96,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        for key, value, accepted in (("version", version, VERSIONS),
                                     ("silence", silence, SILENCE_MODES)):  # fmt: skip
            if value not in accepted:
                raise DataOptionError(
                    f"task.data.{key}={value!r} is not accepted for speechcommands; "
                    f"accepted: {', '.join(accepted)}"
                )
        self.root = Path(root).expanduser().absolute()
        self.version = version
        self.silence = silence
        self.augment = augment
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.seed = seed
        self.datasets: dict[str, SpeechCommandsDataset] = {}

    def check_data(self) -> None:
        """One line when the release or its list files are missing (reads no clip)."""
        check_release(self.root, self.version)

    def setup(self, stage: str | None = None) -> None:
        """Read the three splits once (Lightning calls this for fit and again for test)."""
        if self.datasets:
            return
        splits = {
            name: read_split(
                self.root, name, version=self.version, silence=self.silence, seed=SILENCE_SEED
            )
            for name in ("train", "val", "test")
        }
        for split in splits.values():
            _check_readable(split)
        augment = SpeechAugment() if self.augment else None
        self.datasets = {
            name: SpeechCommandsDataset(
                split, augment=augment if name == "train" else None, seed=self.seed
            )
            for name, split in splits.items()
        }
        sizes = "/".join(str(len(d)) for d in self.datasets.values())
        log.info(
            "Speech Commands %s at %s: %s train/val/test clips; silence=%s (%s)",
            self.version, splits["train"].directory, sizes, self.silence,
            SILENCE_NOTES[self.silence],
        )  # fmt: skip

    def _loader(self, name: str) -> DataLoader:
        self.setup()
        dataset = self.datasets[name]
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            sampler=EpochSampler(dataset, self.seed) if name == "train" else None,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train")

    def val_dataloader(self) -> DataLoader:
        return self._loader("val")

    def test_dataloader(self) -> DataLoader:
        return self._loader("test")
