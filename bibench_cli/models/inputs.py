"""What input an architecture accepts, checked before any layer is built.

Each architecture module declares one :class:`ImageInputSpec`; its constructor and the
registry's ``check_compatible`` both call :meth:`ImageInputSpec.check`, so a task/arch pair
is rejected with the same one-line message whether it is built or only planned.
"""

from __future__ import annotations

from dataclasses import dataclass

from bibench_cli.models.errors import IncompatibleError


@dataclass(frozen=True)
class ImageInputSpec:
    """Image inputs of any channel count whose side lies in ``min_size..max_size``.

    ``why`` says what the limit comes from, so the error teaches the constraint.
    """

    arch: str
    min_size: int = 1
    max_size: int | None = None
    multiple: int = 1
    why: str = ""

    def describe(self) -> str:
        """The compatible inputs, in words."""
        sizes = f"{self.min_size}..{self.max_size}" if self.max_size else f">= {self.min_size}"
        multiple = f", a multiple of {self.multiple}" if self.multiple > 1 else ""
        why = f" ({self.why})" if self.why else ""
        return f"square images with any channel count and image_size {sizes}{multiple}{why}"

    def check(self, *, in_channels: int, image_size: int, input_kind: str = "image") -> None:
        """Raise :class:`IncompatibleError` unless this input can go through the network."""
        size_ok = (
            image_size >= self.min_size
            and (self.max_size is None or image_size <= self.max_size)
            and image_size % self.multiple == 0
        )
        if input_kind == "image" and in_channels >= 1 and size_ok:
            return
        shown = (
            f"{input_kind} input {in_channels}×{image_size}×{image_size}"
            if input_kind == "image"
            else f"{input_kind} input"
        )
        raise IncompatibleError(
            f"architecture {self.arch!r} cannot take {shown}; it is compatible with "
            f"{self.describe()}"
        )
