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
class Spectrograms(InputConstraint):
    """Spectrogram inputs of any size: for architectures that size their layers from the
    number of bands and frames (images are not spectrograms, even when square)."""

    def describe(self) -> str:
        return "spectrogram inputs of any channels × frequency bands × frames"

    def accepts(self, spec: InputSpec) -> bool:
        if not isinstance(spec, SpectrogramInput):
            return False
        return min(spec.channels, spec.bands, spec.frames) > 0
