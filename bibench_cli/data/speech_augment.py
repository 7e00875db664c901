"""Training augmentation of the official BiBench speech pipeline, on raw float32 waveforms.

The official code (``bispeech``: ``SpeechCommandDataset.__getitem__``, ``ChangeAmplitude``,
``ChangeSpeedAndPitchAudio``, ``TimeshiftAudio``, ``FixAudioLength``) applies, in this order,
to the clip as read (which may be shorter than 1 s):

1. background noise, p 0.3: x·(1 - s) + n·s, s ~ U(0, 0.3), n a window of x's length from a
   random ``_background_noise_`` file (start uniform in 0..len(n) - len(x) - 1; zero-padded
   when the file is shorter);
2. amplitude, p 0.5: x·a, a ~ U(0.7, 1.1);
3. speed and pitch, p 0.5: c ~ U(-0.2, 0.2), nearest-neighbour resampling by 1/(1 + c)
   (``F.interpolate(mode="nearest")``: the clip gets shorter when c > 0);
4. time shift, p 0.5: k ~ uniform integer in ±0.2 s; k > 0 moves the sound k samples
   earlier, k < 0 later, zero-filled, length kept;
5. pad with zeros at the end, or cut, to 16,000 samples (also at evaluation).

The official code draws from Python's global ``random`` in each worker; here every draw
comes from a generator the caller seeds per sample, so a run repeats exactly whatever the
number of DataLoader workers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bibench_cli.data.wav import SAMPLE_RATE

CLIP_SAMPLES = SAMPLE_RATE  # 1 s


def mix_noise(wave: np.ndarray, noise: np.ndarray, start: int, scale: float) -> np.ndarray:
    """wave·(1 - scale) + noise[start : start + len(wave)]·scale (noise zero-padded)."""
    window = noise[start : start + len(wave)]
    window = np.pad(window, (0, len(wave) - len(window)))
    return (wave * (1.0 - scale) + window * scale).astype(np.float32)


def change_speed(wave: np.ndarray, change: float) -> np.ndarray:
    """Play ``1 + change`` times as fast (pitch moves with it), nearest-neighbour.

    Same indices as ``F.interpolate(x, scale_factor=1 / (1 + change), mode="nearest")``:
    floor(L·f) outputs, output i reading input min(⌊i·(1/f)⌋, L - 1) in float32.
    """
    factor = 1.0 / (1.0 + change)
    length = len(wave)
    out_length = int(np.floor(length * factor))
    step = np.float32(1.0 / factor)
    source = np.floor(np.arange(out_length, dtype=np.float32) * step).astype(np.int64)
    return wave[np.minimum(source, length - 1)]


def time_shift(wave: np.ndarray, shift: int) -> np.ndarray:
    """Move the content ``shift`` samples earlier (``shift`` < 0: later), zero-filled."""
    out = np.zeros_like(wave)
    length = len(wave)
    if shift >= 0:
        out[: max(length - shift, 0)] = wave[shift:]
    else:
        out[-shift:] = wave[: max(length + shift, 0)]
    return out


def fix_length(wave: np.ndarray, length: int = CLIP_SAMPLES) -> np.ndarray:
    """Cut to ``length`` samples or zero-pad at the end."""
    return np.pad(wave[:length], (0, max(length - len(wave), 0)))


@dataclass(frozen=True)
class SpeechAugment:
    """The official training augmentation with its probabilities and ranges (defaults).

    Calling it draws every random number from ``rng`` in a fixed order, coin first, so
    one seeded generator per sample fixes the whole result.
    """

    noise_prob: float = 0.3
    noise_max_scale: float = 0.3
    amplitude_prob: float = 0.5
    amplitude_range: tuple[float, float] = (0.7, 1.1)
    speed_prob: float = 0.5
    speed_max_change: float = 0.2
    shift_prob: float = 0.5
    shift_max_seconds: float = 0.2

    def __call__(
        self, wave: np.ndarray, rng: np.random.Generator, noises: Sequence[np.ndarray] = ()
    ) -> np.ndarray:
        """Augment a raw float32 clip (any length; pad/cut it afterwards)."""
        if rng.random() < self.noise_prob:
            if not noises:
                raise ValueError("background-noise augmentation needs at least one noise clip")
            noise = noises[rng.integers(len(noises))]
            start = rng.integers(max(len(noise) - len(wave), 1))
            wave = mix_noise(wave, noise, int(start), rng.uniform(0.0, self.noise_max_scale))
        if rng.random() < self.amplitude_prob:
            wave = (wave * rng.uniform(*self.amplitude_range)).astype(np.float32)
        if rng.random() < self.speed_prob:
            wave = change_speed(wave, rng.uniform(-self.speed_max_change, self.speed_max_change))
        if rng.random() < self.shift_prob:
            limit = int(self.shift_max_seconds * SAMPLE_RATE)
            wave = time_shift(wave, int(rng.integers(-limit, limit, endpoint=True)))
        return wave
