"""The binary inference libraries of BiBench Table 4 and what each can run.

Both fold an FP32 per-output-channel weight scale into the BatchNorm that follows a binary
convolution (a per-layer scale is the special case of equal channels); neither computes an
input-dependent activation re-scaling or a scale that varies over output positions; only
Larq Compute Engine adds a fixed per-channel shift to activations before the sign.
"""

from __future__ import annotations

from dataclasses import dataclass

from bibench_cli.binarize import InferenceNeeds

FOLDABLE_SCALES = frozenset({"none", "layer", "channel"})


@dataclass(frozen=True)
class InferenceLibrary:
    """One library's support for the parts of a binarized layer beyond sign ⊛ sign."""

    name: str
    provider: str
    activation_mean_shift: bool
    activation_rescaling: bool = False

    def missing(self, needs: InferenceNeeds) -> list[str]:
        """The parts of ``needs`` this library cannot run (empty: it runs the layer)."""
        parts = []
        if needs.weight_scale not in FOLDABLE_SCALES:
            parts.append(f"{needs.weight_scale}-wise weight scale")
        if needs.activation_rescaling and not self.activation_rescaling:
            parts.append("activation re-scaling")
        if needs.activation_shift is not None and not self.activation_mean_shift:
            parts.append("activation mean-shift")
        return parts


LARQ = InferenceLibrary("Larq Compute Engine", "Larq", activation_mean_shift=True)
DABNN = InferenceLibrary("daBNN", "JD", activation_mean_shift=False)
LIBRARIES = (LARQ, DABNN)
