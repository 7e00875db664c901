"""What a task feeds a model, and what an architecture accepts, checked before any layer is
built.

A task describes its input with an :class:`InputSpec` (image, points, spectrogram, tokens,
images with boxes) that also builds the example input used for shape inference and
complexity counting; an architecture declares an :class:`InputConstraint` that says
whether it can take that input, and why not in one line. Both live here, below the tasks
and the architectures, so either side can name the other's vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from bibench_cli.models.errors import IncompatibleError


class InputSpec:
    """A task's model input: its kind, a one-line description, an example batch."""

    kind: ClassVar[str]

    def describe(self) -> str:
        raise NotImplementedError

    def example(self, batch: int = 2) -> Any:
        """A batch of ``batch`` zero inputs, as the model's forward takes them."""
        raise NotImplementedError


@dataclass(frozen=True)
class ImageInput(InputSpec):
    """N×C×S×S images."""

    channels: int
    size: int
    kind: ClassVar[str] = "image"

    def describe(self) -> str:
        return f"image input {self.channels}×{self.size}×{self.size}"

    def example(self, batch: int = 2) -> torch.Tensor:
        return torch.zeros(batch, self.channels, self.size, self.size)


@dataclass(frozen=True)
class TokenInput(InputSpec):
    """N×T token ids with their segment (token type) ids and padding mask, BERT's three
    inputs. ``vocab_size`` is the tokenizer's, once the data has been read (None before)."""

    length: int
    vocab_size: int | None = None
    kind: ClassVar[str] = "tokens"

    def describe(self) -> str:
        vocabulary = f" from a vocabulary of {self.vocab_size}" if self.vocab_size else ""
        return f"token input of {self.length} ids per sequence{vocabulary}"

    def example(self, batch: int = 2) -> dict[str, torch.Tensor]:
        ids = torch.zeros(batch, self.length, dtype=torch.long)
        return {"input_ids": ids, "token_type_ids": ids, "attention_mask": torch.ones_like(ids)}


@dataclass(frozen=True)
class PointsInput(InputSpec):
    """N×C×P point clouds, channels first (xyz, then normals when C = 6), P points each."""

    channels: int
    points: int
    kind: ClassVar[str] = "points"

    def describe(self) -> str:
        return f"point clouds of {self.points} points × {self.channels} channels"

    def example(self, batch: int = 2) -> torch.Tensor:
        return torch.zeros(batch, self.channels, self.points)


@dataclass(frozen=True)
class PartPointsInput(InputSpec):
    """Point clouds to label point by point (part segmentation), with each shape's category
    index among ``categories`` (the model's one-hot width); ``categories = 0``: one model
    per category, which takes the points alone."""

    channels: int
    points: int
    categories: int
    kind: ClassVar[str] = "part_points"

    def describe(self) -> str:
        category = f" and a category index of {self.categories}" if self.categories else ""
        return f"per-point labelling of {self.points} points × {self.channels} channels{category}"

    def example(self, batch: int = 2) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        points = torch.zeros(batch, self.channels, self.points)
        return (points, torch.zeros(batch, dtype=torch.long)) if self.categories else points


@dataclass(frozen=True)
class SpectrogramInput(InputSpec):
    """N×C×F×T time-frequency features: C channels, F frequency bands, T frames (a task
    computes them from audio, e.g. Speech Commands' 1×32×32 log-mel spectrogram)."""

    channels: int
    bands: int
    frames: int
    kind: ClassVar[str] = "spectrogram"

    def describe(self) -> str:
        return (
            f"spectrogram input {self.channels}×{self.bands}×{self.frames} "
            "(channels × frequency bands × frames)"
        )

    def example(self, batch: int = 2) -> torch.Tensor:
        return torch.zeros(batch, self.channels, self.bands, self.frames)


