"""``speechcommands``: Google Speech Commands (Warden 2018) read from the official release.

The release (``speech_commands_v0.01``; v0.02 has the same layout) holds
``<word>/<speaker>_nohash_<n>.wav`` (16 kHz 16-bit PCM mono, up to 1 s), the relative paths
of ``validation_list.txt`` and ``testing_list.txt``, and ``_background_noise_/*.wav``.
Splits follow the official code (torchaudio's ``SPEECHCOMMANDS`` walker): validation and
test are the listed files in list order; training is every other ``*_nohash_*`` clip, in
sorted order. Labels are the paper's 12 classes in the official order; every word outside
the ten commands is ``unknown`` (all of them, not subsampled).

Silence is appended to every split, test included, int(0.1 · clips) of it (the official
``int(len(dataset) * silence_percent)``). ``silence="zeros"`` is the official all-zero 1 s
clip, which any model recognises trivially and so inflates accuracy; ``silence="noise"``
cuts 1 s windows from the background-noise recordings instead (the same six recordings
serve every split, at windows drawn from ``seed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from bibench_cli.data.errors import DatasetNotFoundError
from bibench_cli.data.speech_augment import CLIP_SAMPLES, SpeechAugment, fix_length
from bibench_cli.data.wav import read_wav

VERSIONS = ("speech_commands_v0.01", "speech_commands_v0.02")
URL = "http://download.tensorflow.org/data/{version}.tar.gz"
CLASSES = (
    "unknown", "silence", "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go",
)  # fmt: skip
UNKNOWN, SILENCE = 0, 1
COMMANDS = CLASSES[2:]
SPLITS = ("train", "val", "test")
LIST_FILES = {"val": "validation_list.txt", "test": "testing_list.txt"}
NOISE_DIR = "_background_noise_"
HASH_DIVIDER = "_nohash_"
SILENCE_MODES = ("zeros", "noise")
SILENCE_FRACTION = 0.1
TORCHAUDIO_FOLDER = "SpeechCommands"  # torchaudio's (and the official configs') parent folder


def label_of(word: str) -> int:
    """Class index of a word folder: its command's index, else ``unknown``."""
    return CLASSES.index(word) if word in COMMANDS else UNKNOWN


@dataclass(frozen=True)
class Clip:
    """One example: a word recording, a 1 s window of a noise file, or all-zero silence."""

    path: Path | None  # None: all-zero silence
    label: int
    start: int | None = None  # first sample of a noise window (noise silence)


@dataclass(frozen=True)
class SpeechCommandsSplit:
    """A split as the official dataset lists it, silence appended."""

    directory: Path
    name: str
    clips: tuple[Clip, ...]
    noise_files: tuple[Path, ...]

    @property
    def labels(self) -> np.ndarray:
        return np.array([clip.label for clip in self.clips], dtype=np.int64)


def _how_to_get(directory: Path, version: str) -> str:
    return f"download {URL.format(version=version)} and extract it into {directory}"


def speech_commands_dir(root: str | Path, version: str = VERSIONS[0]) -> Path:
    """The release directory: ``root`` itself, ``root/<version>`` or torchaudio's
    ``root/SpeechCommands/<version>``, whichever holds the release."""
    if version not in VERSIONS:
        raise ValueError(f"unknown Speech Commands version {version!r}; known: {VERSIONS}")
    root = Path(root)
    candidates = (root, root / version, root / TORCHAUDIO_FOLDER / version)
    markers = (*LIST_FILES.values(), NOISE_DIR)
    for directory in candidates:
        if any((directory / marker).exists() for marker in markers):
            return directory
    for directory in candidates[1:]:
        if directory.is_dir():
            return directory
    raise DatasetNotFoundError(
        f"Speech Commands not found at {root}: expected {root / version}/ holding "
        f"<word>/*{HASH_DIVIDER}*.wav, {', '.join(LIST_FILES.values())} and {NOISE_DIR}/; "
        f"{_how_to_get(root / version, version)}"
    )


def check_release(root: str | Path, version: str = VERSIONS[0]) -> Path:
    """The release directory, its list files checked to exist (cheap: reads no clip)."""
    directory = speech_commands_dir(root, version)
    for name in LIST_FILES.values():
        if not (directory / name).is_file():
            raise DatasetNotFoundError(
                f"Speech Commands at {directory} is incomplete: no {name} (expected the "
                f"release's list of relative clip paths); {_how_to_get(directory, version)}"
            )
    return directory


def _read_list(directory: Path, name: str, clips: set[str], version: str) -> list[str]:
    """Relative paths of a list file, each checked to be a clip of the release."""
    path = directory / name
    entries = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    missing = [entry for entry in entries if entry not in clips]
    if missing:
        raise DatasetNotFoundError(
            f"{len(missing)} clip(s) listed in {path} are missing under {directory} "
            f"(first: {missing[0]}); re-extract {URL.format(version=version)} there"
        )
    return entries


