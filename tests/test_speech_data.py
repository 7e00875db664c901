"""Speech Commands reader and dataset on a tiny synthetic release in the official layout."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from bibench_cli.data.errors import CorruptDatasetError, DatasetNotFoundError
from bibench_cli.data.speech_augment import SpeechAugment
from bibench_cli.data.speechcommands import (
    CLASSES,
    SpeechCommandsDataset,
    read_split,
    speech_commands_dir,
)
from bibench_cli.data.speechcommands_demo import DEMO_WORDS, write_demo_speech_commands
from bibench_cli.data.wav import read_wav

# writer defaults: 5 speakers (3 train, 1 val, 1 test) × 2 repeats × 12 words
CLIPS = {"train": 72, "val": 24, "test": 24}
SILENCE = {"train": 7, "val": 2, "test": 2}  # int(0.1 · clips), as the official code
V1 = "speech_commands_v0.01"


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("speech")
    write_demo_speech_commands(root)
    return root


def listed(directory: Path, name: str) -> list[str]:
    return (directory / name).read_text().split()


def relative(split, directory: Path) -> list[str]:
    return [c.path.relative_to(directory).as_posix() for c in split.clips if c.label != 1]


def test_splits_follow_the_list_files(release: Path):
    directory = release / V1
    val, test, train = (read_split(release, s) for s in ("val", "test", "train"))
    assert relative(val, directory) == listed(directory, "validation_list.txt")
    assert relative(test, directory) == listed(directory, "testing_list.txt")
    every_clip = sorted(
        p.relative_to(directory).as_posix() for p in directory.glob("*/*_nohash_*.wav")
    )
    held_out = set(relative(val, directory)) | set(relative(test, directory))
    assert relative(train, directory) == [c for c in every_clip if c not in held_out]
    for split in (train, val, test):
        assert len(split.clips) == CLIPS[split.name] + SILENCE[split.name]
    # speakers are split whole: no speaker id in two splits
    speakers = [{Path(p).name.split("_")[0] for p in relative(s, directory)} for s in (train, val)]
    assert not speakers[0] & speakers[1]


def test_labels_use_the_official_twelve_classes(release: Path):
    assert CLASSES[:4] == ("unknown", "silence", "yes", "no") and len(CLASSES) == 12
    split = read_split(release, "train")
    for clip in split.clips:
        if clip.path is None:
            assert clip.label == 1
            continue
        word = clip.path.parent.name
        assert clip.label == (CLASSES.index(word) if word not in ("bed", "cat") else 0)
    # 6 train clips per word; unknown gathers both extra words (not subsampled)
    assert np.bincount(split.labels).tolist() == [12, 7] + [6] * 10


def test_zero_silence_is_appended_to_every_split(release: Path):
    for name, count in SILENCE.items():
        split = read_split(release, name, silence="zeros")
        tail = split.clips[-count:]
        assert all(c.path is None and c.label == 1 for c in tail)
        assert split.clips[-count - 1].label != 1
        dataset = SpeechCommandsDataset(split)
        assert not dataset[len(dataset) - 1][0].any()


def test_noise_silence_cuts_background_windows_per_seed(release: Path):
    noise_dir = release / V1 / "_background_noise_"
    split = read_split(release, "test", silence="noise", seed=3)
    silence = [c for c in split.clips if c.label == 1]
    assert len(silence) == SILENCE["test"] and all(c.path.parent == noise_dir for c in silence)
    dataset = SpeechCommandsDataset(split)
    for index in range(len(dataset) - len(silence), len(dataset)):
        clip = split.clips[index]
        window = read_wav(clip.path)[clip.start : clip.start + 16000]
        assert np.array_equal(dataset[index][0].numpy(), window)
    assert read_split(release, "test", silence="noise", seed=3).clips == split.clips
    starts = {c.start for c in read_split(release, "train", silence="noise", seed=4).clips}
    assert starts != {c.start for c in read_split(release, "train", silence="noise", seed=5).clips}


def test_items_are_padded_float_clips(release: Path):
    dataset = SpeechCommandsDataset(read_split(release, "val"))
    for index in range(4):
        stored = read_wav(dataset.split.clips[index].path)
        wave, label = dataset[index]
        assert wave.shape == (16000,) and wave.dtype == torch.float32
        assert np.array_equal(wave[: len(stored)].numpy(), stored[:16000])
        assert not wave[len(stored) :].any()
        assert label == dataset.split.clips[index].label


def test_release_directory_is_found_in_each_layout(release: Path, tmp_path: Path):
    directory = release / V1
    assert speech_commands_dir(release) == directory
    assert speech_commands_dir(directory) == directory
    torchaudio_style = tmp_path / "SpeechCommands"
    torchaudio_style.mkdir()
    (torchaudio_style / V1).symlink_to(directory)
    assert speech_commands_dir(tmp_path) == torchaudio_style / V1
    v2 = write_demo_speech_commands(
        tmp_path / "v2", version="speech_commands_v0.02", speakers=3, repeats=1
    )
    assert len(read_split(tmp_path / "v2", "test", version="speech_commands_v0.02").clips) == 13
    assert v2.directory == tmp_path / "v2" / "speech_commands_v0.02"


def test_missing_release_says_where_and_how_to_get_it(tmp_path: Path):
    with pytest.raises(DatasetNotFoundError) as error:
        read_split(tmp_path, "train")
    message = str(error.value)
    assert str(tmp_path / V1) in message and "validation_list.txt" in message
    assert "http://download.tensorflow.org/data/speech_commands_v0.01.tar.gz" in message


@pytest.fixture
def copy(release: Path, tmp_path: Path) -> Path:
    shutil.copytree(release / V1, tmp_path / V1)
    return tmp_path / V1


def test_missing_list_file_and_listed_clip_are_named(copy: Path):
    (copy / "testing_list.txt").unlink()
    with pytest.raises(DatasetNotFoundError, match="no testing_list.txt"):
        read_split(copy.parent, "train")
    first = listed(copy, "validation_list.txt")[0]
    (copy / "testing_list.txt").write_text("")
    (copy / first).unlink()
    with pytest.raises(DatasetNotFoundError, match=f"validation_list.txt.*first: {first}"):
        read_split(copy.parent, "val")


def test_bad_wav_is_named_when_read(copy: Path):
    first = listed(copy, "testing_list.txt")[0]
    (copy / first).write_bytes(b"RIFF....WAVEjunk")
    dataset = SpeechCommandsDataset(read_split(copy.parent, "test"))
    with pytest.raises(CorruptDatasetError, match=first):
        dataset[0]


def test_noise_needs_background_recordings(copy: Path):
    shutil.rmtree(copy / "_background_noise_")
    with pytest.raises(DatasetNotFoundError, match="_background_noise_"):
        read_split(copy.parent, "val", silence="noise")
    with pytest.raises(DatasetNotFoundError, match="_background_noise_"):
        SpeechCommandsDataset(read_split(copy.parent, "train"), augment=SpeechAugment())
    assert len(SpeechCommandsDataset(read_split(copy.parent, "test"))) == 26  # not needed


def test_augmentation_is_seeded_per_seed_epoch_and_index(release: Path):
    split = read_split(release, "train")
    dataset = SpeechCommandsDataset(split, augment=SpeechAugment(), seed=1)
    first = torch.stack([dataset[i][0] for i in range(8)])
    again = SpeechCommandsDataset(split, augment=SpeechAugment(), seed=1)
    assert torch.equal(torch.stack([again[i][0] for i in range(8)]), first)
    other_seed = SpeechCommandsDataset(split, augment=SpeechAugment(), seed=2)
    assert not torch.equal(torch.stack([other_seed[i][0] for i in range(8)]), first)
    dataset.set_epoch(1)
    assert not torch.equal(torch.stack([dataset[i][0] for i in range(8)]), first)


def epochs(dataset: SpeechCommandsDataset, workers: int) -> list[torch.Tensor]:
    loader = DataLoader(
        dataset, batch_size=16, shuffle=False, num_workers=workers, persistent_workers=workers > 0
    )
    batches = []
    for epoch in range(2):
        dataset.set_epoch(epoch)
        batches.append(torch.cat([waves for waves, _ in loader]))
    return batches


def serial_and_parallel_epochs(release: str, out: str) -> None:
    """Two epochs read in this process and by 2 workers, saved to ``out``."""
    split = read_split(Path(release), "train")
    serial = epochs(SpeechCommandsDataset(split, augment=SpeechAugment()), 0)
    parallel = epochs(SpeechCommandsDataset(split, augment=SpeechAugment()), 2)
    torch.save((serial, parallel), out)


def test_same_augmentations_with_any_number_of_workers(release: Path, tmp_path: Path):
    # in a fresh interpreter, as a training process forks its workers: forking this test
    # process after OpenVINO's thread pools ran in it (the deploy tests) crashes it
    out = tmp_path / "epochs.pt"
    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
        "from test_speech_data import serial_and_parallel_epochs as run; "
        f"run({str(release)!r}, {str(out)!r})"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    serial, parallel = torch.load(out)
    assert not torch.equal(serial[0], serial[1])
    for one, other in zip(serial, parallel, strict=True):
        assert torch.equal(one, other)


def test_demo_writer_is_deterministic_per_seed(tmp_path: Path):
    kwargs = {"speakers": 3, "repeats": 1}
    first = write_demo_speech_commands(tmp_path / "a", seed=7, **kwargs)
    second = write_demo_speech_commands(tmp_path / "b", seed=7, **kwargs)
    other = write_demo_speech_commands(tmp_path / "c", seed=8, **kwargs)
    files = sorted(p.relative_to(first.directory) for p in first.directory.rglob("*.wav"))
    assert len(files) == len(DEMO_WORDS) * 3 + 2
    assert first.splits == second.splits
    for name in files:
        assert (first.directory / name).read_bytes() == (second.directory / name).read_bytes()
    assert first.splits["test"] != other.splits["test"]  # other speaker ids