@dataclass(frozen=True)
class DetectionInput(InputSpec):
    """RGB images of any size, each with boxes of ``classes`` (label 0 is the background): a
    detector's forward takes a list of 3×H×W tensors and resizes them itself.

    ``example`` images are ``height``×``width``, Faster R-CNN's official 1000×600 scale:
    complexity is counted on one of them as the detector's own resize leaves it (Faster
    R-CNN unchanged, SSD300 at 300×300).
    """

    classes: tuple[str, ...]
    height: int = 600
    width: int = 1000
    kind: ClassVar[str] = "detection"

    def describe(self) -> str:
        return (
            f"images with boxes of {len(self.classes)} classes "
            f"(counted on 3×{self.height}×{self.width})"
        )

    def example(self, batch: int = 2) -> tuple[list[torch.Tensor]]:
        return ([torch.zeros(3, self.height, self.width) for _ in range(batch)],)


@dataclass(frozen=True)
class TaskShape:
    """What a model must be built for: the input and the head sizes, passed to the
    architecture's builder as keyword arguments (e.g. ``num_classes``)."""

    input: InputSpec
    outputs: Mapping[str, int] = field(default_factory=dict)


class InputConstraint:
    """What an architecture accepts; :meth:`check` raises a one-line IncompatibleError."""

    def describe(self) -> str:
        raise NotImplementedError

    def accepts(self, spec: InputSpec) -> bool:
        raise NotImplementedError

    def check(self, arch: str, spec: InputSpec) -> None:
        if not self.accepts(spec):
            raise IncompatibleError(
                f"architecture {arch!r} cannot take {spec.describe()}; it is compatible with "
                f"{self.describe()}"
            )


@dataclass(frozen=True)
class ImageSizes(InputConstraint):
    """Image inputs of any channel count whose side lies in ``min_size..max_size``.

    ``why`` says what the limit comes from, so the error teaches the constraint.
    """

    min_size: int = 1
    max_size: int | None = None
    multiple: int = 1
    why: str = ""

    def describe(self) -> str:
        sizes = f"{self.min_size}..{self.max_size}" if self.max_size else f">= {self.min_size}"
        multiple = f", a multiple of {self.multiple}" if self.multiple > 1 else ""
        why = f" ({self.why})" if self.why else ""
        return f"square images with any channel count and image_size {sizes}{multiple}{why}"

    def accepts(self, spec: InputSpec) -> bool:
        if not isinstance(spec, ImageInput) or spec.channels < 1:
            return False
        size = spec.size
        in_range = size >= self.min_size and (self.max_size is None or size <= self.max_size)
        return in_range and size % self.multiple == 0


@dataclass(frozen=True)
class TokenSequences(InputConstraint):
    """Token inputs of at most ``max_length`` ids per sequence (``why`` says what sets it)."""

    max_length: int
    why: str = ""

    def describe(self) -> str:
        why = f" ({self.why})" if self.why else ""
        return f"token sequences of at most {self.max_length} ids{why}"

    def accepts(self, spec: InputSpec) -> bool:
        return isinstance(spec, TokenInput) and 1 <= spec.length <= self.max_length


@dataclass(frozen=True)
class PointClouds(InputConstraint):
    """Point clouds of at least ``min_channels`` channels, for classification or part
    segmentation (the head follows the input)."""

    min_channels: int = 3
    why: str = ""

    def describe(self) -> str:
        why = f" ({self.why})" if self.why else ""
        return f"point clouds with >= {self.min_channels} channels per point{why}"

    def accepts(self, spec: InputSpec) -> bool:
        return isinstance(spec, (PointsInput, PartPointsInput)) and (
            spec.channels >= self.min_channels
        )


@dataclass(frozen=True)
class Spectrograms(InputConstraint):
    """Spectrogram inputs of any size: for architectures that size their layers from the
    number of bands and frames (images are not spectrograms, even when square)."""

    def describe(self) -> str:
        return "spectrogram inputs of any channels × frequency bands × frames"

    def accepts(self, spec: InputSpec) -> bool:
        if not isinstance(spec, SpectrogramInput):
            return False
        return min(spec.channels, spec.bands, spec.frames) > 0


@dataclass(frozen=True)
class DetectionImages(InputConstraint):
    """A detector: images with boxes, of any size and label space."""

    def describe(self) -> str:
        return "detection tasks (images with boxes)"

    def accepts(self, spec: InputSpec) -> bool:
        return isinstance(spec, DetectionInput)
