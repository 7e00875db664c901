"""Turn a full-precision model into a binarized one, in place."""

from __future__ import annotations

from typing import Any

from torch import nn

from bibench_cli.errors import BibenchError

from .algorithm import Algorithm
from .base import BinaryModule
from .checkpoint import SWAPPED_ACTIVATION
from .policy import BinarizePolicy
from .probe import call_with, probing
from .registry import get_algorithm
from .report import BinarizeReport, LayerDecision

_CANDIDATES = (nn.modules.conv._ConvNd, nn.Linear)
_ACTIVATIONS = {"hardtanh": nn.Hardtanh, "prelu": nn.PReLU}
DECLARED = "declared by the architecture"


class UnmatchedPatternError(BibenchError, ValueError):
    """A keep or binarize pattern that names no conv/linear layer of the model (or a
    keep-activation pattern that names no ReLU)."""


def candidate_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The conv/linear layers a binarizer considers, in module order."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, _CANDIDATES)]


def _shown(names: list[str]) -> str:
    return ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")


def check_patterns(policy: BinarizePolicy, names: list[str]) -> None:
    """Raise one line naming each pattern that matches no layer, and the layers it could."""
    unmatched = policy.unmatched(names)
    if unmatched:
        shown = _shown(names)
        raise UnmatchedPatternError(
            f"keep/binarize pattern(s) {', '.join(map(repr, unmatched))} match no "
            f"conv/linear layer; the layers are: {shown}"
        )


def _reason_kept(
    name: str, module: nn.Module, index: int, last: int, algo: Algorithm, policy: BinarizePolicy
) -> str | None:
    """Why this conv/linear stays full precision, or None to binarize it."""
    if isinstance(module, BinaryModule):
        return "already binarized"
    if not algo.layers:
        return f"'{algo.name}' binarizes nothing"
    positional = not policy.overridden(name)
    if positional and policy.keep_first and index == 0:
        return "stem (first conv/linear)"
    if positional and policy.keep_last and index == last:
        return "classifier (last conv/linear)"
    pattern = policy.matching_pattern(name)
    if pattern is not None:
        return policy.reason(pattern)
    if type(module) not in algo.layers:
        return f"{type(module).__name__} not supported by '{algo.name}'"
    if not name:
        return "the root module cannot be replaced in place"
    return None


def binarize(
    model: nn.Module,
    algo: str | Algorithm,
    policy: BinarizePolicy | None = None,
    example_input: Any = None,
) -> BinarizeReport:
    """Swap conv/linear layers for ``algo``'s binarized variants, the modules the policy
    declares for their binarized replacements (any algorithm but one that binarizes nothing),
    and ReLU for the policy's activation (Hardtanh by default, except the ReLUs it keeps).

    Weights and biases are copied; extra parameters are initialised by the algorithm.
    Give ``example_input`` when an algorithm sizes parameters from the output shape
    (XNOR++): it runs ``materialize`` so every parameter exists before the optimizer.
    Raises :class:`UnmatchedPatternError` (nothing changed) for a keep or binarize pattern
    that matches no layer, or a keep-activation pattern that matches no ReLU.
    """
    algorithm = get_algorithm(algo)
    policy = policy or BinarizePolicy()
    report = BinarizeReport(algorithm.name)
    layers = candidate_layers(model)
    check_patterns(policy, [name for name, _ in layers])
    relus = [name for name, module in model.named_modules() if type(module) is nn.ReLU and name]
    unmatched = policy.unmatched_activations(relus)
    if unmatched:
        raise UnmatchedPatternError(
            f"keep-activation pattern(s) {', '.join(map(repr, unmatched))} match no ReLU; "
            f"the ReLUs are: {_shown(relus)}"
        )
    for index, (name, module) in enumerate(layers):
        reason = _reason_kept(name, module, index, len(layers) - 1, algorithm, policy)
        layer_type = type(module).__name__
        if reason is not None:
            report.decisions.append(LayerDecision(name, layer_type, False, reason))
            continue
        new = algorithm.layers[type(module)].from_float(module)
        model.set_submodule(name, new)
        report.decisions.append(LayerDecision(name, layer_type, True, "", type(new).__name__))
    if algorithm.layers:
        report.replaced = _replace_declared(model, policy)
    replacement = _ACTIVATIONS.get(policy.activation)
    if algorithm.replace_activations and replacement is not None:
        for name, module in list(model.named_modules()):
            if type(module) is not nn.ReLU or not name:
                continue
            reason = policy.kept_activation(name)
            if reason is not None:
                report.kept_activations[name] = reason
                continue
            # out of place: on CPU torch's in-place hardtanh clamps and copies, ~25% slower
            activation = replacement()
            setattr(activation, SWAPPED_ACTIVATION, True)  # its parameters are new
            model.set_submodule(name, activation)
            report.activations.append(name)
        report.activation = policy.activation
    if example_input is not None:
        materialize(model, example_input)
    report.needs_materialize = _pending_shapes(model)
    return report


def _replace_declared(model: nn.Module, policy: BinarizePolicy) -> list[LayerDecision]:
    """Swap every module whose exact type the policy maps to a binarized replacement."""
    replaced = []
    for name, module in list(model.named_modules()):
        replacement = policy.replacements.get(type(module))
        if replacement is None or not name:
            continue
        model.set_submodule(name, replacement.from_float(module))
        kind = type(module).__name__
        replaced.append(LayerDecision(name, kind, True, DECLARED, replacement.__name__))
    return replaced


def _pending_shapes(model: nn.Module) -> bool:
    return any(getattr(m, "shapes_pending", False) for m in model.modules())


def materialize(model: nn.Module, example_input: Any) -> None:
    """Size shape-dependent parameters with one no-grad, eval-mode forward.

    Layers opt in by defining ``infer_shapes(input)`` (and a ``shapes_pending`` flag).
    ``example_input`` is a tensor, a tuple of positional inputs or a dict of keyword
    inputs. BatchNorm statistics and training modes are left as they were.
    """
    layers = [m for m in model.modules() if hasattr(m, "infer_shapes")]
    if not layers:
        return
    hooks = [
        m.register_forward_pre_hook(lambda mod, args: mod.infer_shapes(args[0])) for m in layers
    ]
    with probing(model, hooks):
        call_with(model, example_input)
