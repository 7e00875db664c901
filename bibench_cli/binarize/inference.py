"""What a binarized layer computes at inference, in the terms of BiBench Table 4.

Binary inference libraries (Larq Compute Engine, daBNN) run sign(x) ⊛ sign(w) with
xnor-popcount and differ only in what they allow around it: a per-output-channel FP32
weight scale (folded into the following BatchNorm), an input-dependent activation re-scaling,
a fixed per-channel activation shift before the sign. Each built-in layer class declares
which of these it needs, so deployability is decided from the declaration rather than from
a list of algorithm names; a plug-in that declares nothing is "unknown", hence not deployable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

WeightScale = Literal["none", "layer", "channel", "spatial"]


@dataclass(frozen=True)
class InferenceNeeds:
    """Inference-time requirements of one binarized layer class.

    ``weight_scale``: granularity of the FP32 factor on the output of sign(x) ⊛ sign(w):
    none, one per layer, one per output channel (both foldable into the next BN), or one
    that varies over output positions (XNOR++'s Γ = α⊗β⊗γ, not foldable).
    ``activation_rescaling``: an output factor computed from each input (XNOR's K).
    ``activation_shift``: name of the parameter holding a fixed per-input-channel value
    subtracted before the sign (ReActNet's RSign threshold), or None.
    ``training_only``: names of submodules used only while training (dropped at deployment).
    """

    weight_scale: WeightScale = "none"
    activation_rescaling: bool = False
    activation_shift: str | None = None
    training_only: tuple[str, ...] = ()
