"""What a registered binarization algorithm is: a name and a layer mapping."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from torch import nn


@dataclass(frozen=True, eq=False)
class Algorithm:
    """A binarization algorithm as the converter sees it.

    ``layers`` maps a full-precision layer type (matched exactly, so user subclasses with
    their own forward are never swapped) to the binarized class that replaces it.
    ``replace_activations`` swaps nn.ReLU for the architecture's binarized-run activation
    (paper section 4). Built-in algorithms are described in ``conf/algo/*.yaml`` (what
    ``bibench list`` shows); a plug-in may describe itself here.
    """

    name: str
    description: str = ""
    layers: Mapping[type[nn.Module], type[nn.Module]] = field(default_factory=dict)
    replace_activations: bool = True

    def __str__(self) -> str:
        return f"{self.name}: {self.description}" if self.description else self.name
