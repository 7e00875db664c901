"""Is an algorithm deployable on a binary inference library? (BiBench Table 4)

Decided from what its layer classes declare (``inference_needs``) against what each library
in ``LIBRARIES`` runs, never from a list of algorithm names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bibench_cli.binarize import Algorithm, InferenceNeeds, get_algorithm

from .libraries import LIBRARIES


@dataclass(frozen=True)
class Verdict:
    """Deployable on at least one library (``libraries``), and the one-line reason."""

    deployable: bool
    libraries: tuple[str, ...]
    rule: str


def deployability(algorithm: str | Algorithm) -> Verdict:
    """The verdict for ``algorithm`` (a name or an Algorithm) from its layers' declarations."""
    algo = get_algorithm(algorithm)
    return layers_verdict(algo.name, algo.layers.values())


def layers_verdict(owner: str, layer_types: Iterable[type]) -> Verdict:
    """The verdict for a set of binarized layer classes (an algorithm's, or a model's)."""
    types = sorted(set(layer_types), key=lambda t: t.__name__)
    if not types:
        names = tuple(lib.name for lib in LIBRARIES)
        return Verdict(True, names, f"{owner}: binarizes nothing (a full-precision model)")
    undeclared = [t.__name__ for t in types if getattr(t, "inference_needs", None) is None]
    if undeclared:
        return Verdict(
            False,
            (),
            f"{owner}: {', '.join(undeclared)} declare no inference_needs, so deployability is "
            "unknown: not deployable (declare a bibench_cli.binarize.InferenceNeeds on the class)",
        )
    needs = [t.inference_needs for t in types]
    lacks = {lib.name: sorted({p for n in needs for p in lib.missing(n)}) for lib in LIBRARIES}
    libraries = tuple(name for name, missing in lacks.items() if not missing)
    runs = f"runs on {', '.join(libraries)}" if libraries else "no library runs it"
    gaps = "; ".join(f"{name} lacks {', '.join(m)}" for name, m in lacks.items() if m)
    rule = f"{owner}: {', '.join(_parts(needs))}; {runs}" + (f" ({gaps})" if gaps else "")
    return Verdict(bool(libraries), libraries, rule)


def _parts(needs: list[InferenceNeeds]) -> list[str]:
    """Table 4's columns for these declarations, in words."""
    scales = sorted({n.weight_scale for n in needs} - {"none"})
    parts = [
        f"{s}-wise FP32 weight scale" + (" folded into BN" if s != "spatial" else "")
        for s in scales
    ] or ["no weight scale"]
    if any(n.activation_rescaling for n in needs):
        parts.append("activation re-scaling")
    if any(n.activation_shift is not None for n in needs):
        parts.append("activation mean-shift")
    dropped = sorted({m for n in needs for m in n.training_only})
    if dropped:
        parts.append(f"training-only {', '.join(dropped)} dropped")
    return parts
