"""Speech augmentation: each transform against hand values or the official torch code."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bibench_cli.data.speech_augment import (
    SpeechAugment,
    change_speed,
    fix_length,
    mix_noise,
    time_shift,
)

OFF = {"noise_prob": 0.0, "amplitude_prob": 0.0, "speed_prob": 0.0, "shift_prob": 0.0}
TRIALS = 400


def test_mix_noise_by_hand():
    wave = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    noise = np.array([10.0, 20.0, 30.0, 40.0], dtype=np.float32)
    # 0.75·wave + 0.25·noise[1:4]
    assert mix_noise(wave, noise, 1, 0.25).tolist() == [5.75, 9.0, 12.25]
    # a noise shorter than the clip is zero-padded
    assert mix_noise(wave, noise[:2], 0, 0.5).tolist() == [5.5, 11.0, 1.5]


def official_speed(wave: np.ndarray, change: float) -> np.ndarray:
    """The official ChangeSpeedAndPitchAudio on a (1, L) clip, given its drawn scale."""
    x = torch.from_numpy(wave).unsqueeze(0).unsqueeze(1)
    return F.interpolate(x, scale_factor=1.0 / (1 + change), mode="nearest").squeeze().numpy()


@pytest.mark.parametrize("length", [16000, 12345, 7])
def test_speed_change_matches_official_interpolation(length: int):
    wave = np.random.default_rng(length).standard_normal(length).astype(np.float32)
    for change in np.random.default_rng(1).uniform(-0.2, 0.2, 25).tolist() + [0.2, -0.2, 0.0]:
        assert np.array_equal(change_speed(wave, change), official_speed(wave, change))
    assert len(change_speed(wave, 0.25)) == int(length / 1.25)  # faster: shorter


def official_shift(wave: np.ndarray, shift: int) -> np.ndarray:
    """The official TimeshiftAudio body for a drawn shift."""
    x = torch.from_numpy(wave).unsqueeze(0)
    a, b = -min(0, shift), max(0, shift)
    x = F.pad(x, (a, b), "constant")
    return (x[:, : x.shape[1] - a] if a else x[:, b:]).squeeze(0).numpy()


def test_time_shift_by_hand_and_as_official():
    wave = np.arange(1, 6, dtype=np.float32)
    assert time_shift(wave, 2).tolist() == [3, 4, 5, 0, 0]  # earlier
    assert time_shift(wave, -2).tolist() == [0, 0, 1, 2, 3]  # later
    assert time_shift(wave, 0).tolist() == wave.tolist()
    assert not time_shift(wave, 7).any() and not time_shift(wave, -7).any()
    for shift in (3200, -3200, 17, -1, 5):
        assert np.array_equal(time_shift(wave, shift), official_shift(wave, shift))


def test_fix_length_pads_at_the_end_or_cuts():
    wave = np.arange(1, 4, dtype=np.float32)
    assert fix_length(wave, 5).tolist() == [1, 2, 3, 0, 0]
    assert fix_length(wave, 2).tolist() == [1, 2]


def _frequency(applied: list[bool]) -> float:
    return sum(applied) / len(applied)


def test_amplitude_probability_and_range():
    augment = SpeechAugment(**{**OFF, "amplitude_prob": 0.5})
    wave = np.ones(100, dtype=np.float32)
    gains = [augment(wave, np.random.default_rng(i))[0] for i in range(TRIALS)]
    applied = [gain != 1.0 for gain in gains]
    assert abs(_frequency(applied) - 0.5) < 0.1
    assert all(0.7 <= gain <= 1.1 for gain in gains)


def test_noise_probability_and_scale():
    augment = SpeechAugment(**{**OFF, "noise_prob": 0.3})
    wave = np.zeros(100, dtype=np.float32)
    noise = np.ones(1000, dtype=np.float32)
    scales = [augment(wave, np.random.default_rng(i), [noise])[0] for i in range(TRIALS)]
    assert abs(_frequency([s > 0 for s in scales]) - 0.3) < 0.1
    assert max(scales) <= 0.3
    with pytest.raises(ValueError, match="noise"):
        SpeechAugment(**{**OFF, "noise_prob": 1.0})(wave, np.random.default_rng(0))


def test_speed_probability_and_range():
    augment = SpeechAugment(**{**OFF, "speed_prob": 0.5})
    wave = np.zeros(16000, dtype=np.float32)
    lengths = [len(augment(wave, np.random.default_rng(i))) for i in range(TRIALS)]
    assert abs(_frequency([n != 16000 for n in lengths]) - 0.5) < 0.1
    # 1/(1 + c) for c in ±0.2: between 16000/1.2 and 16000/0.8 samples
    assert min(lengths) >= 13333 and max(lengths) <= 20000
    assert min(lengths) < 14000 and max(lengths) > 19000


def test_shift_probability_and_range():
    augment = SpeechAugment(**{**OFF, "shift_prob": 0.5})
    wave = np.zeros(16000, dtype=np.float32)
    wave[8000] = 1.0
    shifts = [8000 - int(np.argmax(augment(wave, np.random.default_rng(i)))) for i in range(TRIALS)]
    assert abs(_frequency([s != 0 for s in shifts]) - 0.5) < 0.1
    assert min(shifts) >= -3200 and max(shifts) <= 3200  # ±0.2 s
    assert min(shifts) < -2500 and max(shifts) > 2500


def test_same_generator_seed_same_result():
    wave = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    noises = [np.random.default_rng(1).standard_normal(40000).astype(np.float32)]
    augment = SpeechAugment(noise_prob=1.0, amplitude_prob=1.0, speed_prob=1.0, shift_prob=1.0)
    first = augment(wave, np.random.default_rng((0, 0, 5)), noises)
    assert np.array_equal(first, augment(wave, np.random.default_rng((0, 0, 5)), noises))
    assert not np.array_equal(
        first[:13000], augment(wave, np.random.default_rng((0, 0, 6)), noises)[:13000]
    )
