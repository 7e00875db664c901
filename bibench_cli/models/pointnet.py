"""PointNet and PointNet-vanilla (Qi et al. 2017) as BiBench and BiPointNet binarize them.

Layout (official BiBench ``bipc`` backbone; BiPointNet's for part segmentation), every
conv a 1×1 ``nn.Conv1d`` over points, input (B, C, N) channels first, C = 3 or 6 (xyz +
normals, the normals passed on untransformed):

- T-Net(k) on c channels: conv 3→64 (c→64), 64→128, 128→1024, BN, aggregate, linear
  1024→512, 512→256, 256→k·k, + identity. BN and ReLU follow every conv/linear but the
  1024-wide one (BN only: the aggregator sees BN outputs) and the last (no BN).
- Classifier: input T-Net(3) · conv 64 · feature T-Net(64) · conv 128 · conv 1024 → BN
  (no activation) → aggregate → linear 512, 256 (BN + ReLU each) → classifier.
- Part segmentation (BiPointNet, with PointNet's category one-hot): input T-Net(3) · convs
  64, 128, 128 · T-Net(128) on the third · convs 512, 2048 → BN → aggregate; the 2048-d
  global feature (+ the 16-d one-hot of the shape's category) is tiled over the points
  and concatenated with the five conv outputs (the third before its transform):
  4928 (+16) channels → convs 256, 256, 128 → part classifier.
- PointNet-vanilla drops both T-Nets.

The task's input chooses the head: :class:`PointsInput` builds the classifier,
:class:`PartPointsInput` the part segmenter (with the category one-hot when it has
categories). Binarized runs keep full precision only in :func:`keep_patterns` of that head:
the first conv of the input T-Net, the first encoder conv and the (part) classifier. The
feature T-Net is binarized whole, its first conv and its 256→k² linear included, as in the
official code. No dropout and no feature-transform regulariser (the official binarized
configs use neither).
"""

from __future__ import annotations

from functools import lru_cache
from statistics import NormalDist

import torch
import torch.nn.functional as F
from torch import nn

from bibench_cli.binarize.base import ActivationMatmul
from bibench_cli.models.errors import IncompatibleError
from bibench_cli.models.inputs import PartPointsInput, PointClouds, PointsInput, TaskShape

AGGREGATIONS = ("ema_max", "max", "mean")
# Full precision in binarized runs, per head: fnmatch pattern -> why. The classifier's
# modules live under ``feat`` and end in ``fc``; the part segmenter's are flat, as in the
# official code. Each pattern must match a layer, so each head has its own.
KEEP = {
    "cls": {
        "feat.stn.conv1": "input T-Net's first conv",
        "feat.conv1": "first encoder conv",
        "fc": "classifier",
    },
    "partseg": {
        "stn.conv1": "input T-Net's first conv",
        "conv1": "first encoder conv",
        "convs4": "part classifier",
    },
}
INPUT_TNET = "stn.conv1"  # the pattern suffix PointNet-vanilla (no T-Nets) lacks
POINTNET_INPUTS = PointClouds(3, why="xyz first")
# a pretrained start for another class or part count leaves these fresh
HEAD_LAYERS = ("fc", "convs4")


def keep_patterns(head: str, tnets: bool) -> dict[str, str]:
    """The full-precision layers of a binarized PointNet (``tnets``) or PointNet-vanilla."""
    return {
        pattern: why
        for pattern, why in KEEP[head].items()
        if tnets or not pattern.endswith(INPUT_TNET)
    }


@lru_cache(maxsize=64)
def ema_max_offset(num_points: int) -> float:
    """BiPointNet's EMA-max shift δ*(N) = −Φ⁻¹(2^(−1/N)) for N points.

    The median of the max of N standard-normal features is Φ⁻¹(2^(−1/N)); subtracting it
    centres the aggregated (BN-normalised) features on 0, where sign() is informative.
    −3.2044 at 1024, −3.3988 at 2048, −3.5840 at 4096. The BiPointNet/BiBench code uses a table
    (−3.2041, −3.4025, −3.5836) for 1024/2048/4096 points only.
    """
    if num_points < 1:
        raise ValueError(f"EMA-max needs at least one point, got {num_points}")
    return -NormalDist().inv_cdf(2.0 ** (-1.0 / num_points))


class Aggregation(nn.Module):
    """Symmetric function over the points of (B, C, N) features, giving (B, C).

    ``ema_max`` (default, the paper's): max over points + δ*(N). The official BiBench
    configs actually all run plain ``max`` (their EMA-max branch would crash); ``mean`` is
    BiPointNet's other baseline. Max passes its gradient to one point per channel, as
    ``torch.max(x, 2)`` in the official code.
    """

    def __init__(self, mode: str) -> None:
        super().__init__()
        if mode not in AGGREGATIONS:
            raise ValueError(f"aggregation must be one of {', '.join(AGGREGATIONS)}, got {mode!r}")
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "mean":
            return x.mean(dim=-1)
        pooled = x.max(dim=-1).values
        return pooled + ema_max_offset(x.shape[-1]) if self.mode == "ema_max" else pooled

    def extra_repr(self) -> str:
        return self.mode


