"""Deployability verdicts against BiBench Table 4, from the layers' own declarations."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from bibench_cli.binarize import BinaryModule, get_algorithm
from bibench_cli.deploy import LIBRARIES, deployability

LARQ, DABNN = "Larq Compute Engine", "daBNN"
# Table 4 (and Table 3's "False" hardware entries): deployable, and on which libraries
# (ReActNet's activation mean-shift is supported by Larq only).
TABLE4 = {
    "bnn": (True, {LARQ, DABNN}),
    "xnor": (False, set()),
    "dorefa": (True, {LARQ, DABNN}),
    "bireal": (True, {LARQ, DABNN}),
    "xnorpp": (False, set()),
    "reactnet": (True, {LARQ}),
    "recu": (True, {LARQ, DABNN}),
    "fda": (True, {LARQ, DABNN}),
}


FP_LAYERS = {
    nn.Conv1d: lambda: nn.Conv1d(4, 6, 3),
    nn.Conv2d: lambda: nn.Conv2d(4, 6, 3),
    nn.Linear: lambda: nn.Linear(4, 6),
}


@pytest.mark.parametrize("algo", sorted(TABLE4))
def test_verdicts_match_table4(algo):
    verdict = deployability(algo)
    assert (verdict.deployable, set(verdict.libraries)) == TABLE4[algo]
    assert "\n" not in verdict.rule and verdict.rule.startswith(f"{algo}: ")


def test_rules_name_the_blocking_feature():
    assert "activation re-scaling" in deployability("xnor").rule
    assert "spatial-wise weight scale" in deployability("xnorpp").rule
    assert "daBNN lacks activation mean-shift" in deployability("reactnet").rule
    assert "weight_noise" in deployability("fda").rule
    assert [lib.name for lib in LIBRARIES] == [LARQ, DABNN]


def test_undeclared_plugin_is_unknown_hence_not_deployable():
    verdict = deployability("plugin_algo.halfsign:ALGORITHM")
    assert not verdict.deployable and verdict.libraries == ()
    assert "declare no inference_needs" in verdict.rule and "\n" not in verdict.rule


@pytest.mark.parametrize("algo", sorted(TABLE4))
def test_declarations_agree_with_the_operators(algo):
    """What each layer declares is what its forward does: a non-foldable output scale
    exactly when it scales outputs itself, the named shift parameter and training-only
    submodules exist, and eval-mode weights are ±s within each output channel with the
    declared granularity."""
    torch.manual_seed(0)
    for fp_type, layer_type in get_algorithm(algo).layers.items():
        needs = layer_type.inference_needs
        assert issubclass(layer_type, BinaryModule)
        layer = layer_type.from_float(FP_LAYERS[fp_type]()).eval()
        unfoldable = needs.activation_rescaling or needs.weight_scale == "spatial"
        assert layer_type.scales_output == unfoldable
        if needs.activation_shift is not None:
            assert isinstance(getattr(layer, needs.activation_shift), nn.Parameter)
        for name in needs.training_only:
            assert isinstance(getattr(layer, name), nn.Module)
        with torch.no_grad():
            magnitude = layer.binarize_weight(layer.weight).abs().flatten(1)
        per_channel = magnitude.amax(1, keepdim=True)
        assert torch.equal(magnitude, per_channel.expand_as(magnitude))
        distinct = per_channel.unique().numel()
        assert distinct == 1 if needs.weight_scale in ("none", "layer", "spatial") else distinct > 1
        if needs.weight_scale in ("none", "spatial"):
            assert bool((per_channel == 1).all())
