"""What ``binarize`` did, layer by layer."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LayerDecision:
    """One conv/linear layer: binarized (into ``new_type``) or kept, and why."""

    name: str
    layer_type: str
    binarized: bool
    reason: str
    new_type: str | None = None


@dataclass
class BinarizeReport:
    """Per-layer decisions, the architecture's declared module replacements and the ReLU
    swaps of one ``binarize`` call."""

    algorithm: str
    decisions: list[LayerDecision] = field(default_factory=list)
    replaced: list[LayerDecision] = field(default_factory=list)  # policy.replacements swaps
    activations: list[str] = field(default_factory=list)  # ReLUs replaced by ``activation``
    kept_activations: dict[str, str] = field(default_factory=dict)  # ReLU left alone -> why
    activation: str = "hardtanh"
    needs_materialize: bool = False

    @property
    def binarized(self) -> list[str]:
        return [d.name for d in self.decisions if d.binarized]

    @property
    def kept(self) -> dict[str, str]:
        """Full-precision layer name -> reason."""
        return {d.name: d.reason for d in self.decisions if not d.binarized}

    def __str__(self) -> str:
        summary = (
            f"binarize '{self.algorithm}': {len(self.binarized)} layers binarized, "
            f"{len(self.kept)} kept full precision, "
            f"{len(self.activations)} ReLU -> {self.activation}"
        )
        if self.replaced:
            summary += f", {len(self.replaced)} modules replaced as the architecture declares"
        if self.kept_activations:
            summary += f", {len(self.kept_activations)} ReLU kept"
        lines = [summary]
        rows = [*self.decisions, *self.replaced]
        width = max((len(d.name) for d in rows), default=0)
        type_width = max((len(d.layer_type) for d in rows), default=0)
        for d in rows:
            what = f"-> {d.new_type}" if d.binarized else f"kept: {d.reason}"
            if d.binarized and d.reason:
                what += f" ({d.reason})"
            lines.append(f"  {d.name:<{width}}  {d.layer_type:<{type_width}}  {what}")
        for name, reason in self.kept_activations.items():
            lines.append(f"  {name:<{width}}  {'ReLU':<{type_width}}  kept: {reason}")
        if self.needs_materialize:
            lines.append("  (call materialize(model, example_input) before training)")
        return "\n".join(lines)
