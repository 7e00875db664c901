"""The deploy form of a binarized model: a static eval-mode graph with ±1 layers.

The model (a copy, in eval mode) is traced with torch.fx, binarized layers kept as leaves;
each becomes a ``BinaryLayerInference`` and, when its output goes only to a BatchNorm, its
channel scale and bias are folded into that BatchNorm (which stays a separate layer);
everything else (full-precision stem and classifier, BN, Hardtanh, pooling, residual adds)
is kept as it is. A forward that torch.fx cannot trace (data-dependent control flow) or a
layer that declares no ``inference_needs`` is refused with one line. Non-deployable
algorithms (Table 4) are still converted, keeping their extra parts, for correctness only.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass

import torch
from torch import Tensor, fx, nn

from bibench_cli.binarize import BinaryModule
from bibench_cli.binarize.probe import probing

from .batchnorm import can_fold_into, fold_channel_affine
from .binary_layer import BinaryLayerInference
from .errors import DeployError
from .verdict import Verdict, layers_verdict


@dataclass
class DeployForm:
    """The deployed graph, for ``input_shape`` inputs, and whether a library can run it."""

    module: fx.GraphModule
    verdict: Verdict
    input_shape: tuple[int, ...]
    binary_layers: tuple[str, ...]
    folded_into_bn: tuple[str, ...]

    @property
    def correctness_only(self) -> bool:
        """True when no binary inference library can run it (exported to check numbers)."""
        return not self.verdict.deployable

    def __call__(self, x: Tensor) -> Tensor:
        with torch.no_grad():
            return self.module(x)


class _BinaryLeafTracer(fx.Tracer):
    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return isinstance(m, BinaryModule) or super().is_leaf_module(m, qualname)


def deploy_form(model: nn.Module, example_input: Tensor, name: str | None = None) -> DeployForm:
    """The deploy form of ``model`` for inputs shaped like ``example_input`` (a batch).

    The input size is fixed: padding corrections and XNOR++'s Γ depend on it. ``name`` is
    what the verdict's rule names (a run's algorithm), the model's class by default.
    """
    owner = type(model).__name__
    layer_types = {type(m) for m in model.modules() if isinstance(m, BinaryModule)}
    verdict = layers_verdict(name or owner, layer_types)
    if any(getattr(t, "inference_needs", None) is None for t in layer_types):
        raise DeployError(f"cannot build a deploy form: {verdict.rule}")
    graph_module = _trace(copy.deepcopy(model).eval().requires_grad_(False), owner)
    input_shapes = _binary_input_shapes(graph_module, example_input, owner)
    modules = dict(graph_module.named_modules())
    calls = Counter(n.target for n in graph_module.graph.nodes if n.op == "call_module")
    binary, folded = [], []
    for node in graph_module.graph.nodes:
        if node.op != "call_module" or not isinstance(modules[node.target], BinaryModule):
            continue
        if calls[node.target] > 1:
            raise DeployError(
                f"binarized layer '{node.target}' is called {calls[node.target]} times in one "
                "forward; the deploy form needs one call per binarized layer"
            )
        layer = BinaryLayerInference.from_layer(
            modules[node.target], input_shapes[node.target], node.target
        )
        bn_name = _sole_batchnorm_consumer(node, modules, calls)
        if bn_name is not None and (layer.scale is not None or layer.bias is not None):
            graph_module.set_submodule(
                bn_name, fold_channel_affine(modules[bn_name], layer.scale, layer.bias)
            )
            layer.scale = layer.bias = None
            folded.append(node.target)
        graph_module.set_submodule(node.target, layer)
        binary.append(node.target)
    return DeployForm(
        graph_module.eval(), verdict, tuple(example_input.shape), tuple(binary), tuple(folded)
    )


def _trace(model: nn.Module, owner: str) -> fx.GraphModule:
    try:
        graph = _BinaryLeafTracer().trace(model)
    except Exception as err:  # any tracing failure means: not a static graph
        raise DeployError(
            f"cannot express {owner}.forward as a static graph for deployment (torch.fx: "
            f"{_first_line(err)}); data-dependent control flow cannot be exported"
        ) from err
    return fx.GraphModule(model, graph, class_name=f"Deployed{owner}")


def _binary_input_shapes(
    graph_module: fx.GraphModule, example_input: Tensor, owner: str
) -> dict[str, torch.Size]:
    """The input shape of every binarized layer, from one eval forward of the example."""
    shapes: dict[str, torch.Size] = {}

    def record(name: str):
        def hook(module: nn.Module, args: tuple) -> None:
            shapes[name] = args[0].shape

        return hook

    hooks = [
        module.register_forward_pre_hook(record(name))
        for name, module in graph_module.named_modules()
        if isinstance(module, BinaryModule)
    ]
    try:
        with probing(graph_module, hooks):
            graph_module(example_input)
    except Exception as err:
        raise DeployError(
            f"an input of shape {tuple(example_input.shape)} does not run through {owner}: "
            f"{_first_line(err)}"
        ) from err
    return shapes


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _sole_batchnorm_consumer(
    node: fx.Node, modules: dict[str, nn.Module], calls: Counter
) -> str | None:
    """The BatchNorm that alone consumes ``node``'s output (and runs once), if any."""
    if len(node.users) != 1:
        return None
    (user,) = node.users
    if user.op != "call_module" or user.args[0] is not node or calls[user.target] != 1:
        return None
    return user.target if can_fold_into(modules[user.target]) else None
