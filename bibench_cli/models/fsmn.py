"""FSMN and Deep-FSMN keyword spotters on 1×32×32 log-mel inputs (BiBench's speech task).

``dfsmn`` is the official BiBench D-FSMN (``bispeech`` ``Dfsmn`` backbone with 8 layers and
a ``LinearClsHead``, 600,236 parameters): a two-conv 2-D front end (k5, stride 2, padding
2, 1→16→32 channels) takes 32 mels × 32 frames to 32×8×8, read as 8 frames of 256 features
(channel-major, mel-minor); ``fc1`` maps each frame to a 128-wide memory; 8 memory layers;
the 128×8 result is flattened (channel-major) into a linear classifier. One memory layer:

    memory = act(BN(depthwise Conv1d(x), kernel 5: 2 past + 2 future frames)) + x
    out    = act(BN(Conv1d 256→128 (act(BN(Conv1d 128→256 (memory))))))
    return out + memory                   (the skip connection between memory blocks)

The depthwise conv pads inside the layer (zeros after binarization); the official code
pads its input with ``F.pad`` before the conv, which is the same under its ``torch.sign``
(sign(0) = 0) but would turn padding into +1 under the paper's sign(0) = +1.

``fsmn`` has no official implementation: the BiBench release only ships D-FSMN. Following
Zhang et al. 2018 (Deep-FSMN), whose contribution over FSMN (Zhang et al. 2015) is the skip
connection between adjacent memory blocks, it is the same network without that skip:
each layer returns ``out``, so a memory block sees only the previous layer's projection
(the compact-FSMN form, memory = projection + its taps).

The first conv, ``fc1`` and the classifier stay full precision in binarized runs (the
official configs binarize only ``conv2d_cfg``/``conv1d_cfg`` layers): :data:`KEEP`.

Activations are separate ``nn.ReLU`` modules. Binarized runs replace each one with a PReLU
(:data:`ACTIVATION`), as every official binarized speech config does (``act_cfg=
dict(type='PReLU')``, built by mmcv as ``nn.PReLU()``: one learned slope per use site,
initialised at 0.25). The paper says Hardtanh for every architecture; the official
configs are what produced its speech numbers, so they decide here.

Layer sizes follow the input: ``fc1`` takes 2·frontend_channels·ceil(bands/4) features
and the head memory_size·ceil(frames/4), so a 1×32×32 log-mel input gives the official
256 and 1024.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from bibench_cli.models.inputs import SpectrogramInput

KEEP = {
    "conv1": "first front-end conv",
    "fc1": "frame projection (a plain nn.Linear in the official code)",
    "head": "classifier",
}
ACTIVATION = "prelu"  # what replaces ReLU in binarized runs (official speech configs)


class MemoryLayer(nn.Module):
    """One FSMN layer on (B, memory_size, T): memory block, then a 1×1 expand/project."""

    def __init__(self, memory_size: int, hidden_size: int, context: int, skip: bool) -> None:
        super().__init__()
        self.memory = nn.Conv1d(
            memory_size, memory_size, 2 * context + 1, padding=context, groups=memory_size
        )
        self.memory_bn = nn.BatchNorm1d(memory_size)
        self.memory_act = nn.ReLU(inplace=True)
        self.expand = nn.Conv1d(memory_size, hidden_size, 1)
        self.expand_bn = nn.BatchNorm1d(hidden_size)
        self.expand_act = nn.ReLU(inplace=True)
        self.project = nn.Conv1d(hidden_size, memory_size, 1)
        self.project_bn = nn.BatchNorm1d(memory_size)
        self.project_act = nn.ReLU(inplace=True)
        self.skip = skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        memory = self.memory_act(self.memory_bn(self.memory(x))) + x
        hidden = self.expand_act(self.expand_bn(self.expand(memory)))
        out = self.project_act(self.project_bn(self.project(hidden)))
        return out + memory if self.skip else out


class FSMN(nn.Module):
    """Conv front end, ``fc1``, memory ``layers``, linear ``head``; ``skip`` makes it D-FSMN.

    Input (B, in_channels, n_mels, frames) log-mel features; output (B, num_classes) logits.
    """

    def __init__(
        self,
        *,
        num_classes: int,
        skip: bool,
        in_channels: int = 1,
        n_mels: int = 32,
        frames: int = 32,
        frontend_channels: int = 16,
        memory_size: int = 128,
        hidden_size: int = 256,
        num_layers: int = 8,
        context: int = 2,
    ) -> None:
        super().__init__()
        wide = 2 * frontend_channels
        self.conv1 = nn.Conv2d(in_channels, frontend_channels, 5, stride=2, padding=2)
        self.bn1 = nn.BatchNorm2d(frontend_channels)
        self.act1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(frontend_channels, wide, 5, stride=2, padding=2)
        self.bn2 = nn.BatchNorm2d(wide)
        self.act2 = nn.ReLU(inplace=True)
        # two stride-2 convs: each side becomes ceil(side / 4)
        self.fc1 = nn.Linear(wide * math.ceil(n_mels / 4), memory_size)
        self.act_fc1 = nn.ReLU(inplace=True)
        self.layers = nn.Sequential(
            *(MemoryLayer(memory_size, hidden_size, context, skip) for _ in range(num_layers))
        )
        self.head = nn.Linear(memory_size * math.ceil(frames / 4), num_classes)
        # mmcls LinearClsHead's init; every other layer keeps PyTorch's default, as officially
        nn.init.normal_(self.head.weight, std=0.01)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act1(self.bn1(self.conv1(x)))
        x = self.act2(self.bn2(self.conv2(x)))  # (B, C, mels/4, frames/4)
        x = x.flatten(1, 2).transpose(1, 2)  # (B, frames/4, C·mels/4)
        x = self.act_fc1(self.fc1(x)).transpose(1, 2)  # (B, memory, frames/4)
        return self.head(self.layers(x).flatten(1))


def _build(input: SpectrogramInput, num_classes: int, skip: bool) -> FSMN:
    return FSMN(
        num_classes=num_classes,
        skip=skip,
        in_channels=input.channels,
        n_mels=input.bands,
        frames=input.frames,
    )


def dfsmn(input: SpectrogramInput, *, num_classes: int) -> FSMN:
    """The official BiBench D-FSMN (Zhang et al. 2018): 8 layers, memory 128, hidden 256."""
    return _build(input, num_classes, skip=True)


def fsmn(input: SpectrogramInput, *, num_classes: int) -> FSMN:
    """FSMN (Zhang et al. 2015): D-FSMN without the skips between memory blocks."""
    return _build(input, num_classes, skip=False)
