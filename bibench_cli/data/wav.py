"""16 kHz 16-bit PCM mono WAV files (the Speech Commands format), via the stdlib ``wave``.

``wave`` parses these files in ~50 µs each with no extra dependency. Anything else (another
rate, width or channel count, a compressed or float encoding, a data chunk shorter than its
header says) is rejected rather than converted, so a wrong file never trains silently.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from bibench_cli.data.errors import CorruptDatasetError, DatasetNotFoundError

SAMPLE_RATE = 16_000
SAMPLE_WIDTH = 2  # bytes: 16-bit PCM
EXPECTED = "a 16 kHz 16-bit PCM mono WAV"
INT16_SCALE = 32768.0  # int16 -> [-1, 1), as torchaudio.load and the official pipeline


def read_wav_int16(path: str | Path) -> np.ndarray:
    """The samples of a 16 kHz 16-bit PCM mono WAV as a 1-D int16 array."""
    path = Path(path)
    try:
        with wave.open(str(path), "rb") as handle:
            rate = handle.getframerate()
            width = handle.getsampwidth()
            channels = handle.getnchannels()
            frames = handle.getnframes()
            data = handle.readframes(frames)
    except FileNotFoundError:
        raise DatasetNotFoundError(f"WAV file {path} not found: expected {EXPECTED}") from None
    except (wave.Error, EOFError, OSError) as error:
        raise _corrupt(
            path, f"not a readable PCM WAV ({str(error) or type(error).__name__})"
        ) from None
    if (rate, width, channels) != (SAMPLE_RATE, SAMPLE_WIDTH, 1):
        found = f"{rate} Hz, {8 * width}-bit, {channels} channel(s)"
        raise _corrupt(path, found)
    if len(data) != frames * SAMPLE_WIDTH:
        raise _corrupt(path, f"truncated: {len(data)} data bytes for {frames} samples")
    return np.frombuffer(data, dtype="<i2").astype(np.int16)


def read_wav(path: str | Path) -> np.ndarray:
    """The samples of a 16 kHz 16-bit PCM mono WAV as float32 in [-1, 1)."""
    return read_wav_int16(path).astype(np.float32) / INT16_SCALE


def write_wav(path: str | Path, samples: np.ndarray) -> None:
    """Write int16 ``samples`` as a 16 kHz 16-bit PCM mono WAV."""
    samples = np.asarray(samples)
    if samples.dtype != np.int16 or samples.ndim != 1:
        raise ValueError(f"expected 1-D int16 samples, got {samples.ndim}-D {samples.dtype}")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(SAMPLE_WIDTH)
        handle.setframerate(SAMPLE_RATE)
        handle.writeframes(samples.astype("<i2").tobytes())


def _corrupt(path: Path, found: str) -> CorruptDatasetError:
    return CorruptDatasetError(
        f"bad WAV file {path}: {found}; expected {EXPECTED} (the Speech Commands format)"
    )