def _silence(
    count: int, split: str, noise_files: tuple[Path, ...], mode: str, seed: int
) -> list[Clip]:
    if mode == "zeros":
        return [Clip(None, SILENCE)] * count
    lengths = [len(read_wav(path)) for path in noise_files]
    rng = np.random.default_rng((seed, SPLITS.index(split)))
    clips = []
    for _ in range(count):
        which = int(rng.integers(len(noise_files)))
        start = int(rng.integers(max(lengths[which] - CLIP_SAMPLES, 0) + 1))
        clips.append(Clip(noise_files[which], SILENCE, start))
    return clips


def read_split(
    root: str | Path,
    split: str,
    *,
    version: str = VERSIONS[0],
    silence: str = "zeros",
    seed: int = 0,
) -> SpeechCommandsSplit:
    """The clips and labels of ``split`` ("train", "val" or "test"), silence appended.

    ``seed`` picks the noise windows of ``silence="noise"``; keep it fixed across runs so
    that every run is tested on the same clips.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown Speech Commands split {split!r}; choose one of {SPLITS}")
    if silence not in SILENCE_MODES:
        raise ValueError(f"unknown silence mode {silence!r}; choose one of {SILENCE_MODES}")
    directory = check_release(root, version)
    found = sorted(
        path.relative_to(directory).as_posix()
        for path in directory.glob(f"*/*{HASH_DIVIDER}*.wav")
        if path.parent.name != NOISE_DIR
    )
    if not found:
        raise DatasetNotFoundError(
            f"Speech Commands at {directory} holds no <word>/*{HASH_DIVIDER}*.wav clips; "
            f"{_how_to_get(directory, version)}"
        )
    clip_set = set(found)
    lists = {
        name: _read_list(directory, file, clip_set, version) for name, file in LIST_FILES.items()
    }
    if split == "train":
        held_out = {*lists["val"], *lists["test"]}
        chosen = [entry for entry in found if entry not in held_out]
    else:
        chosen = lists[split]
    clips = [Clip(directory / entry, label_of(entry.split("/")[0])) for entry in chosen]
    noise_files = tuple(sorted((directory / NOISE_DIR).glob("*.wav")))
    if silence == "noise" and not noise_files:
        raise DatasetNotFoundError(
            f"silence='noise' needs the background recordings {directory / NOISE_DIR}/*.wav, "
            f"found none; re-extract {URL.format(version=version)} there or use silence='zeros'"
        )
    count = int(len(clips) * SILENCE_FRACTION)
    clips += _silence(count, split, noise_files, silence, seed)
    return SpeechCommandsSplit(directory, split, tuple(clips), noise_files)


class SpeechCommandsDataset(Dataset):
    """1 s float32 waveforms (16,000 samples, [-1, 1)) and labels of one split.

    With ``augment`` each item is augmented by a generator seeded from (seed, epoch, index),
    so a run repeats exactly with any number of DataLoader workers. Call
    :meth:`set_epoch` before each epoch's iterator is created; the epoch lives in shared
    memory, so persistent workers see it too. Background-noise recordings are read once.
    """

    def __init__(
        self, split: SpeechCommandsSplit, *, augment: SpeechAugment | None = None, seed: int = 0
    ) -> None:
        self.split = split
        self.augment = augment
        self.seed = seed
        self._epoch = torch.zeros((), dtype=torch.int64).share_memory_()
        needs_noise = any(clip.start is not None for clip in split.clips) or (
            augment is not None and augment.noise_prob > 0
        )
        if needs_noise and not split.noise_files:
            raise DatasetNotFoundError(
                f"background-noise augmentation needs {split.directory / NOISE_DIR}/*.wav, "
                "found none; re-extract the release there or set noise_prob=0"
            )
        self.noise = {path: read_wav(path) for path in split.noise_files} if needs_noise else {}

    def set_epoch(self, epoch: int) -> None:
        self._epoch.fill_(epoch)

    def __len__(self) -> int:
        return len(self.split.clips)

    def waveform(self, index: int) -> np.ndarray:
        """Clip ``index`` as stored (before augmentation, not padded)."""
        clip = self.split.clips[index]
        if clip.path is None:
            return np.zeros(CLIP_SAMPLES, dtype=np.float32)
        if clip.start is not None:
            return fix_length(self.noise[clip.path][clip.start : clip.start + CLIP_SAMPLES])
        return read_wav(clip.path)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        wave = self.waveform(index)
        if self.augment is not None:
            rng = np.random.default_rng((self.seed, int(self._epoch), index))
            wave = self.augment(wave, rng, tuple(self.noise.values()))
        return torch.from_numpy(fix_length(wave)), self.split.clips[index].label
