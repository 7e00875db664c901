"""The 16 kHz 16-bit PCM mono WAV reader and writer, checked against scipy's WAV codec."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from bibench_cli.data.errors import CorruptDatasetError, DatasetNotFoundError
from bibench_cli.data.wav import read_wav, read_wav_int16, write_wav


@pytest.fixture
def samples() -> np.ndarray:
    values = np.random.default_rng(0).integers(-32768, 32768, 1234)
    return np.concatenate([[-32768, 32767, 0], values]).astype(np.int16)


def test_reads_what_scipy_writes(tmp_path: Path, samples: np.ndarray):
    path = tmp_path / "good.wav"
    wavfile.write(path, 16000, samples)
    assert np.array_equal(read_wav_int16(path), samples)
    waveform = read_wav(path)
    assert waveform.dtype == np.float32
    assert waveform[:3].tolist() == [-1.0, 32767 / 32768, 0.0]


def test_scipy_reads_what_we_write(tmp_path: Path, samples: np.ndarray):
    path = tmp_path / "ours.wav"
    write_wav(path, samples)
    rate, data = wavfile.read(path)
    assert rate == 16000 and data.dtype == np.int16 and np.array_equal(data, samples)


def _truncated(path: Path, samples: np.ndarray) -> None:
    wavfile.write(path, 16000, samples)
    path.write_bytes(path.read_bytes()[:-101])  # also leaves half a sample


BAD_FILES = {
    "8 kHz": lambda path, s: wavfile.write(path, 8000, s),
    "stereo": lambda path, s: wavfile.write(path, 16000, np.stack([s, s], axis=1)),
    "8-bit": lambda path, s: wavfile.write(path, 16000, (s // 256 + 128).astype(np.uint8)),
    "float": lambda path, s: wavfile.write(path, 16000, s.astype(np.float32) / 32768),
    "truncated": _truncated,
    "not a wav": lambda path, s: path.write_bytes(b"ID3 this is an mp3, honest"),
    "empty": lambda path, s: path.write_bytes(b""),
}


@pytest.mark.parametrize("kind", BAD_FILES)
def test_rejects_other_formats_naming_the_file(tmp_path: Path, samples: np.ndarray, kind: str):
    path = tmp_path / "bad.wav"
    BAD_FILES[kind](path, samples)
    with pytest.raises(CorruptDatasetError) as error:
        read_wav(path)
    message = str(error.value)
    assert str(path) in message and "16 kHz 16-bit PCM mono" in message and "\n" not in message


def test_missing_file_is_not_found(tmp_path: Path):
    with pytest.raises(DatasetNotFoundError, match="nowhere.wav"):
        read_wav(tmp_path / "nowhere.wav")


def test_writer_takes_only_int16_mono(tmp_path: Path):
    with pytest.raises(ValueError, match="int16"):
        write_wav(tmp_path / "x.wav", np.zeros(10, dtype=np.float32))
