"""A tiny, clearly synthetic Speech Commands release in the official on-disk layout.

Each word is a two-tone pattern (tone A then tone B, frequencies equally
spaced in mel between 300 Hz and 4 kHz), so its class is audible and learnable from the
log-mel features; "speakers" shift the pitch by up to ±4 %, the loudness and the onset,
and some clips are shorter than 1 s, as real ones are. Speakers are split whole (last one
test, second-last validation), as the release splits by speaker hash. Two synthetic
background recordings (white noise, mains hum) fill ``_background_noise_/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bibench_cli.data.logmel import hz_to_mel, mel_to_hz
from bibench_cli.data.speechcommands import COMMANDS, HASH_DIVIDER, LIST_FILES, NOISE_DIR, VERSIONS
from bibench_cli.data.wav import SAMPLE_RATE, write_wav

UNKNOWN_WORDS = ("bed", "cat")  # two of the release's non-command words
DEMO_WORDS = (*COMMANDS, *UNKNOWN_WORDS)
LOWEST_HZ, HIGHEST_HZ = 300.0, 4000.0
NOISE_SECONDS = 3
README = """Synthetic Speech Commands demo written by bibench (`bibench data demo`).
Not speech: every word is a pair of pure tones; speakers vary pitch, loudness and onset.
Same layout as the official release, so the same reader reads both.
"""


@dataclass(frozen=True)
class DemoRelease:
    """What the writer wrote: the release directory and each split's relative clip paths."""

    directory: Path
    splits: dict[str, list[str]]


def word_tones(word_index: int) -> tuple[float, float]:
    """(first, second) tone of a word, in Hz: distinct pairs, mel-spaced frequencies."""
    mels = np.linspace(hz_to_mel(LOWEST_HZ), hz_to_mel(HIGHEST_HZ), len(DEMO_WORDS))
    freqs = mel_to_hz(mels)
    return float(freqs[word_index]), float(freqs[(word_index + 5) % len(DEMO_WORDS)])


def _beep(freq: float, samples: int) -> np.ndarray:
    """A tone with a Hann envelope (no clicks)."""
    t = np.arange(samples) / SAMPLE_RATE
    return np.sin(2 * np.pi * freq * t) * np.hanning(samples)


def _clip(word_index: int, pitch: float, loudness: float, rng: np.random.Generator) -> np.ndarray:
    length = int(rng.integers(12_000, SAMPLE_RATE + 1))
    tone = int(0.3 * SAMPLE_RATE)
    onset = int(rng.integers(0, length - 2 * tone))
    wave = rng.normal(0.0, 0.005, length)
    first, second = word_tones(word_index)
    wave[onset : onset + tone] += loudness * _beep(first * pitch, tone)
    wave[onset + tone : onset + 2 * tone] += loudness * _beep(second * pitch, tone)
    return _to_int16(wave)


def _to_int16(wave: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(wave * 32767), -32768, 32767).astype(np.int16)


def _background(rng: np.random.Generator) -> dict[str, np.ndarray]:
    samples = NOISE_SECONDS * SAMPLE_RATE
    t = np.arange(samples) / SAMPLE_RATE
    hum = sum(0.1 / k * np.sin(2 * np.pi * 50 * k * t) for k in (1, 2, 3))
    return {
        "synthetic_white_noise.wav": _to_int16(rng.normal(0.0, 0.1, samples)),
        "synthetic_mains_hum.wav": _to_int16(hum + rng.normal(0.0, 0.01, samples)),
    }


def write_demo_speech_commands(
    root: str | Path,
    *,
    version: str = VERSIONS[0],
    speakers: int = 5,
    repeats: int = 2,
    seed: int = 0,
) -> DemoRelease:
    """Write ``root/<version>/``: ``speakers × repeats`` clips for each of 12 words.

    Deterministic given ``seed``. Defaults: 10 clips a word, 120 clips, ~4 MB.
    """
    if speakers < 3 or repeats < 1:
        raise ValueError(
            f"need speakers >= 3 (train, val, test) and repeats >= 1, got {speakers}, {repeats}"
        )
    if version not in VERSIONS:
        raise ValueError(f"unknown Speech Commands version {version!r}; known: {VERSIONS}")
    directory = Path(root) / version
    rng = np.random.default_rng(seed)
    ids = rng.choice(2**32, size=speakers, replace=False)
    voices = [(f"{int(i):08x}", rng.uniform(0.96, 1.04), rng.uniform(0.2, 0.6)) for i in ids]
    split_of = ["train"] * (speakers - 2) + ["val", "test"]
    splits: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    for word_index, word in enumerate(DEMO_WORDS):
        (directory / word).mkdir(parents=True, exist_ok=True)
        for (speaker, pitch, loudness), split in zip(voices, split_of, strict=True):
            for n in range(repeats):
                relative = f"{word}/{speaker}{HASH_DIVIDER}{n}.wav"
                write_wav(directory / relative, _clip(word_index, pitch, loudness, rng))
                splits[split].append(relative)
    for split, name in LIST_FILES.items():
        (directory / name).write_text("".join(f"{entry}\n" for entry in splits[split]))
    (directory / NOISE_DIR).mkdir(exist_ok=True)
    for name, samples in _background(rng).items():
        write_wav(directory / NOISE_DIR / name, samples)
    (directory / "README.md").write_text(README)
    return DemoRelease(directory, splits)
