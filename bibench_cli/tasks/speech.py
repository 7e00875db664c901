"""Keyword spotting: Speech Commands with the paper's 12 classes (Table 12).

The datamodule hands out raw 1 s waveforms; :class:`SpeechModule` turns each batch into the
official 1×32×32 log-mel features on the training device (one batched STFT instead of one
per clip in the loader) before the model, so architectures take a spectrogram input and
never see audio. Loss and accuracy are the classification ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from bibench_cli.data.logmel import HOP_LENGTH, N_MELS, LogMelSpectrogram
from bibench_cli.data.speech_augment import CLIP_SAMPLES
from bibench_cli.data.speechcommands import CLASSES
from bibench_cli.data.speechcommands_datamodule import SpeechCommandsDataModule
from bibench_cli.data.speechcommands_demo import write_demo_speech_commands
from bibench_cli.models.inputs import SpectrogramInput, TaskShape
from bibench_cli.tasks.classification import TOP1, ClassificationModule
from bibench_cli.tasks.spec import TaskSpec

# centred frames of a 1 s clip: 1 + 16000 // 512 = 32
LOGMEL_INPUT = SpectrogramInput(channels=1, bands=N_MELS, frames=1 + CLIP_SAMPLES // HOP_LENGTH)


class SpeechModule(ClassificationModule):
    """Classification of waveform batches through the log-mel front end.

    The front end has no parameters and its buffers stay out of checkpoints, so the saved
    model is the architecture alone, as for every other task.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.features = LogMelSpectrogram()

    def forward(self, waveforms: torch.Tensor) -> torch.Tensor:
        return self.model(self.features(waveforms))


def speech_shape(data: Mapping[str, Any], datamodule: Any = None) -> TaskShape:
    """The same features and classes whatever the release version or silence mode."""
    return TaskShape(LOGMEL_INPUT, {"num_classes": len(CLASSES)})


def write_demo(root: Path, seed: int) -> str:
    release = write_demo_speech_commands(root, seed=seed)
    counts = ", ".join(f"{len(clips)} {split}" for split, clips in release.splits.items())
    return f"synthetic two-tone 'words' in the official layout at {release.directory} ({counts})"


TASKS = (
    TaskSpec(
        "speechcommands",
        SpeechCommandsDataModule,
        SpeechModule,
        (TOP1,),
        speech_shape,
        demo=write_demo,
    ),
)
