"""Log-mel features against torchaudio 2.9.1's output stored in tests/data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from bibench_cli.data.logmel import LogMelSpectrogram

REFERENCE = Path(__file__).parent / "data" / "speech_logmel.npz"


@pytest.fixture(scope="module")
def reference() -> tuple[torch.Tensor, np.ndarray]:
    """(1, 16000) waveform and torchaudio's MelSpectrogram(normalized=True) + AmplitudeToDB."""
    stored = np.load(REFERENCE)
    waveform = torch.from_numpy(stored["pcm_int16"].astype(np.float32) / 32768).unsqueeze(0)
    return waveform, stored["logmel_db"]


def test_matches_torchaudio_to_a_thousandth_of_a_db(reference):
    waveform, expected = reference
    features = LogMelSpectrogram()(waveform)
    assert features.shape == (1, 1, 32, 32)  # 16,000 samples, hop 512, centred: 32 frames
    assert features.dtype == torch.float32
    assert np.abs(features[0, 0].numpy() - expected).max() < 1e-3


def test_batch_items_are_independent_and_channel_dim_accepted(reference):
    waveform, _ = reference
    batch = torch.cat([waveform, 0.5 * waveform, torch.zeros_like(waveform)])
    features = LogMelSpectrogram()(batch.unsqueeze(1))
    assert features.shape == (3, 1, 32, 32)
    single = LogMelSpectrogram()(batch[1:2])
    torch.testing.assert_close(features[1:2], single)
    # halving the amplitude lowers power by 20·log10(2) dB wherever it is above the floor
    torch.testing.assert_close(features[1], features[0] - 20 * np.log10(2), atol=1e-3, rtol=0)
    # silence sits at the floor: 10·log10(1e-10) = -100 dB
    assert torch.all(features[2] == -100.0)


def test_buffers_stay_out_of_checkpoints():
    assert LogMelSpectrogram().state_dict() == {}


def test_rejects_unbatched_shapes():
    with pytest.raises(ValueError, match="batch"):
        LogMelSpectrogram()(torch.zeros(16000))
