"""Which layers stay full precision."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase


@dataclass(frozen=True)
class BinarizePolicy:
    """Layer selection for ``binarize``.

    By default the stem (first conv/linear in module order) and the classifier (last one)
    stay full precision (paper A.6) and everything else is binarized, 1×1 downsample convs
    included. ``keep`` adds fnmatch globs on qualified module names (e.g. "layer1.*.conv2",
    "*downsample*") whose layers also stay full precision.
    """

    keep_first: bool = True
    keep_last: bool = True
    keep: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.keep, str):  # a lone pattern, not its characters
            object.__setattr__(self, "keep", (self.keep,))
        else:
            object.__setattr__(self, "keep", tuple(self.keep))

    def matching_pattern(self, name: str) -> str | None:
        """The first ``keep`` pattern matching ``name``, if any."""
        return next((p for p in self.keep if fnmatchcase(name, p)), None)
