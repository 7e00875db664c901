"""The official BiBench speech features: a 32-band log-mel spectrogram of a 1 s clip.

The official pipeline runs ``torchaudio.transforms.MelSpectrogram(sample_rate=16000,
n_fft=2048, hop_length=512, n_mels=32, normalized=True)`` then ``AmplitudeToDB()`` per clip.
torchaudio is not a dependency here, so this module rebuilds the same values from
``torch.stft`` and its own HTK mel filterbank, and as an ``nn.Module`` it runs on a whole
batch on the training device: (B, 16000) waveforms give (B, 1, 32, 32) features.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

SAMPLE_RATE = 16_000
N_FFT = 2048
HOP_LENGTH = 512
N_MELS = 32
AMIN = 1e-10  # AmplitudeToDB's floor: 10·log10(max(x, 1e-10)) dB


def hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """HTK mel scale: 2595·log10(1 + f/700)."""
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    """Inverse of :func:`hz_to_mel`."""
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(
    n_freqs: int, n_mels: int, sample_rate: int, f_min: float = 0.0, f_max: float | None = None
) -> np.ndarray:
    """(n_freqs, n_mels) triangular filters, HTK scale, peak 1 (no area normalisation).

    Filter m rises linearly from centre m-1 to centre m and falls to centre m+1, the
    n_mels + 2 centres being equally spaced in mel between f_min and f_max (torchaudio's
    ``melscale_fbanks(..., norm=None, mel_scale="htk")``). Float64.
    """
    f_max = sample_rate / 2 if f_max is None else f_max
    bins = np.linspace(0, sample_rate // 2, n_freqs)
    centres = mel_to_hz(np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2))
    widths = np.diff(centres)
    offsets = centres[None, :] - bins[:, None]  # (n_freqs, n_mels + 2)
    rising = -offsets[:, :-2] / widths[:-1]
    falling = offsets[:, 2:] / widths[1:]
    return np.maximum(np.minimum(rising, falling), 0.0)


class LogMelSpectrogram(nn.Module):
    """Waveforms (B, samples) or (B, 1, samples) in [-1, 1) -> log-mel dB (B, 1, n_mels, T).

    Power spectrogram of a periodic Hann window, centred frames with reflect padding,
    divided by sum(window²) (``normalized=True``), mapped through the mel filterbank, then
    10·log10(max(x, 1e-10)). T = 1 + samples // hop_length: 32 frames for 16,000 samples.
    The window and filterbank are non-persistent buffers: they follow ``.to(device)`` but
    stay out of checkpoints.
    """

    def __init__(
        self,
        sample_rate: int = SAMPLE_RATE,
        n_fft: int = N_FFT,
        hop_length: int = HOP_LENGTH,
        n_mels: int = N_MELS,
    ) -> None:
        super().__init__()
        self.n_fft = n_fft
        self.hop_length = hop_length
        window = torch.hann_window(n_fft, periodic=True, dtype=torch.float64)
        fbank = torch.from_numpy(mel_filterbank(n_fft // 2 + 1, n_mels, sample_rate))
        self.register_buffer("window", window.float(), persistent=False)
        self.register_buffer("fbank", fbank.float(), persistent=False)
        self.power_scale = 1.0 / float(window.square().sum())

    def forward(self, waveform: Tensor) -> Tensor:
        if waveform.dim() == 3 and waveform.shape[1] == 1:
            waveform = waveform.squeeze(1)
        if waveform.dim() != 2:
            raise ValueError(
                f"expected waveforms (batch, samples) or (batch, 1, samples), "
                f"got shape {tuple(waveform.shape)}"
            )
        spectrum = torch.stft(
            waveform.float(),
            self.n_fft,
            hop_length=self.hop_length,
            window=self.window,
            center=True,
            pad_mode="reflect",
            return_complex=True,
        )
        power = spectrum.abs().square().mul_(self.power_scale)  # (B, freqs, T)
        mel = torch.matmul(power.transpose(1, 2), self.fbank).transpose(1, 2)
        return mel.clamp_min(AMIN).log10_().mul_(10.0).unsqueeze(1)
