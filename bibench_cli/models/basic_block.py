"""The ResNet basic block (two 3×3 convs), shared by ResNet-20 and ResNet-18/34.

Parameter names follow torchvision (conv1, bn1, conv2, bn2, downsample.0/1) so published
checkpoints load. Each ReLU use site has its own module (``relu1``, ``relu2``) rather than
torchvision's single shared ``relu``, so a binarizer can swap each activation separately;
ReLU has no state, so state_dict keys are unchanged.
"""

from __future__ import annotations

import torch
from torch import nn


class BasicBlock(nn.Module):
    """conv3×3-BN-ReLU-conv3×3-BN, plus the shortcut, then ReLU.

    When the shape changes the shortcut is a 1×1 conv + BN projection ("option B" of He et
    al. 2016), the form torchvision and the official BiBench code use for every ResNet.
    """

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample: nn.Module | None = None
        if stride != 1 or in_planes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes),
            )
        self.relu2 = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu2(out + identity)