def _unit(in_channels: int, out_channels: int) -> tuple[nn.Conv1d, nn.BatchNorm1d]:
    return nn.Conv1d(in_channels, out_channels, 1), nn.BatchNorm1d(out_channels)


class TNet(nn.Module):
    """Predicts a k×k transform (identity + learned) from (B, in_channels, N) features."""

    def __init__(self, in_channels: int, k: int, aggregation: str) -> None:
        super().__init__()
        self.k = k
        self.conv1, self.bn1 = _unit(in_channels, 64)
        self.act1 = nn.ReLU()
        self.conv2, self.bn2 = _unit(64, 128)
        self.act2 = nn.ReLU()
        self.conv3, self.bn3 = _unit(128, 1024)
        self.pool = Aggregation(aggregation)
        self.fc1, self.bn4 = nn.Linear(1024, 512), nn.BatchNorm1d(512)
        self.act3 = nn.ReLU()
        self.fc2, self.bn5 = nn.Linear(512, 256), nn.BatchNorm1d(256)
        self.act4 = nn.ReLU()
        self.fc3 = nn.Linear(256, k * k)
        # "The output matrix is initialized as an identity matrix" (PointNet, supp. C), as
        # the authors' TF code does; the PyTorch ports (and BiBench) start from identity +
        # a random matrix. Binarized, that random part becomes ±1 weights summing 256
        # inputs: entries ~±16 that swamp the identity and change at every step. From
        # zero, binarizers that scale weights by mean|w| (XNOR, DoReFa, Bi-Real, ReActNet,
        # FDA) start at the identity and grow from there; unscaled ones (BNN, XNOR++ with
        # Γ = 1, ReCU) still jump to ±16 entries after the first step.
        nn.init.zeros_(self.fc3.weight)
        nn.init.zeros_(self.fc3.bias)
        self.register_buffer("identity", torch.eye(k).flatten(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act2(self.bn2(self.conv2(self.act1(self.bn1(self.conv1(x))))))
        x = self.pool(self.bn3(self.conv3(x)))
        x = self.act4(self.bn5(self.fc2(self.act3(self.bn4(self.fc1(x))))))
        return (self.fc3(x) + self.identity).view(-1, self.k, self.k)


class PointTransform(ActivationMatmul, nn.Module):
    """Apply a T-Net's (B, k, k) transform to the first k channels of (B, C, N) features as
    row vectors (x·T); the rest (normals) pass unchanged, as in the official code.

    A batched matmul of activations, floating point in binarized models too: an
    :class:`ActivationMatmul`, whose MACs the complexity counter takes as float FLOPs.
    """

    def forward(self, x: torch.Tensor, transform: torch.Tensor) -> torch.Tensor:
        k = transform.shape[-1]
        moved = torch.bmm(transform.transpose(1, 2), x[:, :k])
        return moved if x.shape[1] == k else torch.cat([moved, x[:, k:]], dim=1)


class PointNetEncoder(nn.Module):
    """(B, C, N) points to a (B, 1024) global feature (the official ``feat``)."""

    def __init__(self, in_channels: int, aggregation: str, tnets: bool) -> None:
        super().__init__()
        self.stn = TNet(in_channels, 3, aggregation) if tnets else None
        self.move_points = PointTransform() if tnets else None
        self.conv1, self.bn1 = _unit(in_channels, 64)
        self.act1 = nn.ReLU()
        self.fstn = TNet(64, 64, aggregation) if tnets else None
        self.move_features = PointTransform() if tnets else None
        self.conv2, self.bn2 = _unit(64, 128)
        self.act2 = nn.ReLU()
        self.conv3, self.bn3 = _unit(128, 1024)
        self.pool = Aggregation(aggregation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stn is not None:
            x = self.move_points(x, self.stn(x))
        x = self.act1(self.bn1(self.conv1(x)))
        if self.fstn is not None:
            x = self.move_features(x, self.fstn(x))
        x = self.act2(self.bn2(self.conv2(x)))
        return self.pool(self.bn3(self.conv3(x)))


class PointNetClassifier(nn.Module):
    """(B, C, N) points to (B, num_classes) logits."""

    def __init__(self, num_classes: int, in_channels: int, aggregation: str, tnets: bool) -> None:
        super().__init__()
        self.feat = PointNetEncoder(in_channels, aggregation, tnets)
        self.fc1, self.bn1 = nn.Linear(1024, 512), nn.BatchNorm1d(512)
        self.act1 = nn.ReLU()
        self.fc2, self.bn2 = nn.Linear(512, 256), nn.BatchNorm1d(256)
        self.act2 = nn.ReLU()
        self.fc = nn.Linear(256, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act1(self.bn1(self.fc1(self.feat(x))))
        return self.fc(self.act2(self.bn2(self.fc2(x))))


class PointNetPartSegmenter(nn.Module):
    """(B, C, N) points (+ (B,) category indices) to (B, num_parts, N) part logits.

    ``num_categories`` > 0 appends the category one-hot to the global feature (PointNet,
    one model for all categories); 0 drops it (BiPointNet, one model per category).
    """

    def __init__(
        self,
        num_parts: int,
        in_channels: int,
        aggregation: str,
        tnets: bool,
        num_categories: int,
    ) -> None:
        super().__init__()
        self.num_categories = num_categories
        self.stn = TNet(in_channels, 3, aggregation) if tnets else None
        self.move_points = PointTransform() if tnets else None
        self.conv1, self.bn1 = _unit(in_channels, 64)
        self.act1 = nn.ReLU()
        self.conv2, self.bn2 = _unit(64, 128)
        self.act2 = nn.ReLU()
        self.conv3, self.bn3 = _unit(128, 128)
        self.act3 = nn.ReLU()
        self.fstn = TNet(128, 128, aggregation) if tnets else None
        self.move_features = PointTransform() if tnets else None
        self.conv4, self.bn4 = _unit(128, 512)
        self.act4 = nn.ReLU()
        self.conv5, self.bn5 = _unit(512, 2048)
        self.pool = Aggregation(aggregation)
        concat = 2048 + num_categories + 64 + 128 + 128 + 512 + 2048
        self.convs1, self.bns1 = _unit(concat, 256)
        self.acts1 = nn.ReLU()
        self.convs2, self.bns2 = _unit(256, 256)
        self.acts2 = nn.ReLU()
        self.convs3, self.bns3 = _unit(256, 128)
        self.acts3 = nn.ReLU()
        self.convs4 = nn.Conv1d(128, num_parts, 1)

    def forward(self, x: torch.Tensor, category: torch.Tensor | None = None) -> torch.Tensor:
        if self.stn is not None:
            x = self.move_points(x, self.stn(x))
        out1 = self.act1(self.bn1(self.conv1(x)))
        out2 = self.act2(self.bn2(self.conv2(out1)))
        out3 = self.act3(self.bn3(self.conv3(out2)))
        moved = out3 if self.fstn is None else self.move_features(out3, self.fstn(out3))
        out4 = self.act4(self.bn4(self.conv4(moved)))
        out5 = self.bn5(self.conv5(out4))
        pooled = self.pool(out5)
        if self.num_categories:
            if category is None:
                raise ValueError("this part segmenter takes each shape's category index")
            one_hot = F.one_hot(category.long(), self.num_categories).to(pooled.dtype)
            pooled = torch.cat([pooled, one_hot], dim=1)
        tiled = pooled.unsqueeze(-1).expand(-1, -1, x.shape[-1])
        net = torch.cat([tiled, out1, out2, out3, out4, out5], dim=1)
        net = self.acts1(self.bns1(self.convs1(net)))
        net = self.acts2(self.bns2(self.convs2(net)))
        return self.convs4(self.acts3(self.bns3(self.convs3(net))))


def head_for(input: PointsInput | PartPointsInput) -> str:
    """``partseg`` for per-point labelling, else ``cls``."""
    return "partseg" if isinstance(input, PartPointsInput) else "cls"


def _build(
    tnets: bool, input: PointsInput | PartPointsInput, num_classes: int, aggregation: str
) -> nn.Module:
    POINTNET_INPUTS.check("pointnet" if tnets else "pointnet_vanilla", input)
    if aggregation not in AGGREGATIONS:
        raise IncompatibleError(
            f"arch.params.aggregation must be one of {', '.join(AGGREGATIONS)}, got {aggregation!r}"
        )
    if head_for(input) == "cls":
        return PointNetClassifier(num_classes, input.channels, aggregation, tnets)
    return PointNetPartSegmenter(num_classes, input.channels, aggregation, tnets, input.categories)


def pointnet(
    input: PointsInput | PartPointsInput, *, num_classes: int, aggregation: str = "ema_max"
) -> nn.Module:
    """PointNet with input and feature T-Nets for ``input``'s head. ``num_classes`` counts
    classes (classification) or parts (part segmentation: 50 for ShapeNet's global ids)."""
    return _build(True, input, num_classes, aggregation)


def pointnet_vanilla(
    input: PointsInput | PartPointsInput, *, num_classes: int, aggregation: str = "ema_max"
) -> nn.Module:
    """PointNet without T-Nets (the paper's PointNet-vanilla); options as :func:`pointnet`."""
    return _build(False, input, num_classes, aggregation)


def keep_for(tnets: bool):
    """An architecture's ``keep``: the full-precision layers of the head a task shape builds."""

    def keep(shape: TaskShape) -> dict[str, str]:
        return keep_patterns(head_for(shape.input), tnets)

    return keep
